"""Reconfirmation counts in the registration stats against real Redis (and Kafka for the
live projector): every registration is counted once, in the bucket of its latest
reconfirmation, at session, event, service and venue level, whatever the interleaving,
redelivery or stale delivery; a rebuild gives the same figures; gRPC and REST show them."""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import grpc
import httpx
import pytest
import redis
import redis.asyncio as aioredis
import sqlalchemy as sa
from ledger_fixtures import SessionSpec, create_occurrence
from registration_fixtures import ADMIN, new_participants, register
from reporting_support import reporting_server
from test_consistency_check import outbox_envelopes

from kernel import topics
from kernel.kafka import ensure_topics, make_consumer, make_producer
from kernel.unit_of_work import OutboxMessage, build_envelope
from reporting_service import generations
from reporting_service.consistency import ConsistencyChecker, Mismatch
from reporting_service.keyspace import Keyspace
from reporting_service.projections.registry import to_change
from reporting_service.projections.store import ProjectionStore
from reporting_service.projector import Projector
from reporting_service.rebuild import (
    SUCCEEDED,
    TOPICS,
    RebuildConfig,
    Rebuilder,
    Rebuilds,
)
from reporting_service.stats import RECONFIRMATION, RegistrationCounts, StatsReader
from turnout.common.v1 import envelope_pb2
from turnout.event.v1 import catalog_events_pb2, session_pb2
from turnout.participant.v1 import registration_events_pb2 as events
from turnout.participant.v1 import registration_pb2 as rpb
from turnout.reporting.v1 import reporting_service_pb2 as pb
from turnout.reporting.v1 import reporting_service_pb2_grpc

pytestmark = pytest.mark.integration

# Sessions of event E: session id -> (service, venue).
SESSIONS = {"s1": ("A", "V1"), "s2": ("B", "V1"), "s3": ("A", "V2")}
CONFIRMED, CANCELLED = rpb.REGISTRATION_STATE_CONFIRMED, rpb.REGISTRATION_STATE_CANCELLED
ASKED = (CONFIRMED, rpb.RECONFIRMATION_REQUESTED, events.RegistrationReconfirmationChanged)

# registration id -> (session, its changes after the confirmed booking: state, reconfirmation, event type).
JOURNEYS = {
    "confirms": ("s1", [ASKED, (CONFIRMED, rpb.RECONFIRMATION_CONFIRMED, events.RegistrationReconfirmationChanged)]),
    "declines": ("s1", [ASKED, (CANCELLED, rpb.RECONFIRMATION_DECLINED, events.RegistrationCancelled)]),
    "kept": ("s2", [ASKED, (CONFIRMED, rpb.RECONFIRMATION_UNANSWERED_KEPT, events.RegistrationReconfirmationChanged)]),
    "never-asked": ("s2", []),
    "released": ("s3", [ASKED, (CANCELLED, rpb.RECONFIRMATION_UNANSWERED_RELEASED, events.RegistrationCancelled)]),
    "awaited": ("s3", [ASKED]),
    "came": ("s3", [ASKED, (CONFIRMED, rpb.RECONFIRMATION_CONFIRMED, events.RegistrationReconfirmationChanged),
                    (CONFIRMED, rpb.RECONFIRMATION_CONFIRMED, events.AttendanceMarked)]),
}
# (confirmed, declined, no answer)
EXPECTED_SESSIONS = {"s1": (1, 1, 0), "s2": (0, 0, 1), "s3": (1, 0, 2)}
EXPECTED_TOTALS = (2, 1, 3)
EXPECTED_BY_SERVICE = {"services/A": (2, 1, 2), "services/B": (0, 0, 1)}
EXPECTED_BY_VENUE = {"venues/V1": (1, 1, 1), "venues/V2": (1, 0, 2)}


@dataclass
class Script:
    """Envelopes per aggregate, in version order."""

    streams: dict[str, list[tuple[str, bytes]]] = field(default_factory=dict)

    def emit(self, topic: str, aggregate_type: str, aggregate_id: str, payload) -> None:  # type: ignore[no-untyped-def]
        stream = self.streams.setdefault(f"{aggregate_type}/{aggregate_id}", [])
        envelope = build_envelope(OutboxMessage(topic, aggregate_type, aggregate_id, len(stream) + 1, payload))
        stream.append((topic, envelope.SerializeToString()))


