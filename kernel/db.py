"""Database plumbing shared by the command services: engine, the outbox and idempotency
tables every service schema carries, and SQL error helpers."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine


def make_engine(database_url: str, *, pool_size: int = 40, max_overflow: int = 0) -> AsyncEngine:
    return create_async_engine(
        database_url,
        # Up to 40 connections, all kept: an overflow connection is closed when it comes back
        # to a full pool, so under load (more requests in flight than pool_size) overflow meant
        # a new backend (fork, auth, codec set-up, an empty prepared-statement cache) for a
        # good share of the transactions.
        pool_size=pool_size,
        max_overflow=max_overflow,
        # No pre-ping: it costs a round trip per transaction on the booking path. A connection
        # broken by a database restart fails its one statement, SQLAlchemy discards it, and
        # the next checkout gets a fresh one.
    )


def outbox_columns() -> list[sa.Column]:
    """Domain events waiting for the relay, written in the same transaction as the change."""
    return [
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("event_id", pg.UUID(as_uuid=False), nullable=False, unique=True),
        sa.Column("topic", sa.Text, nullable=False),
        sa.Column("message_key", sa.Text, nullable=False),
        sa.Column("event_type", sa.Text, nullable=False),
        sa.Column("envelope", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
    ]


# The relay scans only unsent rows; a partial index keeps that scan small forever.
OUTBOX_UNSENT_INDEX = ("outbox_unsent", ["id"], {"postgresql_where": sa.text("sent_at IS NULL")})


def idempotency_columns() -> list[sa.Column]:
    """First outcome of each request id (AIP-155), stored atomically with the change."""
    return [
        sa.Column("request_id", sa.Text, primary_key=True),
        sa.Column("method", sa.Text, nullable=False),
        sa.Column("fingerprint", sa.Text, nullable=False),
        sa.Column("outcome", pg.JSONB, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    ]


def outbox_table(metadata: sa.MetaData) -> sa.Table:
    name, columns, options = OUTBOX_UNSENT_INDEX
    return sa.Table("outbox", metadata, *outbox_columns(), sa.Index(name, *columns, **options))


def idempotency_table(metadata: sa.MetaData) -> sa.Table:
    return sa.Table("idempotency_keys", metadata, *idempotency_columns())


def notify_channel(schema: str) -> str:
    """LISTEN/NOTIFY channel that wakes a schema's outbox relay."""
    return f"{schema}_outbox"


def violated_constraint(exc: DBAPIError) -> str | None:
    """Name of the constraint an IntegrityError broke, from asyncpg's exception."""
    cause = getattr(exc.orig, "__cause__", None) or exc.orig
    return getattr(cause, "constraint_name", None)
