"""The availability read models against real Redis: whatever order the partitions and topics
interleave in (each session's own events staying in order, as Kafka keeps them), and however
often everything is replayed, they end at the command side's figures."""

from __future__ import annotations

import random

import pytest
import redis
import redis.asyncio as aioredis

from kernel import topics
from kernel.unit_of_work import OutboxMessage, build_envelope
from reporting_service.keyspace import Keyspace
from reporting_service.projections.registry import to_change
from reporting_service.projections.store import ProjectionStore
from reporting_service.read_models import ReadModels
from turnout.event.v1 import catalog_events_pb2, ledger_events_pb2, seat_pb2, session_pb2

pytestmark = pytest.mark.integration

HELD, CONFIRMED, RELEASED, EXPIRED = (seat_pb2.SEAT_STATE_HELD, seat_pb2.SEAT_STATE_CONFIRMED,
                                      seat_pb2.SEAT_STATE_RELEASED, seat_pb2.SEAT_STATE_EXPIRED)


class Ledger:
    """A tiny ledger of one occurrence with sessions A (capacity 3) and B (capacity 2) sharing
    pool P (limit 4): it emits the catalog and ledger envelopes event_service would, each
    session's version counting across both topics."""

    def __init__(self) -> None:
        self.capacity = {"A": 3, "B": 2}
        self.version = {"A": 0, "B": 0}
        self.seats: dict[str, tuple[str, str, int]] = {}  # seat -> (session, participant, state)
        self.streams: dict[str, list[tuple[str, bytes]]] = {"A": [], "B": []}

    def _emit(self, session: str, topic: str, payload) -> None:
        self.version[session] += 1
        envelope = build_envelope(OutboxMessage(topic, "session", session, self.version[session], payload))
        self.streams[session].append((topic, envelope.SerializeToString()))

    def _session(self, session: str) -> session_pb2.Session:
        return session_pb2.Session(name=f"sessions/{session}", occurrence="occurrences/O",
                                   capacity=self.capacity[session], pools=["pools/P"])

    def schedule(self, session: str) -> None:
        self._emit(session, topics.CATALOG, catalog_events_pb2.SessionScheduled(
            session=self._session(session), occurrence=session_pb2.Occurrence(name="occurrences/O", capacity=4)))

    def set_capacity(self, session: str, capacity: int) -> None:
        self.capacity[session] = capacity
        self._emit(session, topics.CATALOG, catalog_events_pb2.SessionUpdated(
            session=self._session(session), changed_fields=["capacity"]))

    def counts(self, session: str) -> seat_pb2.SessionCounts:
        live = [(s, p, st) for s, p, st in self.seats.values() if st in (HELD, CONFIRMED)]
        return seat_pb2.SessionCounts(
            session=f"sessions/{session}", capacity=self.capacity[session],
            held=sum(1 for s, _, st in live if s == session and st == HELD),
            confirmed=sum(1 for s, _, st in live if s == session and st == CONFIRMED),
            occurrence="occurrences/O", occurrence_capacity=4,
            occurrence_participants=len({p for _, p, _ in live}),
            pools=[seat_pb2.PoolCount(pool="pools/P", limit=4, used=len(live))])

    def move(self, seat: str, session: str, participant: str, state: int) -> None:
        self.seats[seat] = (session, participant, state)
        message = seat_pb2.Seat(name=f"seats/{seat}", session=f"sessions/{session}",
                                participant=f"participants/{participant}", state=state)
        payload_type = {HELD: ledger_events_pb2.SeatHeld, CONFIRMED: ledger_events_pb2.SeatConfirmed,
                        RELEASED: ledger_events_pb2.SeatReleased, EXPIRED: ledger_events_pb2.SeatExpired}[state]
        self._emit(session, topics.LEDGER, payload_type(seat=message, counts=self.counts(session)))


def scenario() -> Ledger:
    ledger = Ledger()
    ledger.schedule("A")
    ledger.schedule("B")
    ledger.move("s1", "A", "p1", HELD)
    ledger.move("s2", "A", "p2", CONFIRMED)  # booked directly
    ledger.move("s3", "B", "p1", HELD)  # p1 again, in the other session: still one participant
    ledger.move("s1", "A", "p1", CONFIRMED)
    ledger.move("s4", "B", "p3", HELD)
    ledger.move("s4", "B", "p3", EXPIRED)
    ledger.set_capacity("A", 5)
    ledger.move("s5", "A", "p4", HELD)
    ledger.move("s2", "A", "p2", RELEASED)
    return ledger


