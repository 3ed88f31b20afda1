"""event_service's tables, all in its own schema. The Alembic revisions in
`event_service/migrations/versions/` create exactly these."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from kernel.db import idempotency_table, outbox_table

SCHEMA = "event_service"

metadata = sa.MetaData(schema=SCHEMA)

venues = sa.Table(
    "venues",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("display_name", sa.Text, nullable=False),
    # casefold() in Python: the database's lower() depends on its locale (C leaves Cyrillic as is).
    sa.Column("name_key", sa.Text, nullable=False),
    sa.Column("address", sa.Text, nullable=False, server_default=""),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("version", sa.BigInteger, nullable=False, server_default="1"),
    sa.UniqueConstraint("name_key", name="venues_name_key_unique"),
)

# The service catalog, loaded from event_service/data/services.json.
services = sa.Table(
    "services",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),  # slug, e.g. "laundry"
    sa.Column("display_name", sa.Text, nullable=False),
    sa.Column("default_capacity", sa.Integer, nullable=False),
    sa.Column("default_booking_window_days", sa.Integer, nullable=False),
    sa.Column("default_duration_minutes", sa.Integer, nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
)

events = sa.Table(
    "events",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("title_key", sa.Text, nullable=False),  # casefolded, for search
    sa.Column("venue_id", sa.Text, sa.ForeignKey("venues.id"), nullable=False),
    sa.Column("capacity", sa.Integer, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),  # one_off | recurring
    sa.Column("first_date", sa.Date, nullable=False),
    sa.Column("frequency", sa.Text),  # daily | weekly | monthly (recurring only)
    sa.Column("interval", sa.Integer),
    sa.Column("until_date", sa.Date),
    sa.Column("count", sa.Integer),
    sa.Column("time_zone", sa.Text, nullable=False),
    sa.Column("max_sessions_per_participant", sa.Integer),  # NULL: no limit
    # The occurrence lifecycle policy (offsets in seconds, see application/lifecycle.py); NULL: the defaults.
    sa.Column("lifecycle", postgresql.JSONB),
    # The rounds format ({"round_minutes", "break_minutes", "group_size"}); NULL: no rounds.
    sa.Column("rounds", postgresql.JSONB),
    sa.Column("status", sa.Text, nullable=False),  # active | archived
    sa.Column("materialized_until", sa.Date),  # occurrences exist up to this date
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("version", sa.BigInteger, nullable=False),
    sa.Index("events_status", "status"),
)

session_templates = sa.Table(
    "session_templates",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("event_id", sa.Text, sa.ForeignKey("events.id", ondelete="CASCADE"), nullable=False),
    sa.Column("key", sa.Text, nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("service_id", sa.Text, sa.ForeignKey("services.id"), nullable=False),
    sa.Column("start_time", sa.Time, nullable=False),  # local, in the event's time zone
    sa.Column("duration_minutes", sa.Integer, nullable=False),
    sa.Column("capacity", sa.Integer, nullable=False),
    sa.Column("booking_window_days", sa.Integer, nullable=False),
    sa.UniqueConstraint("event_id", "key", name="session_templates_event_key_unique"),
)

pool_templates = sa.Table(
    "pool_templates",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("event_id", sa.Text, sa.ForeignKey("events.id", ondelete="CASCADE"), nullable=False),
    sa.Column("display_name", sa.Text, nullable=False),
    sa.Column("limit", sa.Integer, nullable=False),
    sa.Column("template_ids", sa.ARRAY(sa.Text), nullable=False),
)

occurrences = sa.Table(
    "occurrences",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),  # uuid5(event id, date): stable
    sa.Column("event_id", sa.Text, sa.ForeignKey("events.id", ondelete="CASCADE"), nullable=False),
    sa.Column("date", sa.Date, nullable=False),
    sa.Column("capacity", sa.Integer, nullable=False),  # the event capacity
    sa.Column("participants", sa.Integer, nullable=False, server_default="0"),  # distinct, live
    # The lifecycle (event_service/domain/lifecycle.py): scheduled -> confirming -> ready -> running -> finished,
    # or cancelled.
    sa.Column("state", sa.Text, nullable=False, server_default="scheduled"),
    sa.Column("state_changed_at", sa.DateTime(timezone=True)),  # NULL: scheduled since it was created
    # The scheduler's work queue: when something may next be due; NULL when nothing ever will
    # (finished, cancelled). New rows and rows whose sessions moved get now(): the next pass
    # works their timetable out from their sessions.
    sa.Column("next_due_at", sa.DateTime(timezone=True), server_default=sa.text("now()")),
    # The occurrence's aggregate version on turnout.catalog.v1 (OccurrenceStateChanged).
    sa.Column("version", sa.BigInteger, nullable=False, server_default="1"),
    # Offsets (seconds before the start) of the reminders published (OccurrenceReminderDue).
    sa.Column("reminders_sent", postgresql.ARRAY(sa.Integer), nullable=False, server_default="{}"),
    sa.UniqueConstraint("event_id", "date", name="occurrences_event_date_unique"),
    sa.CheckConstraint("participants >= 0", name="occurrences_participants_not_negative"),
    sa.CheckConstraint("state IN ('scheduled', 'confirming', 'ready', 'running', 'finished', 'cancelled')",
                       name="occurrences_state_known"),
    sa.Index("occurrences_next_due_at", "next_due_at", postgresql_where=sa.text("next_due_at IS NOT NULL")),
)

sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),  # uuid5(occurrence id, template id): stable
    sa.Column("occurrence_id", sa.Text, sa.ForeignKey("occurrences.id", ondelete="CASCADE"), nullable=False),
    sa.Column("event_id", sa.Text, sa.ForeignKey("events.id", ondelete="CASCADE"), nullable=False),
    sa.Column("template_id", sa.Text, sa.ForeignKey("session_templates.id", ondelete="CASCADE"), nullable=False),
    sa.Column("service_id", sa.Text, sa.ForeignKey("services.id"), nullable=False),
    sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("capacity", sa.Integer, nullable=False),
    sa.Column("booking_window_days", sa.Integer, nullable=False),
    sa.Column("held", sa.Integer, nullable=False, server_default="0"),
    sa.Column("confirmed", sa.Integer, nullable=False, server_default="0"),
    # The aggregate version of the session: grows with every ledger change (Kafka ordering).
    sa.Column("version", sa.BigInteger, nullable=False, server_default="1"),
    sa.CheckConstraint("held >= 0 AND confirmed >= 0", name="sessions_counts_not_negative"),
    sa.Index("sessions_starts_at", "starts_at"),
    sa.Index("sessions_event_starts_at", "event_id", "starts_at"),
)

pools = sa.Table(
    "pools",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),  # uuid5(occurrence id, pool template id)
    sa.Column("occurrence_id", sa.Text, sa.ForeignKey("occurrences.id", ondelete="CASCADE"), nullable=False),
    sa.Column("template_id", sa.Text, sa.ForeignKey("pool_templates.id", ondelete="CASCADE"), nullable=False),
    sa.Column("display_name", sa.Text, nullable=False),
    sa.Column("limit", sa.Integer, nullable=False),
    sa.Column("used", sa.Integer, nullable=False, server_default="0"),
    sa.CheckConstraint("used >= 0", name="pools_used_not_negative"),
)

pool_sessions = sa.Table(
    "pool_sessions",
    metadata,
    sa.Column("pool_id", sa.Text, sa.ForeignKey("pools.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("session_id", sa.Text, sa.ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True),
    sa.Index("pool_sessions_session", "session_id"),
)

# The seat ledger.
seats = sa.Table(
    "seats",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("session_id", sa.Text, sa.ForeignKey("sessions.id", ondelete="CASCADE"), nullable=False),
    sa.Column("occurrence_id", sa.Text, sa.ForeignKey("occurrences.id", ondelete="CASCADE"), nullable=False),
    sa.Column("participant_id", sa.Text, nullable=False),
    sa.Column("state", sa.Text, nullable=False),  # held | confirmed | released | expired
    sa.Column("expires_at", sa.DateTime(timezone=True)),
    sa.Column("capacity_override", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    # Invariant 4: one live seat per (participant, session), enforced by the database.
    sa.Index("seats_one_live_per_participant", "session_id", "participant_id", unique=True,
             postgresql_where=sa.text("state IN ('held', 'confirmed')")),
    sa.Index("seats_held_expiry", "expires_at", postgresql_where=sa.text("state = 'held'")),
    sa.Index("seats_participant", "participant_id"),
)

# Live seats of each participant in each occurrence: distinct participants (invariant 2) and
# the per-participant limit (invariant 4) are counted here under the row lock.
occurrence_participants = sa.Table(
    "occurrence_participants",
    metadata,
    sa.Column("occurrence_id", sa.Text, sa.ForeignKey("occurrences.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("participant_id", sa.Text, primary_key=True),
    sa.Column("live", sa.Integer, nullable=False),
    sa.CheckConstraint("live > 0", name="occurrence_participants_live_positive"),
)

# The rounds schedule of an occurrence, made once (ScheduleOccurrenceRounds) and then only read.
occurrence_rounds = sa.Table(
    "occurrence_rounds",
    metadata,
    sa.Column("occurrence_id", sa.Text, sa.ForeignKey("occurrences.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("event_id", sa.Text, sa.ForeignKey("events.id", ondelete="CASCADE"), nullable=False),
    sa.Column("format", postgresql.JSONB, nullable=False),  # the event's rounds format when it was made
    sa.Column("seed", sa.Numeric(20, 0), nullable=False),  # an unsigned 64-bit seed: beyond BIGINT
    sa.Column("schedule", postgresql.JSONB, nullable=False),  # groups and timed rounds
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

outbox = outbox_table(metadata)
idempotency_keys = idempotency_table(metadata)