def script(catalog: str = topics.CATALOG, participants: str = topics.PARTICIPANTS) -> Script:
    s = Script()
    for session_id, (service, venue) in SESSIONS.items():
        session = session_pb2.Session(name=f"sessions/{session_id}", event="events/E", occurrence="occurrences/O",
                                      service=f"services/{service}", venue=f"venues/{venue}", capacity=5)
        s.emit(catalog, "session", session_id, catalog_events_pb2.SessionScheduled(
            session=session, occurrence=session_pb2.Occurrence(name="occurrences/O", capacity=20)))
    for registration_id, (session_id, changes) in JOURNEYS.items():
        for state, reconfirmation, payload_type in [
                (CONFIRMED, rpb.RECONFIRMATION_UNSPECIFIED, events.RegistrationCreated), *changes]:
            registration = rpb.Registration(
                name=f"registrations/{registration_id}", participant=f"participants/p-{registration_id}",
                session=f"sessions/{session_id}", event="events/E", state=state, reconfirmation=reconfirmation,
                attendance=(rpb.ATTENDANCE_ATTENDED if payload_type is events.AttendanceMarked
                            else rpb.ATTENDANCE_EXPECTED))
            s.emit(participants, "registration", registration_id, payload_type(registration=registration))
    return s


def interleaved(s: Script, rng: random.Random) -> list[tuple[str, bytes]]:
    """Each aggregate in order, aggregates interleaved at random."""
    streams = {k: list(v) for k, v in s.streams.items()}
    order = []
    while any(streams.values()):
        key = rng.choice([k for k, v in streams.items() if v])
        order.append(streams[key].pop(0))
    return order


def with_stale_copies(order: list[tuple[str, bytes]], rng: random.Random) -> list[tuple[str, bytes]]:
    """Every message delivered again somewhere after itself, as a redelivery after a crash:
    older versions then arrive after newer ones."""
    result = list(order)
    for index, message in enumerate(order):
        result.insert(rng.randint(index + 1, len(result)), message)
    return result


def newest_first(s: Script) -> list[tuple[str, bytes]]:
    """Each aggregate's versions in reverse: only its latest may count."""
    return [message for stream in s.streams.values() for message in reversed(stream)]


def reconfirmations(counts: RegistrationCounts) -> tuple[int, int, int]:
    return tuple(counts.by_reconfirmation[bucket] for bucket in RECONFIRMATION)  # type: ignore[return-value]


async def figures(redis_url: str, keyspace: Keyspace) -> dict[str, object]:
    client = aioredis.from_url(redis_url, decode_responses=True)
    try:
        event = await StatsReader(client, keyspace).event("E")
    finally:
        await client.aclose()
    assert event is not None
    return {"sessions": {s.session_id: reconfirmations(s.counts) for s in event.sessions},
            "totals": reconfirmations(event.totals.counts),
            "by_service": {g.key: reconfirmations(g.counts) for g in event.by_service},
            "by_venue": {g.key: reconfirmations(g.counts) for g in event.by_venue},
            "cancelled": event.totals.counts.by_state["cancelled"],
            "registered": event.totals.counts.registered}


EXPECTED = {"sessions": EXPECTED_SESSIONS, "totals": EXPECTED_TOTALS, "by_service": EXPECTED_BY_SERVICE,
            "by_venue": EXPECTED_BY_VENUE, "cancelled": 2, "registered": 5}


def project(redis_url: str, keyspace: Keyspace, messages: list[tuple[str, bytes]]) -> int:
    store = ProjectionStore(redis.Redis.from_url(redis_url), keyspace)
    return store.apply([to_change(topic, raw, keyspace) for topic, raw in messages])


DELIVERIES: dict[str, Callable[[Script, random.Random], list[tuple[str, bytes]]]] = {
    "interleaved": interleaved,
    "redelivered-stale": lambda s, rng: with_stale_copies(interleaved(s, rng), rng),
    "newest-first": lambda s, rng: newest_first(s),
}


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("delivery", DELIVERIES)
async def test_each_registration_counts_once_in_its_latest_bucket(settings, unique, delivery, seed) -> None:
    keyspace = Keyspace(prefix=f"test-reconfirm-{unique}")
    s, rng = script(), random.Random(seed)
    project(settings.redis_url, keyspace, DELIVERIES[delivery](s, rng))
    assert await figures(settings.redis_url, keyspace) == EXPECTED
    assert project(settings.redis_url, keyspace, interleaved(s, rng)) == 0, "a replay applies nothing"
    assert await figures(settings.redis_url, keyspace) == EXPECTED