def interleaved(ledger: Ledger, rng: random.Random) -> list[tuple[str, bytes]]:
    """The two sessions' streams merged at random, each in its own order; and, since the
    catalog and ledger topics are consumed independently, each session's catalog messages
    moved anywhere relative to its ledger messages."""
    streams = {}
    for session, stream in ledger.streams.items():
        catalog = [m for m in stream if m[0] == topics.CATALOG]
        seats = [m for m in stream if m[0] == topics.LEDGER]
        merged = []
        while catalog or seats:
            source = rng.choice([s for s in (catalog, seats) if s])
            merged.append(source.pop(0))
        streams[session] = merged
    order = []
    while any(streams.values()):
        session = rng.choice([s for s, stream in streams.items() if stream])
        order.append(streams[session].pop(0))
    return order


def newest_time(ledger: Ledger, session: str) -> str:
    from turnout.common.v1 import envelope_pb2

    envelope = envelope_pb2.Envelope.FromString(ledger.streams[session][-1][1])
    return envelope.occurred_at.ToDatetime().isoformat() + "Z"


@pytest.mark.parametrize("seed", range(8))
async def test_any_interleaving_and_any_replay_end_at_the_ledgers_figures(settings, unique, seed) -> None:
    keyspace = Keyspace(prefix=f"test-avail-{unique}")
    store = ProjectionStore(redis.Redis.from_url(settings.redis_url), keyspace)
    ledger = scenario()
    rng = random.Random(seed)
    messages = interleaved(ledger, rng)
    changes = [to_change(topic, raw, keyspace) for topic, raw in messages]
    store.apply(changes)
    store.apply([to_change(topic, raw, keyspace) for topic, raw in interleaved(ledger, rng)])  # a replay

    client = aioredis.from_url(settings.redis_url, decode_responses=True)
    try:
        read = ReadModels(client, keyspace)
        a, b = await read.availability("A"), await read.availability("B")
    finally:
        await client.aclose()
    assert (a.capacity, a.held, a.confirmed, a.available) == (5, 1, 1, 3)
    assert (b.capacity, b.held, b.confirmed, b.available) == (2, 1, 0, 1)
    # The update time is the newest version's, whichever topic it came from and when.
    assert (a.update_time, b.update_time) == (newest_time(ledger, "A"), newest_time(ledger, "B"))
    assert (a.occurrence.capacity, a.occurrence.used, a.occurrence.available) == (4, 2, 2)  # p1 and p4
    [pool] = a.pools
    assert (pool.name, pool.capacity, pool.used, pool.available) == ("P", 4, 3, 1)
    assert b.pools == a.pools


async def test_a_session_not_booked_yet_shows_its_capacity_and_an_unknown_one_nothing(settings, unique) -> None:
    keyspace = Keyspace(prefix=f"test-avail-new-{unique}")
    store = ProjectionStore(redis.Redis.from_url(settings.redis_url), keyspace)
    ledger = Ledger()
    ledger.schedule("A")
    store.apply([to_change(topic, raw, keyspace) for topic, raw in ledger.streams["A"]])
    client = aioredis.from_url(settings.redis_url, decode_responses=True)
    try:
        read = ReadModels(client, keyspace)
        fresh = await read.availability("A")
        assert (fresh.capacity, fresh.held, fresh.confirmed, fresh.available) == (3, 0, 0, 3)
        assert fresh.occurrence.used == 0
        assert await read.availability("nope") is None
    finally:
        await client.aclose()


@pytest.mark.parametrize("deletion_first", [True, False])
async def test_a_deleted_session_stays_deleted_whatever_the_topics_order(settings, unique, deletion_first) -> None:
    """A forced deletion releases the seats (ledger) and then deletes the session (catalog);
    the two topics may be applied in either order."""
    keyspace = Keyspace(prefix=f"test-avail-deleted-{unique}")
    store = ProjectionStore(redis.Redis.from_url(settings.redis_url), keyspace)
    ledger = Ledger()
    ledger.schedule("A")
    ledger.move("s1", "A", "p1", CONFIRMED)
    ledger.move("s1", "A", "p1", RELEASED)
    ledger._emit("A", topics.CATALOG, catalog_events_pb2.SessionDeleted(name="sessions/A", event="events/E"))
    catalog = [m for m in ledger.streams["A"] if m[0] == topics.CATALOG]
    seats = [m for m in ledger.streams["A"] if m[0] == topics.LEDGER]
    order = catalog + seats if deletion_first else seats + catalog
    store.apply([to_change(topic, raw, keyspace) for topic, raw in order])
    client = aioredis.from_url(settings.redis_url, decode_responses=True)
    try:
        assert await ReadModels(client, keyspace).availability("A") is None
    finally:
        await client.aclose()
