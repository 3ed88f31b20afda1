"""rounds: the event's rounds format and each occurrence's rounds schedule

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23

`events.rounds` is the event's rounds format (JSONB `{"round_minutes", "break_minutes",
"group_size"}`), NULL when it does not run in rounds. `occurrence_rounds` holds the schedule
made once per occurrence (ScheduleOccurrenceRounds): the format it was made with, the seed
(an unsigned 64-bit integer, which BIGINT cannot hold: NUMERIC(20)), and the groups with
their timed rounds as JSONB.
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

SCHEMA = "event_service"


def upgrade() -> None:
    op.add_column("events", sa.Column("rounds", postgresql.JSONB), schema=SCHEMA)
    op.create_table(
        "occurrence_rounds",
        sa.Column("occurrence_id", sa.Text, sa.ForeignKey(f"{SCHEMA}.occurrences.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("event_id", sa.Text, sa.ForeignKey(f"{SCHEMA}.events.id", ondelete="CASCADE"), nullable=False),
        sa.Column("format", postgresql.JSONB, nullable=False),
        sa.Column("seed", sa.Numeric(20, 0), nullable=False),
        sa.Column("schedule", postgresql.JSONB, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_table("occurrence_rounds", schema=SCHEMA)
    op.drop_column("events", "rounds", schema=SCHEMA)