async def test_the_live_projector_over_kafka_counts_redeliveries_once(settings, unique) -> None:
    """Through real topics (of this test's own): every envelope published twice, the second
    time after the whole history, as a relay that died before marking its rows sent."""
    names = (f"test-reconfirm-catalog-{unique}", f"test-reconfirm-participants-{unique}")
    ensure_topics(settings, names, partitions=3)
    s = script(*names)
    order = interleaved(s, random.Random(7))
    producer = make_producer(settings)
    try:
        for topic, raw in order + order:
            # Keyed by aggregate, as the relay keys them: one aggregate, one partition, in order.
            producer.send(topic, key=envelope_pb2.Envelope.FromString(raw).aggregate_id.encode(), value=raw)
        producer.flush()
    finally:
        producer.close()
    keyspace = Keyspace(prefix=f"test-reconfirm-kafka-{unique}")
    store = ProjectionStore(redis.Redis.from_url(settings.redis_url), keyspace)
    projector = Projector(lambda: make_consumer(settings, f"test-reconfirm-{unique}", list(names)), store)
    stop = threading.Event()
    thread = threading.Thread(target=projector.run, args=(stop,), daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if await figures(settings.redis_url, keyspace) == EXPECTED:
                    break
            except AssertionError:
                pass  # no session scheduled yet
            assert time.monotonic() < deadline, "the projector never reached the expected figures"
            await asyncio.sleep(0.2)
    finally:
        stop.set()
        thread.join(30)
    totals = redis.Redis.from_url(settings.redis_url).hgetall(keyspace.totals)
    assert int(totals[b"applied_events"]) == len(order)
    assert int(totals[b"skipped_duplicates"]) == len(order)


class ScriptedSource:
    """A rebuild source replaying the script in another interleaving, with stale copies."""

    name = TOPICS

    def __init__(self, messages: list[tuple[str, bytes]]):
        self._pending = list(messages)

    async def read(self) -> list[tuple[str, bytes]]:
        batch, self._pending = self._pending[:5], self._pending[5:]
        return batch

    async def close(self) -> None:
        pass


async def test_a_rebuild_gives_the_same_figures(settings, unique) -> None:
    root = f"test-reconfirm-rebuild-{unique}"
    s = script()
    project(settings.redis_url, Keyspace(root, root=root), interleaved(s, random.Random(1)))
    client = aioredis.from_url(settings.redis_url)
    sync_client = redis.Redis.from_url(settings.redis_url)
    try:
        before = await figures(settings.redis_url, Keyspace(root, root=root))
        rebuilt_from = with_stale_copies(interleaved(s, random.Random(2)), random.Random(3))

        def rebuilder(source: str) -> Rebuilder:
            # No projected topic of the command side: the target is what the active generation holds.
            return Rebuilder(client, sync_client, root=root, source=source, dsn=settings.asyncpg_dsn, topics=(),
                             topic_source=lambda: ScriptedSource(rebuilt_from),
                             outbox_source=lambda: ScriptedSource([]),
                             config=RebuildConfig(stall_seconds=2.0, retire_grace_seconds=0.1))

        rebuilds = Rebuilds(client, root, rebuilder)
        started = await rebuilds.start(TOPICS)
        await rebuilds.wait()
        done = await rebuilds.get(started.rebuild_id)
        assert (done.state, done.error) == (SUCCEEDED, "")
        active = await generations.active_prefix(client, root)
        assert active == done.generation != root
        assert await figures(settings.redis_url, Keyspace(active, root=root)) == before == EXPECTED
    finally:
        for key in sync_client.scan_iter(match=f"{root}*", count=1000):
            sync_client.unlink(key)
        await client.aclose()
        sync_client.close()


async def test_grpc_and_rest_show_the_counts(settings, unique) -> None:
    from gateway.app import create_app
    from kernel.auth import issue_token

    keyspace = Keyspace(prefix=f"test-reconfirm-rest-{unique}")
    project(settings.redis_url, keyspace, interleaved(script(), random.Random(0)))
    async with reporting_server(settings.redis_url, keyspace) as server:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            stub = reporting_service_pb2_grpc.ReportingServiceStub(channel)
            session = await stub.GetSessionStats(pb.GetSessionStatsRequest(name="sessions/s3/stats"))
            assert (session.counts.reconfirmation_confirmed, session.counts.reconfirmation_declined,
                    session.counts.reconfirmation_no_answer) == EXPECTED_SESSIONS["s3"]
            event = await stub.GetEventStats(pb.GetEventStatsRequest(name="events/E/stats"))
            assert (event.totals.counts.reconfirmation_confirmed, event.totals.counts.reconfirmation_declined,
                    event.totals.counts.reconfirmation_no_answer) == EXPECTED_TOTALS

        app = create_app(settings.model_copy(update={"reporting_service_target": f"127.0.0.1:{server.port}"}))
        token = issue_token(settings.auth_secret, sub="rest-analyst", roles=["analyst"])
        async with app.router.lifespan_context(app), httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://gateway",
                headers={"Authorization": f"Bearer {token}"}) as rest:
            def triple(counts: dict[str, int]) -> tuple[int, int, int]:
                return tuple(counts[f"reconfirmation_{bucket}"] for bucket in RECONFIRMATION)  # type: ignore[return-value]

            answer = await rest.get("/v1/sessions/s1/stats")
            assert answer.status_code == 200, answer.text
            assert triple(answer.json()["counts"]) == EXPECTED_SESSIONS["s1"]
            body = (await rest.get("/v1/events/E/stats")).json()
            assert triple(body["totals"]["counts"]) == EXPECTED_TOTALS
            assert {s["session_id"]: triple(s["counts"]) for s in body["sessions"]} == EXPECTED_SESSIONS
            assert {f"services/{g['id']}": triple(g["counts"]) for g in body["by_service"]} == EXPECTED_BY_SERVICE
            assert {f"venues/{g['id']}": triple(g["counts"]) for g in body["by_venue"]} == EXPECTED_BY_VENUE
            counts_schema = (await rest.get("/openapi.json")).json()["components"]["schemas"]["CountsOut"]
            for bucket in RECONFIRMATION:
                assert f"reconfirmation_{bucket}" in counts_schema["required"]
                assert counts_schema["properties"][f"reconfirmation_{bucket}"]["description"]


