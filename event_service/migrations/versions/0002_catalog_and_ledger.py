"""service catalog, events, occurrences, sessions, pools and the seat ledger

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SCHEMA = "event_service"


def upgrade() -> None:
    op.create_table(
        "services",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("display_name", sa.Text, nullable=False),
        sa.Column("default_capacity", sa.Integer, nullable=False),
        sa.Column("default_booking_window_days", sa.Integer, nullable=False),
        sa.Column("default_duration_minutes", sa.Integer, nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        schema=SCHEMA,
    )
    op.create_table(
        "events",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("title_key", sa.Text, nullable=False),
        sa.Column("venue_id", sa.Text, sa.ForeignKey(f"{SCHEMA}.venues.id"), nullable=False),
        sa.Column("capacity", sa.Integer, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("first_date", sa.Date, nullable=False),
        sa.Column("frequency", sa.Text),
        sa.Column("interval", sa.Integer),
        sa.Column("until_date", sa.Date),
        sa.Column("count", sa.Integer),
        sa.Column("time_zone", sa.Text, nullable=False),
        sa.Column("max_sessions_per_participant", sa.Integer),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("materialized_until", sa.Date),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.BigInteger, nullable=False),
        schema=SCHEMA,
    )
    op.create_index("events_status", "events", ["status"], schema=SCHEMA)
    op.create_table(
        "session_templates",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("event_id", sa.Text, sa.ForeignKey(f"{SCHEMA}.events.id", ondelete="CASCADE"), nullable=False),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("service_id", sa.Text, sa.ForeignKey(f"{SCHEMA}.services.id"), nullable=False),
        sa.Column("start_time", sa.Time, nullable=False),
        sa.Column("duration_minutes", sa.Integer, nullable=False),
        sa.Column("capacity", sa.Integer, nullable=False),
        sa.Column("booking_window_days", sa.Integer, nullable=False),
        sa.UniqueConstraint("event_id", "key", name="session_templates_event_key_unique"),
        schema=SCHEMA,
    )
    op.create_table(
        "pool_templates",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("event_id", sa.Text, sa.ForeignKey(f"{SCHEMA}.events.id", ondelete="CASCADE"), nullable=False),
        sa.Column("display_name", sa.Text, nullable=False),
        sa.Column("limit", sa.Integer, nullable=False),
        sa.Column("template_ids", sa.ARRAY(sa.Text), nullable=False),
        schema=SCHEMA,
    )
    op.create_table(
        "occurrences",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("event_id", sa.Text, sa.ForeignKey(f"{SCHEMA}.events.id", ondelete="CASCADE"), nullable=False),
        sa.Column("date", sa.Date, nullable=False),
        sa.Column("capacity", sa.Integer, nullable=False),
        sa.Column("participants", sa.Integer, nullable=False, server_default="0"),
        sa.UniqueConstraint("event_id", "date", name="occurrences_event_date_unique"),
        sa.CheckConstraint("participants >= 0", name="occurrences_participants_not_negative"),
        schema=SCHEMA,
    )
    op.create_table(
        "sessions",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("occurrence_id", sa.Text, sa.ForeignKey(f"{SCHEMA}.occurrences.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("event_id", sa.Text, sa.ForeignKey(f"{SCHEMA}.events.id", ondelete="CASCADE"), nullable=False),
        sa.Column("template_id", sa.Text, sa.ForeignKey(f"{SCHEMA}.session_templates.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("service_id", sa.Text, sa.ForeignKey(f"{SCHEMA}.services.id"), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("capacity", sa.Integer, nullable=False),
        sa.Column("booking_window_days", sa.Integer, nullable=False),
        sa.Column("held", sa.Integer, nullable=False, server_default="0"),
        sa.Column("confirmed", sa.Integer, nullable=False, server_default="0"),
        sa.Column("version", sa.BigInteger, nullable=False, server_default="1"),
        sa.CheckConstraint("held >= 0 AND confirmed >= 0", name="sessions_counts_not_negative"),
        schema=SCHEMA,
    )
    op.create_index("sessions_starts_at", "sessions", ["starts_at"], schema=SCHEMA)
    op.create_index("sessions_event_starts_at", "sessions", ["event_id", "starts_at"], schema=SCHEMA)
    op.create_table(
        "pools",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("occurrence_id", sa.Text, sa.ForeignKey(f"{SCHEMA}.occurrences.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("template_id", sa.Text, sa.ForeignKey(f"{SCHEMA}.pool_templates.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("display_name", sa.Text, nullable=False),
        sa.Column("limit", sa.Integer, nullable=False),
        sa.Column("used", sa.Integer, nullable=False, server_default="0"),
        sa.CheckConstraint("used >= 0", name="pools_used_not_negative"),
        schema=SCHEMA,
    )
    op.create_table(
        "pool_sessions",
        sa.Column("pool_id", sa.Text, sa.ForeignKey(f"{SCHEMA}.pools.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("session_id", sa.Text, sa.ForeignKey(f"{SCHEMA}.sessions.id", ondelete="CASCADE"),
                  primary_key=True),
        schema=SCHEMA,
    )
    op.create_index("pool_sessions_session", "pool_sessions", ["session_id"], schema=SCHEMA)
    op.create_table(
        "seats",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("session_id", sa.Text, sa.ForeignKey(f"{SCHEMA}.sessions.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("occurrence_id", sa.Text, sa.ForeignKey(f"{SCHEMA}.occurrences.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("participant_id", sa.Text, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True)),
        sa.Column("capacity_override", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        schema=SCHEMA,
    )
    op.create_index("seats_one_live_per_participant", "seats", ["session_id", "participant_id"], unique=True,
                    postgresql_where=sa.text("state IN ('held', 'confirmed')"), schema=SCHEMA)
    op.create_index("seats_held_expiry", "seats", ["expires_at"], postgresql_where=sa.text("state = 'held'"),
                    schema=SCHEMA)
    op.create_index("seats_participant", "seats", ["participant_id"], schema=SCHEMA)
    op.create_table(
        "occurrence_participants",
        sa.Column("occurrence_id", sa.Text, sa.ForeignKey(f"{SCHEMA}.occurrences.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("participant_id", sa.Text, primary_key=True),
        sa.Column("live", sa.Integer, nullable=False),
        sa.CheckConstraint("live > 0", name="occurrence_participants_live_positive"),
        schema=SCHEMA,
    )


def downgrade() -> None:
    for table in ("occurrence_participants", "seats", "pool_sessions", "pools", "sessions", "occurrences",
                  "pool_templates", "session_templates", "events", "services"):
        op.drop_table(table, schema=SCHEMA)
