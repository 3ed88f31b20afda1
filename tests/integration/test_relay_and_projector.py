"""The outbox relay and the projector against real Postgres, Kafka (Tansu) and Redis."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid

import pytest
import redis
import sqlalchemy as sa

from event_service.adapters.tables import SCHEMA as EVENT_SCHEMA
from event_service.adapters.tables import outbox
from kernel import topics
from kernel.kafka import make_consumer, make_producer
from kernel.relay import KafkaPublisher, OutboxRelay
from kernel.devstack.processes import wait_until
from reporting_service.keyspace import Keyspace
from reporting_service.projections.store import ProjectionStore
from reporting_service.projector import Projector
from turnout.common.v1 import envelope_pb2
from turnout.event.v1 import event_service_pb2, venue_pb2

pytestmark = pytest.mark.integration


async def _create_venues(event_stub, prefix: str, count: int) -> list[str]:
    created = await asyncio.gather(*[
        event_stub.CreateVenue(event_service_pb2.CreateVenueRequest(
            venue=venue_pb2.Venue(display_name=f"{prefix} {i}"), request_id=str(uuid.uuid4())))
        for i in range(count)
    ])
    return [v.name.removeprefix("venues/") for v in created]


async def _unsent(event_deps) -> int:
    async with event_deps.engine.connect() as connection:
        return await connection.scalar(sa.select(sa.func.count()).select_from(outbox).where(outbox.c.sent_at.is_(None)))


class _CrashAfterPublish(KafkaPublisher):
    """Publishes for real, then dies before the relay can mark the rows sent."""

    def publish(self, rows):
        super().publish(rows)
        raise OSError("relay process died after publishing")


def _relay(settings, publisher=KafkaPublisher) -> OutboxRelay:
    return OutboxRelay(settings.asyncpg_dsn, EVENT_SCHEMA, lambda: publisher(make_producer(settings)),
                       batch_size=50, poll_seconds=0.1)


async def _run_until_drained(relay: OutboxRelay, event_deps, timeout: float = 30) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))
    try:
        async with asyncio.timeout(timeout):
            while await _unsent(event_deps):
                await asyncio.sleep(0.05)
    finally:
        stop.set()
        await task


def _consume_envelopes(settings, wanted: set[str], timeout: float = 30,
                       enough=None) -> list[envelope_pb2.Envelope]:
    """Every catalog envelope of the wanted aggregates, read from the beginning by a new group
    until each was seen (or until `enough(found)`)."""
    consumer = make_consumer(settings, f"test-{uuid.uuid4()}", [topics.CATALOG])
    found: list[envelope_pb2.Envelope] = []
    try:
        def caught_up() -> bool:
            for records in consumer.poll(timeout_ms=200).values():
                for record in records:
                    envelope = envelope_pb2.Envelope.FromString(record.value)
                    if envelope.aggregate_id in wanted:
                        assert record.key.decode() == envelope.aggregate_id
                        found.append(envelope)
            return enough(found) if enough else {e.aggregate_id for e in found} >= wanted
        wait_until(caught_up, timeout=timeout, interval=0, what="envelopes in kafka")
    finally:
        consumer.close()
    return found


async def test_relay_publishes_every_row_and_marks_it_sent(settings, event_stub, event_deps, unique):
    venue_ids = await _create_venues(event_stub, f"relay {unique}", 120)
    await _run_until_drained(_relay(settings), event_deps)
    envelopes = await asyncio.to_thread(_consume_envelopes, settings, set(venue_ids))
    assert sorted(e.aggregate_id for e in envelopes) == sorted(venue_ids)
    assert all(e.type == "turnout.event.v1.VenueCreated" and e.aggregate_version == 1 for e in envelopes)


async def test_relay_crash_between_publish_and_mark_republishes_never_loses(settings, event_stub, event_deps, unique):
    venue_ids = await _create_venues(event_stub, f"crash {unique}", 30)
    crashing = _relay(settings, _CrashAfterPublish)
    stop = asyncio.Event()
    task = asyncio.create_task(crashing.run(stop))
    await asyncio.sleep(1.0)  # it publishes, "dies" and retries, never marking anything sent
    stop.set()
    await task
    assert await _unsent(event_deps) >= 30, "rows must stay unsent until the broker acknowledged and we marked"
    await _run_until_drained(_relay(settings), event_deps)
    envelopes = await asyncio.to_thread(_consume_envelopes, settings, set(venue_ids))
    assert {e.aggregate_id for e in envelopes} == set(venue_ids)
    per_id = {}
    for envelope in envelopes:
        per_id.setdefault(envelope.aggregate_id, set()).add(envelope.event_id)
    assert all(len(ids) == 1 for ids in per_id.values()), "a republished row keeps its event id"
    assert len(envelopes) > len(venue_ids), "the crash must have caused duplicates for this test to mean anything"


class _BrokerLosesItsTail:
    """Real publishers, except that the broker fails one publish when told to: as a broker
    that restarted empty would, having lost what it acknowledged last."""

    def __init__(self, settings):
        self.settings = settings
        self.fail_next = False

    def __call__(self) -> KafkaPublisher:
        broker = self

        class Publisher(KafkaPublisher):
            def publish(self, rows):
                if broker.fail_next:
                    broker.fail_next = False
                    return 0
                return super().publish(rows)

        return Publisher(make_producer(self.settings))


@pytest.mark.parametrize("window, resent", [(60.0, True), (0.0, False)])
async def test_a_failed_publish_sends_the_recently_acknowledged_rows_again(settings, event_stub, event_deps, unique,
                                                                          window, resent):
    broker = _BrokerLosesItsTail(settings)
    relay = OutboxRelay(settings.asyncpg_dsn, EVENT_SCHEMA, broker, batch_size=50, poll_seconds=0.1,
                        resend_window=window)
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))
    try:
        before = await _create_venues(event_stub, f"tail {unique}", 10)
        async with asyncio.timeout(30):
            while await _unsent(event_deps):
                await asyncio.sleep(0.05)
        broker.fail_next = True
        after = await _create_venues(event_stub, f"tail {unique} later", 5)
        async with asyncio.timeout(30):
            while broker.fail_next or await _unsent(event_deps):
                await asyncio.sleep(0.05)
    finally:
        stop.set()
        await task
    expected = len(before) * (2 if resent else 1) + len(after)
    envelopes = await asyncio.to_thread(_consume_envelopes, settings, set(before) | set(after),
                                        enough=lambda found: len(found) >= expected)
    copies = {venue: sum(e.aggregate_id == venue for e in envelopes) for venue in before}
    assert set(copies.values()) == ({2} if resent else {1}), copies
    assert {e.aggregate_id for e in envelopes} >= set(after)


def _snapshot(client: redis.Redis, keyspace: Keyspace) -> dict[str, object]:
    """Every read-model key and its value, whatever its Redis type."""
    read = {"hash": client.hgetall, "set": client.smembers, "string": client.get,
            "zset": lambda key: client.zrange(key, 0, -1, withscores=True),
            "list": lambda key: client.lrange(key, 0, -1)}
    return {key: read[client.type(key)](key) for key in client.scan_iter(f"{keyspace.prefix}:*")}


def _project_until(settings, keyspace: Keyspace, done, timeout: float = 30) -> None:
    client = redis.Redis.from_url(settings.redis_url)
    store = ProjectionStore(client, keyspace)
    projector = Projector(lambda: make_consumer(settings, f"test-{uuid.uuid4()}", [topics.CATALOG, topics.PARTICIPANTS]), store)
    stop = threading.Event()
    thread = threading.Thread(target=projector.run, args=(stop,), daemon=True)
    thread.start()
    try:
        wait_until(lambda: done(client), timeout=timeout, what="projection")
    finally:
        stop.set()
        thread.join(10)


async def test_replaying_a_whole_topic_twice_changes_nothing(settings, event_stub, event_deps, unique):
    venue_ids = await _create_venues(event_stub, f"replay {unique}", 40)
    await _run_until_drained(_relay(settings), event_deps)
    keyspace = Keyspace(prefix=f"test-{unique}")

    def has_all(client: redis.Redis) -> bool:
        return all(client.exists(keyspace.venue(v)) for v in venue_ids)

    await asyncio.to_thread(_project_until, settings, keyspace, has_all)
    client = redis.Redis.from_url(settings.redis_url, decode_responses=True)
    first = _snapshot(client, keyspace)
    totals = client.hgetall(keyspace.totals)

    def replayed(c: redis.Redis) -> bool:
        return int(c.hget(keyspace.totals, "skipped_duplicates") or 0) >= int(totals["applied_events"])

    # A new consumer group reads every topic from the beginning again: pure duplicates.
    await asyncio.to_thread(_project_until, settings, keyspace, replayed)
    second = _snapshot(client, keyspace)
    totals_key = keyspace.totals
    assert {k: v for k, v in second.items() if k != totals_key} == {k: v for k, v in first.items() if k != totals_key}
    assert second[totals_key]["applied_events"] == totals["applied_events"]
    assert second[totals_key]["venue_count"] == totals["venue_count"]
    assert int(totals["venue_count"]) >= len(venue_ids)


def test_one_aggregate_on_two_topics_is_applied_from_both_in_any_order(settings, unique):
    """A session's schedule (catalog, version 1) may arrive after its first seat (ledger,
    version 2): versions are remembered per topic, so neither is mistaken for a replay."""
    from reporting_service.projections.store import Change

    keyspace = Keyspace(prefix=f"test-topics-{unique}")
    client = redis.Redis.from_url(settings.redis_url, decode_responses=True)
    store = ProjectionStore(redis.Redis.from_url(settings.redis_url), keyspace)
    target = f"{keyspace.prefix}:probe"
    seat = Change(topics.LEDGER, "session", "s1", 2, [["HINCRBY", target, "ledger", 1]])
    schedule = Change(topics.CATALOG, "session", "s1", 1, [["HINCRBY", target, "catalog", 1]])
    assert store.apply([seat, schedule]) == 2
    assert store.apply([schedule, seat]) == 0, "a replay changes nothing"
    assert client.hgetall(target) == {"ledger": "1", "catalog": "1"}


def test_a_participant_update_replaces_the_projected_profile(settings, unique):
    from reporting_service.projections.registry import to_change
    from kernel.unit_of_work import OutboxMessage, build_envelope
    from turnout.participant.v1 import participant_events_pb2, participant_pb2

    keyspace = Keyspace(prefix=f"test-profile-{unique}")
    store = ProjectionStore(redis.Redis.from_url(settings.redis_url), keyspace)

    def envelope(payload, version: int) -> bytes:
        return build_envelope(OutboxMessage(topics.PARTICIPANTS, "participant", "p1", version, payload)).SerializeToString()

    person = participant_pb2.Participant(name="participants/p1", card_number="100001", first_name="Анна",
                                         last_name="Иванова")
    renamed = participant_pb2.Participant(name="participants/p1", card_number="100001", first_name="Анна",
                                          last_name="Петрова")
    changes = [to_change(topics.PARTICIPANTS, envelope(participant_events_pb2.ParticipantCreated(participant=person), 1), keyspace),
               to_change(topics.PARTICIPANTS, envelope(participant_events_pb2.ParticipantUpdated(participant=renamed), 2), keyspace)]
    assert store.apply(changes) == 2
    profile = redis.Redis.from_url(settings.redis_url, decode_responses=True).hgetall(keyspace.participant("p1"))
    assert profile["last_name"] == "Петрова"
    assert redis.Redis.from_url(settings.redis_url).hget(keyspace.totals, "participant_count") == b"1"


class _RedisDown(redis.exceptions.ConnectionError):
    """Redis went away in the middle of a catch-up."""


def test_offsets_are_committed_only_after_their_batch_is_in_redis(settings, unique):
    """The projector polls the next batch while one is applied: a batch that failed to apply
    (and every batch polled after it) must come again to a fresh projector in the group, and
    what was applied must not (its offsets were committed)."""
    from kernel.kafka import ensure_topics
    from kernel.unit_of_work import OutboxMessage, build_envelope
    from reporting_service.projections.registry import to_change
    from turnout.participant.v1 import participant_events_pb2, participant_pb2

    topic, group = f"test-projector-{unique}", f"test-projector-{unique}"
    ensure_topics(settings, [topic], partitions=3)
    messages = []
    for version in (1, 2, 3):
        for n in range(30):
            person = participant_pb2.Participant(name=f"participants/p{n}", card_number=f"{200000 + n}",
                                                 first_name=f"Имя{n}", last_name=f"Фамилия{n}-{version}")
            payload = (participant_events_pb2.ParticipantCreated(participant=person) if version == 1
                       else participant_events_pb2.ParticipantUpdated(participant=person))
            messages.append((f"p{n}", build_envelope(OutboxMessage(topic, "participant", f"p{n}", version,
                                                                    payload)).SerializeToString()))
    producer = make_producer(settings)
    for key, value in messages:
        producer.send(topic, key=key.encode(), value=value)
    producer.flush()
    producer.close()

    client = redis.Redis.from_url(settings.redis_url)
    keyspace = Keyspace(prefix=f"test-commit-{unique}")
    stop = threading.Event()
    applies: list[int] = []

    class FailsOnSecondBatch(ProjectionStore):
        def apply(self, changes):
            applies.append(len(changes))
            if len(applies) == 2:
                stop.set()  # the process dies with this batch: nothing of it reached Redis
                raise _RedisDown("connection reset by peer")
            return super().apply(changes)

    def consumer():
        return make_consumer(settings, group, [topic])

    Projector(consumer, FailsOnSecondBatch(client, keyspace), max_records=7).run(stop)
    assert len(applies) == 2 and applies[0] > 0
    applied_before = int(client.hget(keyspace.totals, "applied_events"))
    assert applied_before == applies[0], "only the first batch reached Redis"

    # A fresh projector in the same group goes on from the committed offsets.
    projector = Projector(consumer, ProjectionStore(client, keyspace), max_records=7)
    stop = threading.Event()
    thread = threading.Thread(target=projector.run, args=(stop,), daemon=True)
    thread.start()
    try:
        wait_until(lambda: int(client.hget(keyspace.totals, "applied_events") or 0) >= len(messages), timeout=30,
                   what="the second projector catching up (it never does if offsets were committed before "
                        "their batch was applied: those messages are lost)")
        time.sleep(0.3)  # anything more (a duplicate) would show in the totals
    finally:
        stop.set()
        thread.join(10)
    totals = client.hgetall(keyspace.totals)
    assert int(totals[b"applied_events"]) == len(messages), "every message applied once, none lost"
    assert int(totals.get(b"skipped_duplicates", 0)) == 0, "nothing applied was re-delivered: its offsets were committed"

    # Exactly the read model of the same messages applied in one go.
    reference = Keyspace(prefix=f"test-commit-ref-{unique}")
    ProjectionStore(client, reference).apply([to_change(topic, value, reference) for _, value in messages])

    def stripped(space: Keyspace) -> dict[str, object]:
        return {key.removeprefix(f"{space.prefix}:"): value for key, value in
                _snapshot(redis.Redis.from_url(settings.redis_url, decode_responses=True), space).items()}

    assert stripped(keyspace) == stripped(reference)
