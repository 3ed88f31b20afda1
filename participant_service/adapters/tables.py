"""participant_service's tables, all in its own schema."""

from __future__ import annotations

import sqlalchemy as sa

from kernel.db import idempotency_table, outbox_table
from kernel.inbox import inbox_table

SCHEMA = "participant_service"

metadata = sa.MetaData(schema=SCHEMA)

# Card numbers are short and human-friendly: a sequence, not a UUID.
card_numbers = sa.Sequence("card_numbers", start=100001, metadata=metadata)

participants = sa.Table(
    "participants",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("card_number", sa.Text, nullable=False, unique=True),
    sa.Column("first_name", sa.Text, nullable=False),
    sa.Column("last_name", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("version", sa.BigInteger, nullable=False, server_default="1"),
    # Casefolded in Python (domain.participants.search_key), not by the database's locale.
    sa.Column("first_name_key", sa.Text, nullable=False),
    sa.Column("last_name_key", sa.Text, nullable=False),
    sa.Column("full_name_key", sa.Text, nullable=False),  # "first last"
    sa.Column("phone", sa.Text, nullable=True),  # E.164, "+7XXXXXXXXXX"
    sa.Column("comment", sa.Text, nullable=True),
    sa.Column("messenger_id", sa.Text, nullable=True),
    sa.Column("messenger_username", sa.Text, nullable=True),
    sa.Column("created_by", sa.Text, nullable=True),  # unknown for participants created before 0003
    # pending_review / approved / rejected for participants who signed up with documents; else NULL.
    sa.Column("verification_status", sa.Text, nullable=True),
    sa.Column("verification_reason", sa.Text, nullable=True),
    # text_pattern_ops: prefix LIKE 'abc%' can use them whatever the database collation.
    sa.Index("ix_participants_last_name_key_prefix", "last_name_key",
             postgresql_ops={"last_name_key": "text_pattern_ops"}),
    sa.Index("ix_participants_full_name_key_prefix", "full_name_key",
             postgresql_ops={"full_name_key": "text_pattern_ops"}),
    sa.Index("ix_participants_card_number_prefix", "card_number",
             postgresql_ops={"card_number": "text_pattern_ops"}),
    sa.Index("ix_participants_phone_prefix", "phone", postgresql_ops={"phone": "text_pattern_ops"}),
)

# Documents of participants who signed up through a draft; the content is a file named
# `stored_name` in the document directory (never a client-supplied path).
documents = sa.Table(
    "documents",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("participant_id", sa.Text, sa.ForeignKey("participants.id"), nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("stored_name", sa.Text, nullable=False, unique=True),
    sa.Column("content_type", sa.Text, nullable=False),
    sa.Column("size_bytes", sa.BigInteger, nullable=False),
    sa.Column("sha256", sa.Text, nullable=False),
    sa.Column("original_filename", sa.Text, nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_documents_participant_id", "participant_id"),
)

outbox = outbox_table(metadata)
idempotency_keys = idempotency_table(metadata)
# Messages the lifecycle consumer dealt with (kernel.inbox), written with their effects.
processed_messages = inbox_table(metadata)

# States in which a registration holds (or waits for) a place; one such row per participant
# and session.
LIVE_STATES = ("held", "confirmed", "waitlisted", "offered")
_LIVE = sa.text("state IN ('held', 'confirmed', 'waitlisted', 'offered')")

registrations = sa.Table(
    "registrations",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("participant_id", sa.Text, sa.ForeignKey("participants.id"), nullable=False),
    sa.Column("session_id", sa.Text, nullable=False),
    # Copied from event_service at registration: lists sort and split upcoming/past by them.
    sa.Column("event_id", sa.Text, nullable=False),
    sa.Column("session_starts_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("session_ends_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("seat_id", sa.Text, nullable=True),
    # The ledger call this row still owes event_service ('confirm' or 'release'): written in
    # the same transaction as the state change, cleared once the call succeeded, retried by
    # the seat reconciler otherwise.
    sa.Column("seat_sync", sa.Text, nullable=True),
    sa.Column("attendance", sa.Text, nullable=False, server_default="expected"),
    sa.Column("attendance_comment", sa.Text, nullable=True),
    sa.Column("comment", sa.Text, nullable=True),
    sa.Column("registered_by", sa.Text, nullable=False),
    sa.Column("capacity_override", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("cancelled_by", sa.Text, nullable=True),
    sa.Column("end_reason", sa.Text, nullable=True),
    # Ledger holds tried for this waitlist place: part of the next try's request id (a refused
    # try is remembered by the ledger under its id, so the next one needs a new id).
    sa.Column("offer_attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("version", sa.BigInteger, nullable=False, server_default="1"),
    # NULL until the occurrence asks (CONFIRMING); then requested, and later the answer or how
    # the deadline settled it (domain.registrations.Reconfirmation).
    sa.Column("reconfirmation", sa.Text, nullable=True),
    sa.Column("reconfirmation_deadline", sa.DateTime(timezone=True), nullable=True),
    sa.Index("uq_registrations_live", "participant_id", "session_id", unique=True, postgresql_where=_LIVE),
    sa.Index("ix_registrations_session", "session_id", "created_at", "id"),
    sa.Index("ix_registrations_participant", "participant_id", "session_starts_at", "id"),
    sa.Index("ix_registrations_waitlist", "session_id", "created_at", "id",
             postgresql_where=sa.text("state IN ('waitlisted', 'offered')")),
    sa.Index("ix_registrations_seat_sync", "updated_at", postgresql_where=sa.text("seat_sync IS NOT NULL")),
    sa.Index("ix_registrations_expiry", "expires_at", postgresql_where=sa.text("state IN ('held', 'offered')")),
    # The ones awaiting an answer: settled per session at the deadline, counted every pass.
    sa.Index("ix_registrations_reconfirmation_requested", "session_id",
             postgresql_where=sa.text("reconfirmation = 'requested' AND state = 'confirmed'")),
)
