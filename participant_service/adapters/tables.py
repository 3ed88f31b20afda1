"""participant_service's tables, all in its own schema."""

from __future__ import annotations

import sqlalchemy as sa

from kernel.db import idempotency_table, outbox_table

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
)

outbox = outbox_table(metadata)
idempotency_keys = idempotency_table(metadata)
