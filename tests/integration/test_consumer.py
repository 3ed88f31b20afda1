"""The Kafka consumer of participant_service (`kernel.consumer` running the lifecycle
handlers) against the real broker: event_service's own transition travels through its relay
to the consumer; a bad message is skipped with one system.error; a transient failure is read
again from the committed offset; the notification counter of the relay."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable

import pytest
import sqlalchemy as sa
from google.protobuf import any_pb2
from ledger_fixtures import SessionSpec, create_occurrence
from lifecycle_messages import (
    last_outbox_id,
    notifications_in,
    outbox_since,
    state_changed,
)
from registration_fixtures import ADMIN, new_participants, register

from kernel import topics
from kernel.consumer import MESSAGES, Delivery, MessageConsumer, record_refusal
from kernel.errors import Unavailable
from kernel.kafka import ensure_topics, make_consumer, make_producer
from kernel.relay import NOTIFICATIONS_EMITTED, KafkaPublisher, OutboxRelay
from participant_service.adapters.tables import SCHEMA, processed_messages
from participant_service.application.lifecycle import (
    COMPONENT,
    handlers,
    lifecycle_consumer,
)
from turnout.common.v1 import envelope_pb2
from turnout.event.v1 import catalog_events_pb2
from turnout.event.v1 import event_service_pb2 as epb
from turnout.event.v1 import session_pb2 as S
from turnout.participant.v1 import registration_pb2 as rpb
from turnout.participant.v1 import registration_service_pb2 as pb

pytestmark = pytest.mark.integration


@pytest.fixture
def engine(event_deps):
    return event_deps.engine


def _relay(settings, schema: str) -> OutboxRelay:
    return OutboxRelay(settings.asyncpg_dsn, schema, lambda: KafkaPublisher(make_producer(settings)),
                       batch_size=500, poll_seconds=0.1)


async def _unsent(engine, schema: str) -> int:
    async with engine.connect() as connection:
        return await connection.scalar(sa.text(f'SELECT count(*) FROM "{schema}".outbox WHERE sent_at IS NULL'))


async def _until(check: Callable[[], Awaitable[bool]], timeout: float = 60) -> None:
    async with asyncio.timeout(timeout):
        while not await check():
            await asyncio.sleep(0.1)


class _Jobs:
    """Background jobs of a test, stopped together."""

    def __init__(self) -> None:
        self.stop = asyncio.Event()
        self.tasks: list[asyncio.Task] = []

    def start(self, job: Callable[[asyncio.Event], Awaitable[None]]) -> None:
        self.tasks.append(asyncio.create_task(job(self.stop)))

    async def close(self) -> None:
        self.stop.set()
        await asyncio.gather(*self.tasks)


@pytest.fixture
async def jobs():
    running = _Jobs()
    yield running
    await running.close()


def _at_the_end(settings, group: str, topic: str, joined: asyncio.Event, loop) -> Callable:  # type: ignore[no-untyped-def]
    """A consumer factory that starts a new group at the topic's end (not at the history of the
    whole test session) and says when its positions are fixed."""

    def factory():  # type: ignore[no-untyped-def]
        consumer = make_consumer(settings, group, [topic], auto_offset_reset="latest")
        while not consumer.assignment():
            consumer.poll(timeout_ms=100)
        for partition in consumer.assignment():
            consumer.position(partition)
        loop.call_soon_threadsafe(joined.set)
        return consumer

    return factory


async def test_an_admins_transition_reaches_the_registrations_through_kafka(
        settings, engine, event_stub, registration_stub, participant_stub, registration_deps, jobs, unique) -> None:
    occurrence = await create_occurrence(engine, [SessionSpec("s", 3)])
    a, b = await new_participants(participant_stub, 2)
    seated = [await registration_stub.CreateRegistration(register(occurrence.session("s"), p), metadata=ADMIN)
              for p in (a, b)]
    jobs.start(_relay(settings, "event_service").run)
    await _until(lambda: _unsent_is_zero(engine, "event_service"))
    joined = asyncio.Event()
    group = f"test-lifecycle-{unique}"
    consumer = lifecycle_consumer(settings.model_copy(update={"lifecycle_consumer_group": group}), registration_deps,
                                  _at_the_end(settings, group, topics.CATALOG, joined, asyncio.get_running_loop()))
    jobs.start(consumer.run)
    async with asyncio.timeout(30):
        await joined.wait()
    before = await last_outbox_id(engine)
    emitted = NOTIFICATIONS_EMITTED.labels("reconfirmation.request")._value.get()

    moved = await event_stub.TransitionOccurrence(epb.TransitionOccurrenceRequest(
        name=f"occurrences/{occurrence.occurrence_id}", target_state=S.OCCURRENCE_STATE_CONFIRMING,
        request_id=str(uuid.uuid4())), metadata=ADMIN)
    assert moved.state == S.OCCURRENCE_STATE_CONFIRMING

    async def all_asked() -> bool:
        states = [await registration_stub.GetRegistration(pb.GetRegistrationRequest(name=r.name), metadata=ADMIN)
                  for r in seated]
        return all(r.reconfirmation == rpb.RECONFIRMATION_REQUESTED for r in states)

    await _until(all_asked)
    asked = notifications_in(await outbox_since(engine, before), "reconfirmation.request")
    assert sorted(r.parameters["registration"] for r in asked) == sorted(r.name for r in seated)
    assert all(r.parameters["reconfirmation_deadline"] for r in asked)

    # participant_service's relay publishes the requests and counts them by template.
    jobs.start(_relay(settings, SCHEMA).run)
    await _until(lambda: _unsent_is_zero(engine, SCHEMA))
    assert NOTIFICATIONS_EMITTED.labels("reconfirmation.request")._value.get() >= emitted + 2


async def _unsent_is_zero(engine, schema: str) -> bool:
    return await _unsent(engine, schema) == 0


def _produce(settings, topic: str, records: list[tuple[str, bytes]]) -> None:
    producer = make_producer(settings)
    try:
        for key, value in records:
            producer.send(topic, key=key.encode(), value=value)
        producer.flush(timeout=30)
    finally:
        producer.close(timeout=5)


def _envelope(delivery: Delivery) -> bytes:
    assert delivery.envelope is not None
    return delivery.envelope.SerializeToString()


async def _system_errors(engine, after: int) -> list:
    return [r for r in notifications_in(await outbox_since(engine, after), "system.error")
            if r.parameters.get("error_code") == "message_refused"]


async def test_a_bad_message_is_skipped_once_and_the_next_one_is_handled(
        settings, engine, registration_stub, participant_stub, registration_deps, jobs, unique) -> None:
    topic = f"test-consumer-{unique}"
    await asyncio.to_thread(ensure_topics, settings, [topic], 1)
    occurrence = await create_occurrence(engine, [SessionSpec("s", 2)])
    (a,) = await new_participants(participant_stub, 1)
    seated = await registration_stub.CreateRegistration(register(occurrence.session("s"), a), metadata=ADMIN)
    cancelled, _ = state_changed(occurrence, S.OCCURRENCE_STATE_CANCELLED)
    broken = envelope_pb2.Envelope(event_id=str(uuid.uuid4()), type=catalog_events_pb2.OccurrenceStateChanged.
                                   DESCRIPTOR.full_name, payload=any_pb2.Any(
                                       type_url="type.googleapis.com/turnout.event.v1.OccurrenceStateChanged",
                                       value=b"\xff\xff\xff"))
    await asyncio.to_thread(_produce, settings, topic, [
        ("x", b"\x08\x96\x01 not an envelope \xff"), ("y", broken.SerializeToString()),
        (occurrence.occurrence_id, _envelope(cancelled))])
    before = await last_outbox_id(engine)
    group = f"test-poison-{unique}"

    def consumer() -> MessageConsumer:
        return MessageConsumer(lambda: make_consumer(settings, group, [topic]), group, handlers(registration_deps),
                               record_refusal(registration_deps.uow, processed_messages, component=COMPONENT))

    first = _Jobs()
    first.start(consumer().run)
    try:
        await _until(lambda: _told_cancelled(engine, before, seated.name))
    finally:
        await first.close()
    errors = await _system_errors(engine, before)
    assert len(errors) == 2 and {e.role for e in errors} == {"admin"}
    assert {e.parameters["reason"] for e in errors} == {"UNDECODABLE_MESSAGE"}
    assert {e.parameters["component"] for e in errors} == {COMPONENT}
    assert {e.parameters["topic"] for e in errors} == {topic}

    # Read again from the start (a lost commit, a replay; another Kafka group, the same inbox):
    # nothing is reported or told twice.
    again = f"{group}-replay"
    handled, refused = (MESSAGES.labels(group, outcome)._value.get() for outcome in ("handled", "refused"))

    def replay() -> MessageConsumer:
        return MessageConsumer(lambda: make_consumer(settings, again, [topic]), group, handlers(registration_deps),
                               record_refusal(registration_deps.uow, processed_messages, component=COMPONENT))

    second = _Jobs()
    middle = await last_outbox_id(engine)
    second.start(replay().run)
    try:
        await _until(lambda: _counted(group, handled + 1, refused + 2))
    finally:
        await second.close()
    assert notifications_in(await outbox_since(engine, middle)) == []


async def _told_cancelled(engine, after: int, registration: str) -> bool:
    return any(r.parameters.get("registration") == registration
               for r in notifications_in(await outbox_since(engine, after), "occurrence.cancelled"))


async def _counted(group: str, handled: float, refused: float) -> bool:
    return (MESSAGES.labels(group, "handled")._value.get() >= handled
            and MESSAGES.labels(group, "refused")._value.get() >= refused)


async def test_a_transient_failure_reads_the_message_again(settings, jobs, unique) -> None:
    topic = f"test-consumer-{unique}"
    await asyncio.to_thread(ensure_topics, settings, [topic], 1)
    payload = catalog_events_pb2.OccurrenceReminderDue(event="events/x")
    packed = any_pb2.Any()
    packed.Pack(payload)
    ids = [str(uuid.uuid4()) for _ in range(3)]
    await asyncio.to_thread(_produce, settings, topic, [
        ("k", envelope_pb2.Envelope(event_id=i, type=payload.DESCRIPTOR.full_name, payload=packed).SerializeToString())
        for i in ids])
    seen: list[str] = []
    failed: list[str] = []

    async def flaky(delivery: Delivery, message: catalog_events_pb2.OccurrenceReminderDue) -> None:
        if delivery.message_id == ids[1] and not failed:
            failed.append(delivery.message_id)
            raise Unavailable("event-service is unavailable; retry later")
        seen.append(delivery.message_id)

    async def refuse(delivery: Delivery, error: Exception) -> None:
        raise AssertionError(f"nothing is refused here: {error!r}")

    group = f"test-transient-{unique}"
    consumer = MessageConsumer(lambda: make_consumer(settings, group, [topic]), group,
                               {catalog_events_pb2.OccurrenceReminderDue: flaky}, refuse, pause_seconds=0.2)
    jobs.start(consumer.run)

    async def all_seen() -> bool:
        return set(seen) == set(ids)

    await _until(all_seen)
    assert seen == ids, "in order, the failed one again from the committed offset, none twice"
    assert failed == [ids[1]]
