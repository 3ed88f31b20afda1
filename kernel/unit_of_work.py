"""Unit of work: one transaction whose commit also writes the collected domain events to the
service's outbox, so that a state change and its event are committed together or not at all.

    async with uow:
        ...                       # reads and writes through uow.connection
        uow.record(event)         # domain events (plain dataclasses)
        await uow.commit()        # outbox rows + NOTIFY (one statement) + COMMIT
    # leaving the block without commit rolls back

A hot path may talk to the asyncpg connection underneath (`await uow.driver()`), in the
same transaction, to skip SQLAlchemy's statement building; asyncpg prepares and caches each
statement per connection.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from functools import singledispatch
from datetime import UTC, datetime
from typing import Any, Callable, Protocol

import sqlalchemy as sa
from google.protobuf import any_pb2, timestamp_pb2
from google.protobuf.message import Message
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from kernel import context
from kernel.db import notify_channel
from turnout.common.v1 import envelope_pb2


@dataclass(frozen=True)
class OutboxMessage:
    """What a service's event mapper turns one domain event into."""

    topic: str
    aggregate_type: str
    aggregate_id: str
    aggregate_version: int
    payload: Message
    # The Kafka record key when it is not the aggregate id (a notification is its own
    # aggregate but is keyed by its recipient, to keep one recipient's requests in order).
    key: str | None = None


class EventMapper(Protocol):
    def __call__(self, event: Any) -> OutboxMessage: ...


def event_mapper() -> Any:
    """A single-dispatch function that services extend with `@to_message.register` per event
    type; an event nobody mapped fails the commit loudly instead of vanishing."""

    @singledispatch
    def to_message(event: object) -> OutboxMessage:
        raise TypeError(f"no outbox mapping for {type(event).__name__}")

    return to_message


def build_envelope(message: OutboxMessage, *, occurred_at: datetime | None = None) -> envelope_pb2.Envelope:
    ctx = context.current()
    payload = any_pb2.Any()
    payload.Pack(message.payload)
    occurred = timestamp_pb2.Timestamp()
    occurred.FromDatetime(occurred_at or datetime.now(UTC))
    return envelope_pb2.Envelope(
        event_id=str(uuid.uuid4()),
        type=message.payload.DESCRIPTOR.full_name,
        aggregate_type=message.aggregate_type,
        aggregate_id=message.aggregate_id,
        aggregate_version=message.aggregate_version,
        occurred_at=occurred,
        actor=ctx.actor,
        request_id=ctx.request_id,
        payload=payload,
    )


class UnitOfWork:
    def __init__(self, engine: AsyncEngine, outbox: sa.Table, to_message: EventMapper):
        self._engine = engine
        self._outbox = outbox
        self._to_message = to_message
        self._connection: AsyncConnection | None = None
        self._events: list[Any] = []
        self.committed = False

    @property
    def connection(self) -> AsyncConnection:
        if self._connection is None:
            raise RuntimeError("the unit of work is not entered")
        return self._connection

    async def __aenter__(self) -> "UnitOfWork":
        self._connection = await self._engine.connect()
        await self._connection.begin()
        self._events = []
        self.committed = False
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            if not self.committed:
                await connection.rollback()
        finally:
            await connection.close()

    async def driver(self) -> Any:
        """The asyncpg connection of this unit of work, inside its transaction (begun here if
        no statement went through SQLAlchemy yet: SQLAlchemy's adapter begins lazily)."""
        raw = await self.connection.get_raw_connection()
        adapter = raw.dbapi_connection
        if adapter._transaction is None:  # noqa: SLF001 - the asyncpg adapter begins on first use
            await adapter._start_transaction()  # noqa: SLF001
        return raw.driver_connection

    def record(self, *events: Any) -> None:
        self._events.extend(events)

    async def commit(self) -> None:
        connection = self.connection
        if self._events:
            envelopes = [(m, build_envelope(m)) for m in map(self._to_message, self._events)]
            # All rows in one INSERT, and the NOTIFY (delivered only if the transaction
            # commits; it wakes the relay without polling) in the same statement.
            driver = await self.driver()
            await driver.execute(
                self._outbox_sql(),
                [env.event_id for _, env in envelopes], [msg.topic for msg, _ in envelopes],
                [msg.key or msg.aggregate_id for msg, _ in envelopes], [env.type for _, env in envelopes],
                [env.SerializeToString() for _, env in envelopes],
                notify_channel(self._outbox.schema or "public"),
            )
        await connection.commit()
        self.committed = True
        self._events = []

    def _outbox_sql(self) -> str:
        table = self._engine.dialect.identifier_preparer.format_table(self._outbox)
        return (f"WITH written AS (INSERT INTO {table} (event_id, topic, message_key, event_type, envelope) "
                "SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::bytea[])) "
                "SELECT pg_notify($6, '')")


UnitOfWorkFactory = Callable[[], UnitOfWork]
