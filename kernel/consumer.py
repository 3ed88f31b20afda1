"""A Kafka consumer as a background job of an asyncio service (`kernel.runner.serve_grpc`'s
`background`): reads topics in a consumer group, decodes each `turnout.common.v1.Envelope`,
hands its payload to the async handler registered for its type, and commits a partition's
offset only past messages whose handlers succeeded.

* kafka-python is blocking: polls, commits and closes run on one thread of the consumer's
  own (kafka-python's client is not safe across threads), never on the event loop.
* Transient failures (the database, Kafka, a service that is UNAVAILABLE or whose store is
  away, a concurrent change) pause the job, which then makes a new consumer and reads again
  from the committed offsets. Nothing past the failed message was committed, so nothing is
  lost; what is read twice the handlers deduplicate with their inbox (`kernel.inbox`).
* A message refused for good (it does not decode, or a handler raised a domain error that
  would be raised again) is passed to `on_refused` (which records it once and tells the
  admins) and skipped: one bad message must not stall its partition. An unexpected error
  is retried `attempts` times first, in case it was transient after all.
* Types nobody handles are skipped: topics carry more than one consumer cares about.
* Every replica may run it: the group splits the partitions between them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

import asyncpg
import sqlalchemy as sa
from google.protobuf.message import DecodeError, Message
from kafka import KafkaConsumer
from kafka.errors import KafkaError
from kafka.structs import OffsetAndMetadata, TopicPartition
from prometheus_client import Counter
from sqlalchemy import exc as sa_exc

from kernel import context, inbox, notifications, periodic
from kernel.errors import Aborted, DomainError, Unavailable
from kernel.kafka import close_consumer
from kernel.roles import ADMIN
from kernel.unit_of_work import UnitOfWorkFactory
from turnout.common.v1 import envelope_pb2

log = logging.getLogger("turnout.consumer")

MESSAGES = Counter("turnout_consumer_messages_total", "Messages a consumer group dealt with, by outcome "
                   "(handled, ignored: a type it does not handle, refused: skipped for good)", ["group", "outcome"])
PAUSES = Counter("turnout_consumer_pauses_total", "Transient failures after which a consumer read again "
                 "from its committed offsets", ["group"])

T = TypeVar("T")

# A store the callee needs is away (kernel.grpc_server.store_unavailable): retry later.
DEPENDENCY_UNAVAILABLE = "DEPENDENCY_UNAVAILABLE"
# The error code of the admins' system.error notification for a skipped message.
MESSAGE_REFUSED = "message_refused"


@dataclass(frozen=True)
class Delivery:
    """One record as its handler sees it; `envelope` is None when it did not decode."""

    group: str
    topic: str
    partition: int
    offset: int
    envelope: envelope_pb2.Envelope | None

    @property
    def message_id(self) -> str:
        """The inbox key: the event id, which a redelivery keeps."""
        if self.envelope is not None and self.envelope.event_id:
            return self.envelope.event_id
        return f"{self.topic}/{self.partition}/{self.offset}"

    @property
    def message_type(self) -> str:
        return self.envelope.type if self.envelope is not None else ""


Handler = Callable[[Delivery, Any], Awaitable[None]]
OnRefused = Callable[[Delivery, Exception], Awaitable[None]]


class Undecodable(Exception):
    """The record is not an envelope, or its payload is not the type it names. Not a domain
    error: it never reaches a client, only the admins' notification (`reason` parameter)."""


UNDECODABLE = "UNDECODABLE_MESSAGE"


def transient(error: BaseException) -> bool:
    """Whether reading the message again later may succeed."""
    if isinstance(error, (Unavailable, Aborted)):
        return True
    if isinstance(error, DomainError):
        return error.reason == DEPENDENCY_UNAVAILABLE
    if isinstance(error, sa_exc.DBAPIError):
        # Connection losses, deadlocks, serialization failures, timeouts; not a statement
        # that breaks a constraint or does not fit the schema, which would break again.
        return not isinstance(error, (sa_exc.IntegrityError, sa_exc.DataError, sa_exc.ProgrammingError))
    # asyncpg's own errors come from statements sent on the driver connection (the outbox write).
    return isinstance(error, (OSError, KafkaError, asyncpg.InterfaceError, asyncpg.PostgresConnectionError,
                              asyncpg.exceptions.DeadlockDetectedError, asyncpg.exceptions.SerializationError))


