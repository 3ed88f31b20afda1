"""The seat ledger under concurrency against real Postgres, through the in-process gRPC
server: no oversell, no second seat, counters equal to the live seat rows, whatever races."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

import grpc
import pytest
import sqlalchemy as sa

from event_service.application import ledger as ledger_handlers
from event_service.application.sweeper import run_sweeper, sweep_all
from grpc_details import details
from ledger_fixtures import (
    PoolSpec,
    SessionSpec,
    create_occurrence,
    ledger_mismatches,
    participant,
    session_row,
)
from turnout.event.v1 import event_service_pb2 as pb
from turnout.event.v1 import seat_pb2

pytestmark = pytest.mark.integration


def hold(session: str, who: str, ttl: timedelta | None = None) -> pb.HoldSeatRequest:
    request = pb.HoldSeatRequest(session=session, participant=who, request_id=str(uuid.uuid4()))
    if ttl is not None:
        request.ttl.FromTimedelta(ttl)
    return request


async def attempt(call) -> str:
    """"OK" or the refusal reason."""
    try:
        await call
    except grpc.aio.AioRpcError as error:
        return details(error)[0] or error.code().name
    return "OK"


async def live_seats(engine, occurrence_id: str) -> list[tuple[str, str, str]]:
    async with engine.connect() as connection:
        return [tuple(r) for r in await connection.execute(sa.text(
            "SELECT session_id, participant_id, state FROM event_service.seats "
            "WHERE occurrence_id = :o AND state IN ('held', 'confirmed')"), {"o": occurrence_id})]


async def pool_used(engine, pool_id: str) -> int:
    async with engine.connect() as connection:
        return await connection.scalar(sa.text("SELECT used FROM event_service.pools WHERE id = :p"), {"p": pool_id})


@pytest.mark.parametrize("fast_path", [True, False], ids=["fast-path", "locked-path-only"])
async def test_a_thousand_holds_for_a_hundred_seats(event_stub, event_deps, monkeypatch, fast_path):
    """Without the fast path every attempt reaches the conditional UPDATEs: they alone must
    hold the line."""
    if not fast_path:
        monkeypatch.setattr(ledger_handlers, "first_refusal", lambda found: None)
    occ = await create_occurrence(event_deps.engine, [SessionSpec("hot", 100)], event_capacity=1000)
    started = time.perf_counter()
    outcomes = await asyncio.gather(*[attempt(event_stub.HoldSeat(hold(occ.session("hot"), participant())))
                                      for _ in range(1000)])
    elapsed = time.perf_counter() - started
    assert Counter(outcomes) == {"OK": 100, "SOLD_OUT": 900}, elapsed
    row = await session_row(event_deps.engine, occ.sessions["hot"])
    assert (row.held, row.confirmed, row.version) == (100, 0, 101)
    assert len(await live_seats(event_deps.engine, occ.occurrence_id)) == 100
    assert await ledger_mismatches(event_deps.engine, occ.occurrence_id) == []


async def test_the_debate_event(event_stub, event_deps):
    """ВТБ 32 seats; Алабуга + Б1 share 41; Северсталь + Альфа share 42; one case per
    participant. 300 participants try random cases at once (two at a time to start, then the
    rest in turn while refused for lack of room): every bucket ends exactly full, nobody is in
    two cases, counters equal rows."""
    cases = ["ВТБ", "Алабуга", "Б1", "Северсталь", "Альфа"]
    occ = await create_occurrence(
        event_deps.engine,
        [SessionSpec("ВТБ", 32), SessionSpec("Алабуга", 41), SessionSpec("Б1", 41), SessionSpec("Северсталь", 42),
         SessionSpec("Альфа", 42)],
        [PoolSpec("pool1", 41, ("Алабуга", "Б1")), PoolSpec("pool2", 42, ("Северсталь", "Альфа"))],
        event_capacity=300, max_sessions_per_participant=1)
    rng = random.Random(20251122)
    reasons: Counter[str] = Counter()

    async def debater(who: str, order: list[str]) -> None:
        first = await asyncio.gather(*[attempt(event_stub.HoldSeat(hold(occ.session(case), who)))
                                       for case in order[:2]])
        reasons.update(first)
        if "OK" in first:
            return
        for case in order[2:]:
            outcome = await attempt(event_stub.HoldSeat(hold(occ.session(case), who)))
            reasons[outcome] += 1
            if outcome != "SOLD_OUT" and outcome != "POOL_FULL":
                return

    await asyncio.gather(*[debater(participant(), rng.sample(cases, len(cases))) for _ in range(300)])
    seats = await live_seats(event_deps.engine, occ.occurrence_id)
    per_session = Counter(session for session, _, _ in seats)
    names = {sid: key for key, sid in occ.sessions.items()}
    by_case = {names[sid]: n for sid, n in per_session.items()}
    assert by_case["ВТБ"] == 32
    assert by_case.get("Алабуга", 0) + by_case.get("Б1", 0) == 41 == await pool_used(event_deps.engine,
                                                                                      occ.pools["pool1"])
    assert by_case.get("Северсталь", 0) + by_case.get("Альфа", 0) == 42 == await pool_used(event_deps.engine,
                                                                                          occ.pools["pool2"])
    per_participant = Counter(who for _, who, _ in seats)
    assert len(per_participant) == 115 and max(per_participant.values()) == 1, "one case per participant"
    assert reasons["OK"] == 115
    assert set(reasons) <= {"OK", "SOLD_OUT", "POOL_FULL", "LIMIT_PER_PARTICIPANT"}, reasons
    assert await ledger_mismatches(event_deps.engine, occ.occurrence_id) == []


async def test_one_participant_hammering_one_session_gets_one_seat(event_stub, event_deps):
    occ = await create_occurrence(event_deps.engine, [SessionSpec("a", 10)])
    who = participant()
    calls = [event_stub.HoldSeat(hold(occ.session("a"), who)) if i % 2 else
             event_stub.BookSeat(pb.BookSeatRequest(session=occ.session("a"), participant=who,
                                                    request_id=str(uuid.uuid4())))
             for i in range(50)]
    outcomes = Counter(await asyncio.gather(*[attempt(c) for c in calls]))
    assert outcomes == {"OK": 1, "ALREADY_REGISTERED": 49}
    assert len(await live_seats(event_deps.engine, occ.occurrence_id)) == 1
    assert await ledger_mismatches(event_deps.engine, occ.occurrence_id) == []


async def test_holds_releases_confirms_and_expiries_racing_keep_counters_equal_to_rows(event_stub, event_deps):
    """Two sweepers (two replicas) expire one-second holds while clients hold, confirm and
    release in the same sessions: no counter ever disagrees with the rows or goes negative."""
    occ = await create_occurrence(
        event_deps.engine, [SessionSpec("a", 15), SessionSpec("b", 15), SessionSpec("c", 15)],
        [PoolSpec("ab", 20, ("a", "b"))], event_capacity=40, max_sessions_per_participant=2)
    people = [participant() for _ in range(60)]
    rng = random.Random(7)
    stop = asyncio.Event()
    sweepers = [asyncio.create_task(run_sweeper(event_deps.uow_factory, stop, interval=0.05)) for _ in range(2)]
    outcomes: Counter[str] = Counter()

    async def client(who: str) -> None:
        for _ in range(6):
            session = occ.session(rng.choice("abc"))
            ttl = timedelta(seconds=1) if rng.random() < 0.5 else None
            try:
                seat = await event_stub.HoldSeat(hold(session, who, ttl))
            except grpc.aio.AioRpcError as error:
                outcomes[details(error)[0]] += 1
                continue
            outcomes["OK"] += 1
            await asyncio.sleep(rng.choice([0, 0.2, 0.6, 1.1]))
            action = rng.choice(["confirm", "release", "keep", "confirm-release"])
            if action.startswith("confirm"):
                outcomes["confirm " + await attempt(event_stub.ConfirmSeat(pb.ConfirmSeatRequest(name=seat.name)))] += 1
            if action.endswith("release"):
                outcomes["release " + await attempt(event_stub.ReleaseSeat(pb.ReleaseSeatRequest(name=seat.name)))] += 1

    try:
        async with asyncio.timeout(15):
            await asyncio.gather(*[client(who) for who in people])
    finally:
        stop.set()
        await asyncio.gather(*sweepers)
    assert outcomes["OK"] > 50, outcomes
    assert await ledger_mismatches(event_deps.engine, occ.occurrence_id) == []
    await asyncio.sleep(1.0)
    await sweep_all(event_deps.uow_factory, datetime.now(UTC))
    assert await ledger_mismatches(event_deps.engine, occ.occurrence_id) == []
    async with event_deps.engine.connect() as connection:
        due = await connection.scalar(sa.text(
            "SELECT count(*) FROM event_service.seats WHERE occurrence_id = :o AND state = 'held' "
            "AND expires_at <= now()"), {"o": occ.occurrence_id})
    assert due == 0, "every one-second hold was swept"
    for key in "abc":
        row = await session_row(event_deps.engine, occ.sessions[key])
        assert 0 <= row.held and 0 <= row.confirmed and row.held + row.confirmed <= 15
    assert await pool_used(event_deps.engine, occ.pools["ab"]) <= 20


async def test_concurrent_confirm_and_release_of_one_seat(event_stub, event_deps):
    """Many confirms and releases of the same seat at once: it ends released exactly once."""
    occ = await create_occurrence(event_deps.engine, [SessionSpec("a", 5)])
    for _ in range(10):
        seat = await event_stub.HoldSeat(hold(occ.session("a"), participant()))
        calls = [event_stub.ConfirmSeat(pb.ConfirmSeatRequest(name=seat.name)) if i % 2 else
                 event_stub.ReleaseSeat(pb.ReleaseSeatRequest(name=seat.name)) for i in range(10)]
        outcomes = set(await asyncio.gather(*[attempt(c) for c in calls]))
        assert outcomes <= {"OK", "HOLD_NOT_ACTIVE"}
        assert (await event_stub.GetSeat(pb.GetSeatRequest(name=seat.name))).state == seat_pb2.SEAT_STATE_RELEASED
    row = await session_row(event_deps.engine, occ.sessions["a"])
    assert (row.held, row.confirmed) == (0, 0)
    assert await ledger_mismatches(event_deps.engine, occ.occurrence_id) == []
