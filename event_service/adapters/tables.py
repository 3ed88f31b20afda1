"""event_service's tables, all in its own schema."""

from __future__ import annotations

import sqlalchemy as sa

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

outbox = outbox_table(metadata)
idempotency_keys = idempotency_table(metadata)
