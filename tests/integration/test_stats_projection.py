"""Registration stats against real Redis: after a scripted scenario the event, session and
participant figures are the expected numbers, in any interleaving of registrations and after
a replay."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
import redis
import redis.asyncio as aioredis

from kernel import topics
from kernel.unit_of_work import OutboxMessage, build_envelope
from reporting_service.keyspace import Keyspace
from reporting_service.projections.registry import to_change
from reporting_service.projections.store import ProjectionStore
from reporting_service.stats import StatsReader
from turnout.event.v1 import catalog_events_pb2, session_pb2
from turnout.participant.v1 import registration_events_pb2 as events
from turnout.participant.v1 import registration_pb2 as rpb

pytestmark = pytest.mark.integration

NOW = datetime.now(UTC)
# Sessions of event E: two cases sharing a venue, and a past session at another venue.
SESSIONS = {"alabuga": ("case-alabuga", "V1", 2, NOW + timedelta(days=2)),
            "b1": ("case-b1", "V1", 3, NOW + timedelta(days=2)),
            "past": ("laundry", "V2", 5, NOW - timedelta(days=2))}


def scheduled(session_id: str) -> bytes:
    service, venue, capacity, _ = SESSIONS[session_id]
    session = session_pb2.Session(name=f"sessions/{session_id}", event="events/E", occurrence="occurrences/O",
                                  service=f"services/{service}", venue=f"venues/{venue}", capacity=capacity)
    payload = catalog_events_pb2.SessionScheduled(session=session, occurrence=session_pb2.Occurrence(
        name="occurrences/O", capacity=10))
    return build_envelope(OutboxMessage(topics.CATALOG, "session", session_id, 1, payload)).SerializeToString()


class Registrations:
    def __init__(self) -> None:
        self.streams: dict[str, list[bytes]] = {}

    def emit(self, registration_id: str, participant: str, session_id: str, state: int, payload_type,
             attendance: int = rpb.ATTENDANCE_EXPECTED) -> None:
        stream = self.streams.setdefault(registration_id, [])
        ends = SESSIONS[session_id][3] + timedelta(hours=1)
        registration = rpb.Registration(name=f"registrations/{registration_id}", participant=f"participants/{participant}",
                                        session=f"sessions/{session_id}", state=state, attendance=attendance,
                                        event="events/E")
        registration.session_end_time.FromDatetime(ends)
        envelope = build_envelope(OutboxMessage(topics.PARTICIPANTS, "registration", registration_id,
                                                len(stream) + 1, payload_type(registration=registration)))
        stream.append(envelope.SerializeToString())


def scenario() -> Registrations:
    r = Registrations()
    C, W, X = rpb.REGISTRATION_STATE_CONFIRMED, rpb.REGISTRATION_STATE_WAITLISTED, rpb.REGISTRATION_STATE_CANCELLED
    r.emit("r1", "p1", "alabuga", C, events.RegistrationCreated)
    r.emit("r2", "p2", "alabuga", C, events.RegistrationCreated)
    r.emit("r3", "p3", "alabuga", W, events.RegistrationCreated)
    r.emit("r4", "p3", "b1", C, events.RegistrationCreated)
    r.emit("r4", "p3", "b1", X, events.RegistrationCancelled)
    r.emit("r5", "p1", "past", C, events.RegistrationCreated)
    r.emit("r5", "p1", "past", C, events.AttendanceMarked, attendance=rpb.ATTENDANCE_ATTENDED)
    r.emit("r6", "p2", "past", C, events.RegistrationCreated)
    r.emit("r6", "p2", "past", C, events.AttendanceMarked, attendance=rpb.ATTENDANCE_NO_SHOW)
    r.emit("r7", "p3", "past", C, events.RegistrationCreated)  # never marked: missed too
    return r


def shuffled(r: Registrations, rng: random.Random) -> list[tuple[str, bytes]]:
    streams = {k: list(v) for k, v in r.streams.items()}
    order = [(topics.CATALOG, scheduled(s)) for s in SESSIONS]
    rng.shuffle(order)
    while any(streams.values()):
        key = rng.choice([k for k, v in streams.items() if v])
        order.append((topics.PARTICIPANTS, streams[key].pop(0)))
    return order


@pytest.mark.parametrize("seed", range(4))
async def test_event_session_and_participant_figures(settings, unique, seed) -> None:
    keyspace = Keyspace(prefix=f"test-stats-{unique}")
    store = ProjectionStore(redis.Redis.from_url(settings.redis_url), keyspace)
    rng = random.Random(seed)
    registrations = scenario()
    for _ in range(2):  # the second pass is a replay: nothing changes
        store.apply([to_change(topic, raw, keyspace) for topic, raw in shuffled(registrations, rng)])

    client = aioredis.from_url(settings.redis_url, decode_responses=True)
    try:
        reader = StatsReader(client, keyspace)
        event = await reader.event("E")
        p1, p2, p3 = [await reader.participant(p) for p in ("p1", "p2", "p3")]
        assert await reader.event("unknown") is None
    finally:
        await client.aclose()

    by_session = {s.session_id: s for s in event.sessions}
    alabuga = by_session["alabuga"].counts
    assert (alabuga.registered, alabuga.by_state["waitlisted"]) == (2, 1)
    b1 = by_session["b1"].counts
    assert (b1.registered, b1.by_state["cancelled"]) == (0, 1)
    past = by_session["past"].counts
    assert dict(past.by_attendance) == {"attended": 1, "no_show": 1, "expected": 1}
    assert event.totals.counts.registered == 5
    by_service = {g.key: g.counts.registered for g in event.by_service}
    assert by_service == {"services/case-alabuga": 2, "services/case-b1": 0, "services/laundry": 3}
    by_venue = {g.key: g.counts.registered for g in event.by_venue}
    assert by_venue == {"venues/V1": 2, "venues/V2": 3}

    assert (p1.registrations, p1.attended, p1.no_shows, p1.upcoming, p1.no_show_rate) == (2, 1, 0, 1, 0.0)
    assert (p2.registrations, p2.attended, p2.no_shows, p2.no_show_rate) == (2, 0, 1, 1.0)
    assert (p3.registrations, p3.cancellations, p3.no_shows, p3.upcoming) == (3, 1, 1, 0)  # a waitlist place is no seat
