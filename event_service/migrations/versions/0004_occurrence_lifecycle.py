"""the occurrence lifecycle: state, the scheduler's work queue, the event's lifecycle policy

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23

`occurrences.next_due_at` is the scheduler's work queue: the next moment something may be due
for the occurrence (NULL once it is finished or cancelled). New occurrences and occurrences
whose sessions moved get `now()`, so the next scheduler pass works out their timetable from
their sessions (start = min(starts_at), end = max(ends_at)); existing ones are queued the same way.
`occurrences.version` is the occurrence's aggregate version on turnout.catalog.v1;
`occurrences.reminders_sent` the offsets (seconds before the start) of the reminders published.
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

SCHEMA = "event_service"
STATES = "'scheduled', 'confirming', 'ready', 'running', 'finished', 'cancelled'"


def upgrade() -> None:
    op.add_column("occurrences", sa.Column("state", sa.Text, nullable=False, server_default="scheduled"),
                  schema=SCHEMA)
    op.add_column("occurrences", sa.Column("state_changed_at", sa.DateTime(timezone=True)), schema=SCHEMA)
    op.add_column("occurrences", sa.Column("next_due_at", sa.DateTime(timezone=True), server_default=sa.text("now()")),
                  schema=SCHEMA)
    op.add_column("occurrences", sa.Column("version", sa.BigInteger, nullable=False, server_default="1"),
                  schema=SCHEMA)
    op.add_column("occurrences", sa.Column("reminders_sent", postgresql.ARRAY(sa.Integer), nullable=False,
                                           server_default="{}"), schema=SCHEMA)
    op.create_check_constraint("occurrences_state_known", "occurrences", f"state IN ({STATES})", schema=SCHEMA)
    op.create_index("occurrences_next_due_at", "occurrences", ["next_due_at"], schema=SCHEMA,
                    postgresql_where=sa.text("next_due_at IS NOT NULL"))
    op.add_column("events", sa.Column("lifecycle", postgresql.JSONB), schema=SCHEMA)


def downgrade() -> None:
    op.drop_column("events", "lifecycle", schema=SCHEMA)
    op.drop_index("occurrences_next_due_at", table_name="occurrences", schema=SCHEMA)
    op.drop_constraint("occurrences_state_known", "occurrences", schema=SCHEMA)
    for column in ("reminders_sent", "version", "next_due_at", "state_changed_at", "state"):
        op.drop_column("occurrences", column, schema=SCHEMA)
