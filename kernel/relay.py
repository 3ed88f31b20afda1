"""Outbox relay: publishes a schema's committed outbox rows to Kafka, in commit order per
aggregate, and marks them sent only after the broker acknowledged them.

* One relay per schema is active at a time (a Postgres advisory lock): replicas stand by, so
  two relays never interleave one aggregate's events.
* It wakes on the NOTIFY that the unit of work sends at commit, or after a short poll.
* A crash between publish and mark-sent republishes those rows on restart: delivery is
  at-least-once and consumers deduplicate by aggregate version.
* A broker that fails may come back without what it acknowledged last (the embedded
  in-memory broker restarted empty; a Kafka leader lost before it replicated). So when a
  publish fails, the rows acknowledged within `resend_window` before the failure are sent
  again with the rest: a subscriber that had not read them yet still gets them.
* Known gap: if the producer gives up on one record (its retries exhausted) but delivers a
  later record of the same key, the later one is in Kafka first. Only the acknowledged
  prefix is marked sent and the failed one is sent again, but a consumer that skips "not
  newer" versions would then drop it. Not observed; closing it needs the producer to stop
  at the first failure per partition (or consumers to buffer gaps).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import asyncpg
from kafka import KafkaProducer
from kafka.errors import KafkaError
from prometheus_client import Counter, Gauge

from kernel import periodic, topics
from kernel.db import notify_channel
from turnout.common.v1 import envelope_pb2
from turnout.notification.v1 import notification_pb2

log = logging.getLogger("turnout.relay")

PUBLISHED = Counter("turnout_outbox_published_total", "Outbox rows acknowledged by Kafka", ["schema"])
PENDING = Gauge("turnout_outbox_pending", "Outbox rows not yet acknowledged", ["schema"])
FAILURES = Counter("turnout_outbox_publish_failures_total", "Failed publish attempts", ["schema"])
NOTIFICATIONS_EMITTED = Counter("turnout_notifications_emitted_total",
                                "Notification requests acknowledged by Kafka on turnout.notifications.v1",
                                ["template"])
RESENT = Counter("turnout_outbox_resent_total",
                 "Acknowledged rows sent again after a publish failure (the broker may have lost them)", ["schema"])


@dataclass(frozen=True)
class OutboxRow:
    id: int
    topic: str
    key: str
    envelope: bytes


class KafkaPublisher:
    """Sends rows and reports how many leading rows the broker acknowledged."""

    def __init__(self, producer: KafkaProducer, *, flush_timeout: float = 30.0):
        self._producer = producer
        self._flush_timeout = flush_timeout

    def publish(self, rows: Sequence[OutboxRow]) -> int:
        futures = []
        try:
            for row in rows:
                futures.append(self._producer.send(row.topic, key=row.key.encode(), value=row.envelope))
            self._producer.flush(timeout=self._flush_timeout)
        except KafkaError as exc:
            log.warning("publish interrupted: %s", exc)
        acknowledged = 0
        for future in futures:
            if not (future.is_done and future.succeeded()):
                break
            acknowledged += 1
        return acknowledged

    def close(self) -> None:
        self._producer.close(timeout=5)


class OutboxRelay:
    def __init__(
        self,
        dsn: str,
        schema: str,
        publisher_factory: Callable[[], KafkaPublisher],
        *,
        batch_size: int = 500,
        poll_seconds: float = 0.5,
        resend_window: float = 60.0,
    ):
        self._dsn = dsn
        self._schema = schema
        self._publisher_factory = publisher_factory
        self._batch_size = batch_size
        self._poll_seconds = poll_seconds
        self._wake = asyncio.Event()
        self._select = (
            f'SELECT id, topic, message_key, envelope FROM "{schema}".outbox '
            "WHERE sent_at IS NULL ORDER BY id LIMIT $1"
        )
        self._mark = f'UPDATE "{schema}".outbox SET sent_at = now() WHERE id = ANY($1::bigint[])'
        self._pending = f'SELECT count(*) FROM "{schema}".outbox WHERE sent_at IS NULL'
        self._resend_window = resend_window
        # By id from the oldest row acknowledged within the window (the primary key, not a
        # scan of the whole, never pruned outbox).
        self._resend = f'UPDATE "{schema}".outbox SET sent_at = NULL WHERE id >= $1 AND sent_at IS NOT NULL'
        self._acknowledged: deque[tuple[float, int]] = deque()  # (when, first id) per batch

    async def run(self, stop: asyncio.Event) -> None:
        """Relays until `stop` is set, reconnecting after database failures."""
        backoff = 0.2
        while not stop.is_set():
            try:
                await self._lead(stop)
                backoff = 0.2
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, KafkaError) as exc:
                # KafkaError: no producer could be made while the broker is away.
                log.warning("relay connection lost, retrying in %.1fs: %s", backoff, exc)
                await periodic.sleep_or_stop(stop, backoff)
                backoff = min(backoff * 2, 5.0)

    async def _lead(self, stop: asyncio.Event) -> None:
        connection = await asyncpg.connect(self._dsn, timeout=10)
        publisher = None
        try:
            while not await connection.fetchval(
                "SELECT pg_try_advisory_lock(hashtext($1))", f"turnout-relay:{self._schema}"
            ):
                if await periodic.sleep_or_stop(stop, 1.0):
                    return
            log.info("relay leading", extra={"fields": {"schema": self._schema}})
            await connection.add_listener(notify_channel(self._schema), lambda *_: self._wake.set())
            publisher = await asyncio.to_thread(self._publisher_factory)
            while not stop.is_set():
                relayed = await self._relay_batch(connection, publisher)
                if relayed < 0:
                    await self._reopen_recent(connection)
                    # A failed producer may stay failed: kafka-python keeps an idempotent
                    # producer's fatal error for good (a restarted broker no longer knows its
                    # producer id). The unacknowledged rows go out again from a new one.
                    await asyncio.to_thread(publisher.close)
                    publisher = None
                    if await periodic.sleep_or_stop(stop, 1.0):
                        return
                    publisher = await asyncio.to_thread(self._publisher_factory)
                elif relayed < self._batch_size:
                    PENDING.labels(self._schema).set(await connection.fetchval(self._pending))
                    await self._wait_for_work(stop)
        finally:
            if publisher is not None:
                await asyncio.to_thread(publisher.close)
            await connection.close()

    async def _relay_batch(self, connection: asyncpg.Connection, publisher: KafkaPublisher) -> int:
        """Publishes one batch; the number relayed, or -1 when the broker failed."""
        rows = [OutboxRow(r["id"], r["topic"], r["message_key"], r["envelope"])
                for r in await connection.fetch(self._select, self._batch_size)]
        if not rows:
            return 0
        acknowledged = await asyncio.to_thread(publisher.publish, rows)
        if acknowledged:
            await connection.execute(self._mark, [row.id for row in rows[:acknowledged]])
            self._acknowledged.append((time.monotonic(), rows[0].id))
            PUBLISHED.labels(self._schema).inc(acknowledged)
            _count_notifications(rows[:acknowledged])
        if acknowledged < len(rows):
            FAILURES.labels(self._schema).inc()
            return -1
        return acknowledged

    async def _reopen_recent(self, connection: asyncpg.Connection) -> None:
        """Marks the rows acknowledged within the resend window unsent again."""
        horizon = time.monotonic() - self._resend_window
        while self._acknowledged and self._acknowledged[0][0] < horizon:
            self._acknowledged.popleft()
        if not self._acknowledged:
            return
        status = await connection.execute(self._resend, self._acknowledged[0][1])
        self._acknowledged.clear()
        reopened = int(status.rsplit(" ", 1)[-1])
        if reopened:
            RESENT.labels(self._schema).inc(reopened)
            log.warning("publish failed: sending the %d rows acknowledged in the last %.0f s again",
                        reopened, self._resend_window)

    async def _wait_for_work(self, stop: asyncio.Event) -> None:
        self._wake.clear()
        waiters = [asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(stop.wait())]
        try:
            await asyncio.wait(waiters, timeout=self._poll_seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()


_REQUESTED = notification_pb2.NotificationRequested.DESCRIPTOR.full_name


def _count_notifications(rows: Sequence[OutboxRow]) -> None:
    """Counts the notification requests by template; only that topic's envelopes are decoded
    (a resent row counts again: the counter tells what went out, not what was asked)."""
    for row in rows:
        if row.topic != topics.NOTIFICATIONS:
            continue
        envelope = envelope_pb2.Envelope.FromString(row.envelope)
        request = notification_pb2.NotificationRequested()
        if envelope.type == _REQUESTED and envelope.payload.Unpack(request):
            NOTIFICATIONS_EMITTED.labels(request.template_key).inc()