async def test_consistency_check_compares_reconfirmations(
        settings, unique, event_deps, registration_stub, participant_stub) -> None:
    """A real booking projected from its outbox agrees; a reconfirmation only the read side
    holds is a difference of its session, until the command side holds it too."""
    occurrence = await create_occurrence(event_deps.engine, [SessionSpec("a", 3)])
    session_id = occurrence.sessions["a"]
    person, = await new_participants(participant_stub, 1)
    booked = await registration_stub.CreateRegistration(register(occurrence.session("a"), person), metadata=ADMIN)
    registration_id = booked.name.removeprefix("registrations/")
    keyspace = Keyspace(prefix=f"test-reconfirm-check-{unique}")
    messages = (await outbox_envelopes(event_deps.engine, "event_service", [session_id])
                + await outbox_envelopes(event_deps.engine, "participant_service", [registration_id]))
    project(settings.redis_url, keyspace, messages)
    client = aioredis.from_url(settings.redis_url, decode_responses=True)
    checker = ConsistencyChecker(settings.asyncpg_dsn, client, keyspace)
    key = f"sessions/{session_id}"
    try:
        assert [m for m in (await checker.check()).mismatches if m.key == key] == []
        version = max(envelope_pb2.Envelope.FromString(raw).aggregate_version
                      for topic, raw in messages if topic == topics.PARTICIPANTS)
        answered = rpb.Registration()
        answered.CopyFrom(booked)
        answered.reconfirmation = rpb.RECONFIRMATION_CONFIRMED
        envelope = build_envelope(OutboxMessage(topics.PARTICIPANTS, "registration", registration_id, version + 1,
                                                events.RegistrationReconfirmationChanged(registration=answered)))
        project(settings.redis_url, keyspace, [(topics.PARTICIPANTS, envelope.SerializeToString())])
        assert [m for m in (await checker.check()).mismatches if m.key == key] == [
            Mismatch(key, "reconfirmations.confirmed", 1, 0)]
        # What participant_service stores once the participant answered (and publishes as above).
        async with event_deps.engine.begin() as connection:
            await connection.execute(sa.text(
                "UPDATE participant_service.registrations SET reconfirmation = 'confirmed' WHERE id = :id"),
                {"id": registration_id})
        assert [m for m in (await checker.check()).mismatches if m.key == key] == []
    finally:
        await client.aclose()
