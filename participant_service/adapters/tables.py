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
    # Casefolded in Python (domain.participants.search_key), not by the database's locale.
    sa.Column("first_name_key", sa.Text, nullable=False),
    sa.Column("last_name_key", sa.Text, nullable=False),
    sa.Column("full_name_key", sa.Text, nullable=False),  # "first last"
    sa.Column("phone", sa.Text, nullable=True),  # E.164, "+7XXXXXXXXXX"
    sa.Column("comment", sa.Text, nullable=True),
    sa.Column("messenger_id", sa.Text, nullable=True),
    sa.Column("messenger_username", sa.Text, nullable=True),
    sa.Column("created_by", sa.Text, nullable=True),  # unknown for participants created before 0003
    # text_pattern_ops: prefix LIKE 'abc%' can use them whatever the database collation.
    sa.Index("ix_participants_last_name_key_prefix", "last_name_key",
             postgresql_ops={"last_name_key": "text_pattern_ops"}),
    sa.Index("ix_participants_full_name_key_prefix", "full_name_key",
             postgresql_ops={"full_name_key": "text_pattern_ops"}),
    sa.Index("ix_participants_card_number_prefix", "card_number",
             postgresql_ops={"card_number": "text_pattern_ops"}),
    sa.Index("ix_participants_phone_prefix", "phone", postgresql_ops={"phone": "text_pattern_ops"}),
)

outbox = outbox_table(metadata)
idempotency_keys = idempotency_table(metadata)