class MessageConsumer:
    def __init__(self, consumer_factory: Callable[[], KafkaConsumer], group: str,
                 handlers: Mapping[type[Message], Handler], on_refused: OnRefused, *,
                 poll_timeout_ms: int = 500, max_records: int = 100, pause_seconds: float = 1.0,
                 max_pause_seconds: float = 10.0, attempts: int = 5):
        self._consumer_factory = consumer_factory
        self.group = group
        self._handlers = {payload.DESCRIPTOR.full_name: (payload, handler) for payload, handler in handlers.items()}
        self._on_refused = on_refused
        self._poll_timeout_ms = poll_timeout_ms
        self._max_records = max_records
        self._pause = pause_seconds
        self._max_pause = max_pause_seconds
        self._attempts = attempts
        self._failures: dict[tuple[str, int, int], int] = {}
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"consumer-{group}")

    async def _blocking(self, call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._thread, partial(call, *args, **kwargs))

    async def run(self, stop: asyncio.Event) -> None:
        """Consumes until `stop` is set."""
        pause = self._pause
        try:
            while not stop.is_set():
                consumer = None
                try:
                    consumer = await self._blocking(self._consumer_factory)
                    while not stop.is_set():
                        await self.step(consumer)
                        pause = self._pause
                except Exception as error:  # the job outlives any failure: it pauses and reads again
                    PAUSES.labels(self.group).inc()
                    level = logging.WARNING if transient(error) else logging.ERROR
                    log.log(level, "consumer %s paused for %.1f s, then reads again from its committed offsets: %r",
                            self.group, pause, error, exc_info=level == logging.ERROR)
                finally:
                    if consumer is not None:
                        await self._blocking(_close, consumer)
                if await periodic.sleep_or_stop(stop, pause):
                    return
                pause = min(pause * 2, self._max_pause)
        finally:
            self._thread.shutdown(wait=False)

    async def step(self, consumer: KafkaConsumer) -> int:
        """Polls once, handles what came, commits; the number of records read. A failure
        raises after committing the messages handled before it."""
        batches = await self._blocking(consumer.poll, timeout_ms=self._poll_timeout_ms, max_records=self._max_records)
        handled: dict[TopicPartition, OffsetAndMetadata] = {}
        count = 0
        try:
            for partition, records in batches.items():
                for record in records:
                    await self._handle(record)
                    handled[partition] = OffsetAndMetadata(record.offset + 1, "", -1)
                    count += 1
        except Exception:
            if handled:
                try:
                    await self._blocking(consumer.commit, handled)
                except KafkaError as error:  # the inbox catches what comes again
                    log.warning("consumer %s could not commit before pausing: %r", self.group, error)
            raise
        if handled:
            await self._blocking(consumer.commit, handled)
        return count

    async def _handle(self, record: Any) -> None:
        delivery = Delivery(self.group, record.topic, record.partition, record.offset, None)
        try:
            envelope = envelope_pb2.Envelope.FromString(record.value or b"")
        except DecodeError as error:
            await self._refuse(delivery, Undecodable(f"the record is not a turnout.common.v1.Envelope: {error}"))
            return
        delivery = Delivery(self.group, record.topic, record.partition, record.offset, envelope)
        route = self._handlers.get(envelope.type)
        if route is None:
            MESSAGES.labels(self.group, "ignored").inc()
            return
        payload_type, handler = route
        payload = payload_type()
        try:
            if not envelope.payload.Unpack(payload):
                raise DecodeError(f"the payload is a {envelope.payload.TypeName()}")
        except DecodeError as error:
            await self._refuse(delivery, Undecodable(f"the {envelope.type} payload does not decode: {error}"))
            return
        token = context.bind(context.RequestContext(request_id=envelope.request_id or context.new_request_id()))
        try:
            await handler(delivery, payload)
        except Exception as error:
            if transient(error) or not self._given_up(delivery, error):
                raise
            await self._refuse(delivery, error)
            return
        finally:
            context.reset(token)
        self._failures.pop((delivery.topic, delivery.partition, delivery.offset), None)
        MESSAGES.labels(self.group, "handled").inc()

    def _given_up(self, delivery: Delivery, error: Exception) -> bool:
        """A domain error fails the same way every time; anything else gets a few tries."""
        if isinstance(error, DomainError):
            return True
        where = (delivery.topic, delivery.partition, delivery.offset)
        self._failures[where] = self._failures.get(where, 0) + 1
        return self._failures[where] >= self._attempts

    async def _refuse(self, delivery: Delivery, error: Exception) -> None:
        log.error("consumer %s skips %s at %s/%d/%d for good: %r", self.group, delivery.message_type or "a record",
                  delivery.topic, delivery.partition, delivery.offset, error)
        await self._on_refused(delivery, error)
        self._failures.pop((delivery.topic, delivery.partition, delivery.offset), None)
        MESSAGES.labels(self.group, "refused").inc()


def _close(consumer: KafkaConsumer) -> None:
    try:
        close_consumer(consumer)
    except (KafkaError, OSError) as error:  # a broken consumer is being thrown away anyway
        log.warning("closing a consumer failed: %r", error)


def refusal_notification(delivery: Delivery, error: Exception, *, component: str,
                         locale: str = notifications.DEFAULT_LOCALE) -> notifications.Notification:
    """The `system.error` request to every admin for a message skipped for good (README,
    "Notification requests"); its dedup key names the group and the message."""
    if isinstance(error, DomainError):
        reason = error.reason
    else:
        reason = UNDECODABLE if isinstance(error, Undecodable) else type(error).__name__
    detail = error.message if isinstance(error, DomainError) else str(error)
    return notifications.Notification(
        recipient=notifications.role(ADMIN), template_key="system.error",
        parameters={"error_code": MESSAGE_REFUSED, "component": component,
                    "summary": f"consumer group {delivery.group} skipped a {delivery.message_type or 'record'} "
                               f"it cannot handle",
                    "topic": delivery.topic, "partition": str(delivery.partition), "offset": str(delivery.offset),
                    "message_id": delivery.message_id, "message_type": delivery.message_type,
                    "reason": reason, "detail": notifications.bounded(detail)},
        dedup_key=f"system.error/{MESSAGE_REFUSED}/{delivery.group}/{delivery.message_id}",
        channel_hints=(notifications.Channel.MESSENGER, notifications.Channel.EMAIL), locale=locale)


def record_refusal(uow_factory: UnitOfWorkFactory, table: sa.Table, *, component: str,
                   locale: str = notifications.DEFAULT_LOCALE) -> OnRefused:
    """An `on_refused` that writes the message's inbox row as refused and, the first time
    only, the admins' `system.error` request, in one transaction."""

    async def on_refused(delivery: Delivery, error: Exception) -> None:
        async with uow_factory() as uow:
            if await inbox.first_time(uow.connection, table, delivery, outcome=inbox.REFUSED):
                uow.record(refusal_notification(delivery, error, component=component, locale=locale))
                await uow.commit()

    return on_refused
