"""The seat ledger over real gRPC against real Postgres: every refusal with its reason,
hold → confirm → release and the counters, admin override, idempotent retries (refusals
included), expiry by the sweeper, the outbox messages and their versions, and bad input."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import grpc
import pytest
import sqlalchemy as sa
from google.protobuf import duration_pb2

from event_service.adapters import ledger_repository
from event_service.adapters.tables import events, idempotency_keys, occurrences, sessions
from event_service.adapters.tables import seats as seats_table
from event_service.api.servicer import EventServicer
from event_service.application.sweeper import run_sweeper, sweep_all
from event_service.domain.ledger import Refusal, TakeRequest, new_seat
from grpc_details import details, error_info
from kernel.errors import FailedPrecondition, InvalidArgument, NotFound
from kernel.grpc_server import create_server
from kernel.idempotency import execute_once
from ledger_fixtures import (
    PoolSpec,
    SessionSpec,
    create_occurrence,
    ledger_envelopes,
    ledger_mismatches,
    outbox_count,
    participant,
    participant_rows,
    seat_count,
    session_row,
)
from turnout.event.v1 import event_service_pb2 as pb
from turnout.event.v1 import event_service_pb2_grpc, ledger_events_pb2, seat_pb2

pytestmark = pytest.mark.integration

ADMIN = (("x-turnout-roles", "admin"), ("x-turnout-actor", "alice"))
VOLUNTEER = (("x-turnout-roles", "volunteer"), ("x-turnout-actor", "vera"))
HELD, CONFIRMED = seat_pb2.SEAT_STATE_HELD, seat_pb2.SEAT_STATE_CONFIRMED
RELEASED, EXPIRED = seat_pb2.SEAT_STATE_RELEASED, seat_pb2.SEAT_STATE_EXPIRED


def hold(session: str, who: str, *, request_id: str | None = None, ttl: timedelta | None = None,
         override: bool = False) -> pb.HoldSeatRequest:
    request = pb.HoldSeatRequest(session=session, participant=who, request_id=request_id or str(uuid.uuid4()),
                                 override_capacity=override)
    if ttl is not None:
        request.ttl.FromTimedelta(ttl)
    return request


def book(session: str, who: str, *, request_id: str | None = None, override: bool = False) -> pb.BookSeatRequest:
    return pb.BookSeatRequest(session=session, participant=who, request_id=request_id or str(uuid.uuid4()),
                              override_capacity=override)


async def refusal(call) -> tuple[grpc.StatusCode, str, dict[str, str]]:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await call
    return (refused.value.code(), *details(refused.value))


def payload(envelope, kind):
    message = kind()
    assert envelope.payload.Unpack(message)
    return message


class Clock:
    """The servicer's clock, moved by the test."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
async def clocked(event_deps):
    """(stub, clock): an EventService whose clock the test moves."""
    clock = Clock()
    servicer = EventServicer(event_deps.uow_factory, clock=clock)
    server = create_server("127.0.0.1", 0,
                           [lambda s: event_service_pb2_grpc.add_EventServiceServicer_to_server(servicer, s)],
                           ["turnout.event.v1.EventService"])
    await server.start()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        yield event_service_pb2_grpc.EventServiceStub(channel), clock
    await server.stop(0)


@pytest.fixture
async def nothing_written(event_deps):
    """Asserts at the end of the test that no seat and no outbox row appeared."""
    before = (await seat_count(event_deps.engine), await outbox_count(event_deps.engine))
    yield
    assert (await seat_count(event_deps.engine), await outbox_count(event_deps.engine)) == before


# --- hold, confirm, release ------------------------------------------------------------------


async def test_hold_then_confirm(event_stub, event_deps):
    occ = await create_occurrence(event_deps.engine, [SessionSpec("a", 5)], [PoolSpec("p", 4, ("a",))],
                                  event_capacity=10)
    who = participant()
    started = datetime.now(UTC)
    held = await event_stub.HoldSeat(hold(occ.session("a"), who, ttl=timedelta(minutes=3)), metadata=VOLUNTEER)
    assert held.name.startswith("seats/") and held.session == occ.session("a") and held.participant == who
    assert (held.state, held.capacity_override, held.actor) == (HELD, False, "vera")
    expires = held.expire_time.ToDatetime(tzinfo=UTC)
    assert started + timedelta(minutes=3) <= expires <= datetime.now(UTC) + timedelta(minutes=3)

    confirmed = await event_stub.ConfirmSeat(pb.ConfirmSeatRequest(name=held.name, request_id=str(uuid.uuid4())))
    assert (confirmed.name, confirmed.state, confirmed.HasField("expire_time")) == (held.name, CONFIRMED, False)
    assert await event_stub.GetSeat(pb.GetSeatRequest(name=held.name)) == confirmed
    row = await session_row(event_deps.engine, occ.sessions["a"])
    assert (row.held, row.confirmed, row.version) == (0, 1, 3)

    # Confirming again is a no-op answering the same seat.
    outbox_before = await outbox_count(event_deps.engine)
    assert await event_stub.ConfirmSeat(pb.ConfirmSeatRequest(name=held.name)) == confirmed
    assert await outbox_count(event_deps.engine) == outbox_before

    first, second = await ledger_envelopes(event_deps.engine, occ.sessions["a"])
    assert (first.type, first.aggregate_type, first.aggregate_id, first.aggregate_version, first.actor) == (
        "turnout.event.v1.SeatHeld", "session", occ.sessions["a"], 2, "vera")
    assert (second.type, second.aggregate_version) == ("turnout.event.v1.SeatConfirmed", 3)
    held_event = payload(first, ledger_events_pb2.SeatHeld)
    assert held_event.seat == held
    counts = held_event.counts
    assert (counts.session, counts.capacity, counts.held, counts.confirmed) == (occ.session("a"), 5, 1, 0)
    assert (counts.occurrence, counts.occurrence_capacity, counts.occurrence_participants) == (
        f"occurrences/{occ.occurrence_id}", 10, 1)
    assert [(p.pool, p.limit, p.used) for p in counts.pools] == [(f"pools/{occ.pools['p']}", 4, 1)]
    confirmed_counts = payload(second, ledger_events_pb2.SeatConfirmed).counts
    assert (confirmed_counts.held, confirmed_counts.confirmed, confirmed_counts.occurrence_participants) == (0, 1, 1)
    assert await ledger_mismatches(event_deps.engine, occ.occurrence_id) == []


async def test_default_ttl_is_ten_minutes(event_stub, event_deps):
    occ = await create_occurrence(event_deps.engine, [SessionSpec("a", 5)])
    started = datetime.now(UTC)
    held = await event_stub.HoldSeat(hold(occ.session("a"), participant()))
    expires = held.expire_time.ToDatetime(tzinfo=UTC)
    assert started + timedelta(minutes=10) <= expires <= datetime.now(UTC) + timedelta(minutes=10)


@pytest.mark.parametrize("confirm_first", [False, True])
async def test_release_gives_every_counter_back(event_stub, event_deps, confirm_first):
    occ = await create_occurrence(event_deps.engine, [SessionSpec("a", 2), SessionSpec("b", 2)],
                                  [PoolSpec("ab", 3, ("a", "b"))], event_capacity=5)
    who, other = participant(), participant()
    seat = await event_stub.HoldSeat(hold(occ.session("a"), who))
    await event_stub.HoldSeat(hold(occ.session("b"), who))
    await event_stub.HoldSeat(hold(occ.session("a"), other))
    if confirm_first:
        seat = await event_stub.ConfirmSeat(pb.ConfirmSeatRequest(name=seat.name))
    released = await event_stub.ReleaseSeat(pb.ReleaseSeatRequest(name=seat.name, request_id=str(uuid.uuid4())))
    assert (released.state, released.HasField("expire_time")) == (RELEASED, False)
    row = await session_row(event_deps.engine, occ.sessions["a"])
    assert (row.held, row.confirmed) == (1, 0)
    assert await participant_rows(event_deps.engine, occ.occurrence_id) == {
        who.removeprefix("participants/"): 1, other.removeprefix("participants/"): 1}
    last = (await ledger_envelopes(event_deps.engine, occ.sessions["a"]))[-1]
    message = payload(last, ledger_events_pb2.SeatReleased)
    assert (message.reason, message.seat.state) == (ledger_events_pb2.RELEASE_REASON_CANCELLED, RELEASED)
    assert (message.counts.held, message.counts.confirmed, message.counts.occurrence_participants) == (1, 0, 2)
    assert [p.used for p in message.counts.pools] == [2]

    # The participant's last seat: the occurrence forgets them, every counter is back to the other's.
    (b_seat,) = [s for s in await _seats_of(event_deps, occ.sessions["b"])]
    await event_stub.ReleaseSeat(pb.ReleaseSeatRequest(name=f"seats/{b_seat}",
                                                       reason=ledger_events_pb2.RELEASE_REASON_EVENT_DELETED))
    assert await participant_rows(event_deps.engine, occ.occurrence_id) == {other.removeprefix("participants/"): 1}
    last = (await ledger_envelopes(event_deps.engine, occ.sessions["b"]))[-1]
    message = payload(last, ledger_events_pb2.SeatReleased)
    assert message.reason == ledger_events_pb2.RELEASE_REASON_EVENT_DELETED
    assert (message.counts.held, message.counts.occurrence_participants, message.counts.pools[0].used) == (0, 1, 1)
    assert await ledger_mismatches(event_deps.engine, occ.occurrence_id) == []

    # Releasing twice is a no-op; so is confirming a released seat refused.
    outbox_before = await outbox_count(event_deps.engine)
    assert (await event_stub.ReleaseSeat(pb.ReleaseSeatRequest(name=seat.name))).state == RELEASED
    assert await outbox_count(event_deps.engine) == outbox_before
    code, reason, _ = await refusal(event_stub.ConfirmSeat(pb.ConfirmSeatRequest(name=seat.name)))
    assert (code, reason) == (grpc.StatusCode.FAILED_PRECONDITION, "HOLD_NOT_ACTIVE")
    assert await outbox_count(event_deps.engine) == outbox_before


async def _seats_of(event_deps, session_id: str) -> list[str]:
    async with event_deps.engine.connect() as connection:
        return list((await connection.scalars(sa.text(
            "SELECT id FROM event_service.seats WHERE session_id = :s AND state IN ('held', 'confirmed')"),
            {"s": session_id})).all())


async def test_book_confirms_at_once_in_one_message(event_stub, event_deps):
    occ = await create_occurrence(event_deps.engine, [SessionSpec("a", 1)])
    booked = await event_stub.BookSeat(book(occ.session("a"), participant()))
    assert (booked.state, booked.HasField("expire_time")) == (CONFIRMED, False)
    row = await session_row(event_deps.engine, occ.sessions["a"])
    assert (row.held, row.confirmed, row.version) == (0, 1, 2)
    (envelope,) = await ledger_envelopes(event_deps.engine, occ.sessions["a"])
    assert payload(envelope, ledger_events_pb2.SeatConfirmed).counts.confirmed == 1
    code, reason, _ = await refusal(event_stub.BookSeat(book(occ.session("a"), participant())))
    assert (code, reason) == (grpc.StatusCode.FAILED_PRECONDITION, "SOLD_OUT")


# --- every refusal with its reason, writing nothing ------------------------------------------


async def _refused_reason(stub, request, metadata=()) -> str:
    code, reason, _ = await refusal(stub.HoldSeat(request, metadata=metadata))
    assert code == grpc.StatusCode.FAILED_PRECONDITION, reason
    return reason


async def test_sold_out(event_stub, event_deps):
    occ = await create_occurrence(event_deps.engine, [SessionSpec("a", 2)])
    for _ in range(2):
        await event_stub.HoldSeat(hold(occ.session("a"), participant()))
    before = (await seat_count(event_deps.engine), await outbox_count(event_deps.engine))
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await event_stub.HoldSeat(hold(occ.session("a"), participant()))
    assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    info = error_info(refused.value)
    assert (info.reason, info.domain, dict(info.metadata)) == ("SOLD_OUT", "turnout.dev",
                                                               {"session": occ.session("a")})
    assert (await seat_count(event_deps.engine), await outbox_count(event_deps.engine)) == before


async def test_event_full_counts_distinct_participants(event_stub, event_deps):
    occ = await create_occurrence(event_deps.engine, [SessionSpec("a", 5), SessionSpec("b", 5)], event_capacity=2)
    first, second = participant(), participant()
    await event_stub.HoldSeat(hold(occ.session("a"), first))
    await event_stub.HoldSeat(hold(occ.session("a"), second))
    assert await _refused_reason(event_stub, hold(occ.session("b"), participant())) == "EVENT_FULL"
    # Someone already in the occurrence is not a new participant: they may take another session.
    await event_stub.HoldSeat(hold(occ.session("b"), first))
    assert await ledger_mismatches(event_deps.engine, occ.occurrence_id) == []


async def test_pool_full(event_stub, event_deps):
    occ = await create_occurrence(event_deps.engine, [SessionSpec("a", 5), SessionSpec("b", 5)],
                                  [PoolSpec("ab", 3, ("a", "b"))])
    for key in ("a", "a", "b"):
        await event_stub.HoldSeat(hold(occ.session(key), participant()))
    assert await _refused_reason(event_stub, hold(occ.session("a"), participant())) == "POOL_FULL"
    assert await _refused_reason(event_stub, hold(occ.session("b"), participant())) == "POOL_FULL"


async def test_already_registered(event_stub, event_deps):
    occ = await create_occurrence(event_deps.engine, [SessionSpec("a", 5)])
    who = participant()
    await event_stub.BookSeat(book(occ.session("a"), who))
    assert await _refused_reason(event_stub, hold(occ.session("a"), who)) == "ALREADY_REGISTERED"


async def test_limit_per_participant(event_stub, event_deps):
    occ = await create_occurrence(event_deps.engine, [SessionSpec(k, 5) for k in "abc"],
                                  max_sessions_per_participant=2)
    who = participant()
    await event_stub.HoldSeat(hold(occ.session("a"), who))
    await event_stub.BookSeat(book(occ.session("b"), who))
    assert await _refused_reason(event_stub, hold(occ.session("c"), who)) == "LIMIT_PER_PARTICIPANT"
    await event_stub.HoldSeat(hold(occ.session("c"), participant()))  # others are not limited by it


async def test_outside_booking_window(event_stub, event_deps):
    occ = await create_occurrence(event_deps.engine, [SessionSpec("a", 5, starts_in=timedelta(days=10),
                                                                  booking_window_days=7)])
    assert await _refused_reason(event_stub, hold(occ.session("a"), participant())) == "OUTSIDE_BOOKING_WINDOW"


async def test_session_started(event_stub, event_deps):
    occ = await create_occurrence(event_deps.engine, [SessionSpec("a", 5, starts_in=-timedelta(minutes=1))])
    assert await _refused_reason(event_stub, hold(occ.session("a"), participant())) == "SESSION_STARTED"


async def test_event_archived(event_stub, event_deps):
    occ = await create_occurrence(event_deps.engine, [SessionSpec("a", 5)], status="archived")
    assert await _refused_reason(event_stub, hold(occ.session("a"), participant())) == "EVENT_ARCHIVED"
    code, reason, _ = await refusal(event_stub.BookSeat(book(occ.session("a"), participant())))
    assert (code, reason) == (grpc.StatusCode.FAILED_PRECONDITION, "EVENT_ARCHIVED")


async def test_refusals_write_nothing(event_stub, event_deps, nothing_written):
    full = await create_occurrence(event_deps.engine, [SessionSpec("a", 0)])
    archived = await create_occurrence(event_deps.engine, [SessionSpec("a", 5)], status="archived")
    for request in (hold(full.session("a"), participant()), hold(archived.session("a"), participant())):
        await refusal(event_stub.HoldSeat(request))


async def test_precedence_through_grpc(event_stub, event_deps):
    """Archived beats started; a participant already in the session hears ALREADY_REGISTERED,
    not SOLD_OUT; at their limit in a full session, LIMIT_PER_PARTICIPANT."""
    started_archived = await create_occurrence(
        event_deps.engine, [SessionSpec("a", 0, starts_in=-timedelta(hours=1))], status="archived")
    assert await _refused_reason(event_stub, hold(started_archived.session("a"), participant())) == "EVENT_ARCHIVED"
    occ = await create_occurrence(event_deps.engine, [SessionSpec("a", 1), SessionSpec("b", 1)],
                                  [PoolSpec("ab", 2, ("a", "b"))], event_capacity=2, max_sessions_per_participant=1)
    who, other = participant(), participant()
    await event_stub.HoldSeat(hold(occ.session("a"), who))
    await event_stub.HoldSeat(hold(occ.session("b"), other))
    assert await _refused_reason(event_stub, hold(occ.session("a"), who)) == "ALREADY_REGISTERED"
    assert await _refused_reason(event_stub, hold(occ.session("b"), who)) == "LIMIT_PER_PARTICIPANT"
    assert await _refused_reason(event_stub, hold(occ.session("b"), participant())) == "EVENT_FULL"


async def test_the_locked_path_names_the_same_reason_as_the_fast_path(clocked, event_deps):
    """With a hold of the occurrence due, the fast path steps aside and the conditional
    UPDATEs decide, in lock order: the reason must still follow the precedence."""
    stub, clock = clocked
    occ = await create_occurrence(event_deps.engine, [SessionSpec("a", 1), SessionSpec("b", 1), SessionSpec("c", 5),
                                                      SessionSpec("d", 5)],
                                  [PoolSpec("cd", 1, ("c", "d"))], event_capacity=4, max_sessions_per_participant=1,
                                  now=clock.now)
    who = participant()
    await stub.HoldSeat(hold(occ.session("a"), who))  # who: at the limit, and "a" is full
    await stub.HoldSeat(hold(occ.session("c"), participant()))  # pool cd full
    await stub.HoldSeat(hold(occ.session("b"), participant()))  # "b" full
    cases = [(hold(occ.session("a"), who), "ALREADY_REGISTERED"), (hold(occ.session("b"), who), "LIMIT_PER_PARTICIPANT"),
             (hold(occ.session("d"), participant()), "POOL_FULL"), (hold(occ.session("b"), participant()), "SOLD_OUT")]
    for request, expected in cases:
        # A short hold that runs out: the next attempt finds it due and takes the locked path.
        filler = await stub.HoldSeat(hold(occ.session("c"), participant(), ttl=timedelta(seconds=1), override=True),
                                     metadata=ADMIN)
        clock.advance(seconds=2)
        assert await _refused_reason(stub, request) == expected
        # The refused attempt rolled its sweep back: the due filler is still held, then swept here.
        assert (await stub.GetSeat(pb.GetSeatRequest(name=filler.name))).state == HELD
        assert await sweep_all(event_deps.uow_factory, clock.now) >= 1
    # Event full: four distinct participants, and a due hold of a fifth.
    await stub.HoldSeat(hold(occ.session("c"), participant(), ttl=timedelta(seconds=1), override=True),
                        metadata=ADMIN)
    clock.advance(seconds=2)
    await stub.HoldSeat(hold(occ.session("d"), participant(), override=True), metadata=ADMIN)  # sweeps, 4 live
    await stub.HoldSeat(hold(occ.session("c"), participant(), ttl=timedelta(seconds=1), override=True),
                        metadata=ADMIN)
    clock.advance(seconds=2)
    assert await _refused_reason(stub, hold(occ.session("c"), participant())) == "EVENT_FULL"
    assert await ledger_mismatches(event_deps.engine, occ.occurrence_id) == []


# --- admin override --------------------------------------------------------------------------


async def test_admin_override_exceeds_capacity_and_is_recorded_and_counted(event_stub, event_deps):
    occ = await create_occurrence(event_deps.engine, [SessionSpec("a", 1), SessionSpec("b", 1)],
                                  [PoolSpec("ab", 1, ("a", "b"))], event_capacity=1)
    await event_stub.HoldSeat(hold(occ.session("a"), participant()))
    for reason_before, key in (("SOLD_OUT", "a"), ("POOL_FULL", "b")):
        assert await _refused_reason(event_stub, hold(occ.session(key), participant())) in (reason_before,
                                                                                            "EVENT_FULL")
    seat = await event_stub.HoldSeat(hold(occ.session("a"), participant(), override=True), metadata=ADMIN)
    booked = await event_stub.BookSeat(book(occ.session("b"), participant(), override=True), metadata=ADMIN)
    assert seat.capacity_override and booked.capacity_override and (seat.actor, booked.actor) == ("alice", "alice")
    row = await session_row(event_deps.engine, occ.sessions["a"])
    assert (row.capacity, row.held + row.confirmed) == (1, 2)
    counts = payload((await ledger_envelopes(event_deps.engine, occ.sessions["b"]))[-1],
                     ledger_events_pb2.SeatConfirmed).counts
    assert (counts.capacity, counts.confirmed, counts.occurrence_capacity, counts.occurrence_participants) == (
        1, 1, 1, 3)
    assert [(p.limit, p.used) for p in counts.pools] == [(1, 3)]
    assert await ledger_mismatches(event_deps.engine, occ.occurrence_id) == []


async def test_override_never_gives_a_second_seat_or_bypasses_rules(event_stub, event_deps):
    occ = await create_occurrence(event_deps.engine, [SessionSpec("a", 1), SessionSpec("b", 1)],
                                  max_sessions_per_participant=1)
    who = participant()
    await event_stub.HoldSeat(hold(occ.session("a"), who))
    assert await _refused_reason(event_stub, hold(occ.session("a"), who, override=True), ADMIN) == "ALREADY_REGISTERED"
    code, reason, _ = await refusal(event_stub.BookSeat(book(occ.session("a"), who, override=True), metadata=ADMIN))
    assert (code, reason) == (grpc.StatusCode.FAILED_PRECONDITION, "ALREADY_REGISTERED")
    assert await _refused_reason(event_stub, hold(occ.session("b"), who, override=True),
                                 ADMIN) == "LIMIT_PER_PARTICIPANT"
    archived = await create_occurrence(event_deps.engine, [SessionSpec("a", 1, starts_in=timedelta(days=30))],
                                       status="archived")
    assert await _refused_reason(event_stub, hold(archived.session("a"), participant(), override=True),
                                 ADMIN) == "EVENT_ARCHIVED"
    later = await create_occurrence(event_deps.engine, [SessionSpec("a", 1, starts_in=timedelta(days=30))])
    assert await _refused_reason(event_stub, hold(later.session("a"), participant(), override=True),
                                 ADMIN) == "OUTSIDE_BOOKING_WINDOW"


@pytest.mark.parametrize("metadata", [VOLUNTEER, (), (("x-turnout-roles", "participant,analyst"),)])
async def test_override_by_anyone_but_an_admin_is_permission_denied(event_stub, event_deps, metadata,
                                                                     nothing_written):
    occ = await create_occurrence(event_deps.engine, [SessionSpec("a", 1)])
    for call in (event_stub.HoldSeat(hold(occ.session("a"), participant(), override=True), metadata=metadata),
                 event_stub.BookSeat(book(occ.session("a"), participant(), override=True), metadata=metadata)):
        code, reason, _ = await refusal(call)
        assert (code, reason) == (grpc.StatusCode.PERMISSION_DENIED, "FORBIDDEN")


# --- idempotency -----------------------------------------------------------------------------


async def test_a_retried_hold_returns_the_same_seat_and_takes_no_second(event_stub, event_deps):
    occ = await create_occurrence(event_deps.engine, [SessionSpec("a", 5)])
    request = hold(occ.session("a"), participant())
    first = await event_stub.HoldSeat(request)
    before = (await seat_count(event_deps.engine), await outbox_count(event_deps.engine))
    assert await event_stub.HoldSeat(request) == first
    assert (await seat_count(event_deps.engine), await outbox_count(event_deps.engine)) == before
    assert (await session_row(event_deps.engine, occ.sessions["a"])).held == 1


async def test_concurrent_twins_take_one_seat(event_stub, event_deps):
    occ = await create_occurrence(event_deps.engine, [SessionSpec("a", 5)])
    request = hold(occ.session("a"), participant())
    answers = await asyncio.gather(*[event_stub.HoldSeat(request) for _ in range(20)])
    assert len({a.name for a in answers}) == 1
    assert (await session_row(event_deps.engine, occ.sessions["a"])).held == 1
    assert len(await ledger_envelopes(event_deps.engine, occ.sessions["a"])) == 1


async def test_a_retried_refusal_stays_refused_even_after_a_seat_frees(event_stub, event_deps):
    occ = await create_occurrence(event_deps.engine, [SessionSpec("a", 1)])
    taken = await event_stub.HoldSeat(hold(occ.session("a"), participant()))
    request = hold(occ.session("a"), participant())
    assert await _refused_reason(event_stub, request) == "SOLD_OUT"
    await event_stub.ReleaseSeat(pb.ReleaseSeatRequest(name=taken.name))
    before = (await seat_count(event_deps.engine), await outbox_count(event_deps.engine))
    assert await _refused_reason(event_stub, request) == "SOLD_OUT"
    assert (await seat_count(event_deps.engine), await outbox_count(event_deps.engine)) == before
    # A new attempt is a new request id.
    retry = pb.HoldSeatRequest()
    retry.CopyFrom(request)
    retry.request_id = str(uuid.uuid4())
    assert (await event_stub.HoldSeat(retry)).state == HELD


async def test_concurrent_twins_of_a_refusal_all_hear_it(event_stub, event_deps):
    occ = await create_occurrence(event_deps.engine, [SessionSpec("a", 0)])
    request = hold(occ.session("a"), participant())
    results = await asyncio.gather(*[event_stub.HoldSeat(request) for _ in range(10)], return_exceptions=True)
    assert {details(r)[0] for r in results} == {"SOLD_OUT"}


async def test_request_id_reused_for_another_body_or_method(event_stub, event_deps):
    occ = await create_occurrence(event_deps.engine, [SessionSpec("a", 5)])
    request = hold(occ.session("a"), participant())
    await event_stub.HoldSeat(request)
    other = hold(occ.session("a"), participant(), request_id=request.request_id)
    code, reason, fields = await refusal(event_stub.HoldSeat(other))
    assert (code, reason, list(fields)) == (grpc.StatusCode.INVALID_ARGUMENT, "REQUEST_ID_REUSED", ["request_id"])
    code, reason, _ = await refusal(event_stub.BookSeat(book(request.session, request.participant,
                                                             request_id=request.request_id)))
    assert (code, reason) == (grpc.StatusCode.INVALID_ARGUMENT, "REQUEST_ID_REUSED")


async def test_retried_confirm_and_release(event_stub, event_deps):
    occ = await create_occurrence(event_deps.engine, [SessionSpec("a", 5)])
    seat = await event_stub.HoldSeat(hold(occ.session("a"), participant()))
    confirm = pb.ConfirmSeatRequest(name=seat.name, request_id=str(uuid.uuid4()))
    release = pb.ReleaseSeatRequest(name=seat.name, request_id=str(uuid.uuid4()))
    assert (await event_stub.ConfirmSeat(confirm)).state == CONFIRMED
    assert (await event_stub.ReleaseSeat(release)).state == RELEASED
    before = await outbox_count(event_deps.engine)
    assert (await event_stub.ReleaseSeat(release)).state == RELEASED
    # The retried confirm answers its first outcome (the seat, now released): no refusal, no change.
    assert (await event_stub.ConfirmSeat(confirm)).name == seat.name
    assert await outbox_count(event_deps.engine) == before
    assert await ledger_mismatches(event_deps.engine, occ.occurrence_id) == []


class _Refused(FailedPrecondition):
    reason = "TEST_REFUSED"


async def test_execute_once_remembers_only_the_refusals_it_is_told_to(event_deps):
    """kernel.idempotency on its own: a remembered refusal is stored (class, reason, message,
    metadata) and raised again; others roll back their key; validation cannot be remembered."""
    calls = []

    async def refuse(uow):
        calls.append(1)
        raise _Refused("no seat today", metadata={"session": "sessions/x"})

    async def missing(uow):
        calls.append(1)
        raise NotFound("gone")

    async def run(work, request_id, **kwargs):
        return await execute_once(event_deps.uow_factory, idempotency_keys, request_id=request_id, method="Test",
                                  request_fingerprint="f", work=work, **kwargs)

    remembered = str(uuid.uuid4())
    for _ in range(3):
        with pytest.raises(FailedPrecondition) as refused:
            await run(refuse, remembered, remember=(FailedPrecondition,))
        assert (refused.value.reason, refused.value.message, refused.value.metadata) == (
            "TEST_REFUSED", "no seat today", {"session": "sessions/x"})
    assert len(calls) == 1, "the work ran once; retries recalled its refusal"
    async with event_deps.engine.connect() as connection:
        stored = await connection.scalar(sa.select(idempotency_keys.c.outcome)
                                         .where(idempotency_keys.c.request_id == remembered))
    assert stored == {"error": {"class": "FailedPrecondition", "reason": "TEST_REFUSED",
                                "message": "no seat today", "metadata": {"session": "sessions/x"}}}

    forgotten = str(uuid.uuid4())
    for _ in range(2):
        with pytest.raises(NotFound):
            await run(missing, forgotten, remember=(FailedPrecondition,))
    assert len(calls) == 3, "a refusal not remembered leaves no key: the retry runs again"

    async def succeed(uow):
        return {"ok": True}

    assert await run(succeed, forgotten, remember=(FailedPrecondition,)) == {"ok": True}
    for _ in range(2):  # without a request id there is nothing to remember it under
        with pytest.raises(_Refused):
            await run(refuse, "", remember=(FailedPrecondition,))
    assert len(calls) == 5
    with pytest.raises(TypeError):
        await run(succeed, str(uuid.uuid4()), remember=(InvalidArgument,))


# --- expiry ----------------------------------------------------------------------------------


async def test_the_sweeper_expires_a_one_second_hold(event_stub, event_deps):
    occ = await create_occurrence(event_deps.engine, [SessionSpec("a", 1)], [PoolSpec("p", 1, ("a",))])
    seat = await event_stub.HoldSeat(hold(occ.session("a"), participant(), ttl=timedelta(seconds=1)))
    assert await sweep_all(event_deps.uow_factory, datetime.now(UTC)) >= 0
    assert (await event_stub.GetSeat(pb.GetSeatRequest(name=seat.name))).state == HELD, "not due yet"
    await asyncio.sleep(1.05)
    assert await sweep_all(event_deps.uow_factory, datetime.now(UTC)) >= 1
    swept = await event_stub.GetSeat(pb.GetSeatRequest(name=seat.name))
    assert (swept.state, swept.HasField("expire_time")) == (EXPIRED, False)
    row = await session_row(event_deps.engine, occ.sessions["a"])
    assert (row.held, row.confirmed, row.version) == (0, 0, 3)
    envelope = (await ledger_envelopes(event_deps.engine, occ.sessions["a"]))[-1]
    assert (envelope.type, envelope.aggregate_version, envelope.actor) == ("turnout.event.v1.SeatExpired", 3,
                                                                           "system")
    message = payload(envelope, ledger_events_pb2.SeatExpired)
    assert message.seat.state == EXPIRED
    assert (message.counts.held, message.counts.occurrence_participants, message.counts.pools[0].used) == (0, 0, 0)
    assert await ledger_mismatches(event_deps.engine, occ.occurrence_id) == []
    # Expired is final: confirming it is refused, releasing it is a no-op.
    code, reason, _ = await refusal(event_stub.ConfirmSeat(pb.ConfirmSeatRequest(name=seat.name)))
    assert (code, reason) == (grpc.StatusCode.FAILED_PRECONDITION, "HOLD_NOT_ACTIVE")
    assert (await event_stub.ReleaseSeat(pb.ReleaseSeatRequest(name=seat.name))).state == EXPIRED


async def test_the_background_sweeper_job_expires_holds_within_seconds(event_stub, event_deps):
    occ = await create_occurrence(event_deps.engine, [SessionSpec("a", 3)])
    seat = await event_stub.HoldSeat(hold(occ.session("a"), participant(), ttl=timedelta(seconds=1)))
    kept = await event_stub.HoldSeat(hold(occ.session("a"), participant()))
    stop = asyncio.Event()
    job = asyncio.create_task(run_sweeper(event_deps.uow_factory, stop, interval=0.2))
    try:
        async with asyncio.timeout(5):
            while (await event_stub.GetSeat(pb.GetSeatRequest(name=seat.name))).state != EXPIRED:
                await asyncio.sleep(0.05)
    finally:
        stop.set()
        await asyncio.wait_for(job, 2)
    assert (await event_stub.GetSeat(pb.GetSeatRequest(name=kept.name))).state == HELD
    assert (await ledger_envelopes(event_deps.engine, occ.sessions["a"]))[-1].type == "turnout.event.v1.SeatExpired"
    assert await ledger_mismatches(event_deps.engine, occ.occurrence_id) == []


async def test_a_full_session_of_expired_holds_accepts_a_new_hold(clocked, event_deps):
    stub, clock = clocked
    occ = await create_occurrence(event_deps.engine, [SessionSpec("a", 2)], now=clock.now)
    stale = [await stub.HoldSeat(hold(occ.session("a"), participant(), ttl=timedelta(minutes=1))) for _ in range(2)]
    assert await _refused_reason(stub, hold(occ.session("a"), participant())) == "SOLD_OUT"
    clock.advance(minutes=1)  # both holds ran out; the sweeper has not passed
    assert (await stub.HoldSeat(hold(occ.session("a"), participant()))).state == HELD
    for seat in stale:
        assert (await stub.GetSeat(pb.GetSeatRequest(name=seat.name))).state == EXPIRED
    types = [e.type.rsplit(".", 1)[1] for e in await ledger_envelopes(event_deps.engine, occ.sessions["a"])]
    assert types == ["SeatHeld", "SeatHeld", "SeatExpired", "SeatExpired", "SeatHeld"]
    assert await ledger_mismatches(event_deps.engine, occ.occurrence_id) == []


async def test_expired_holds_elsewhere_in_the_occurrence_free_the_pool_and_the_event(clocked, event_deps):
    stub, clock = clocked
    occ = await create_occurrence(event_deps.engine, [SessionSpec("a", 2), SessionSpec("b", 2)],
                                  [PoolSpec("ab", 3, ("a", "b"))], event_capacity=3, now=clock.now)
    for key in ("a", "a", "b"):
        await stub.HoldSeat(hold(occ.session(key), participant(), ttl=timedelta(minutes=1)))
    assert await _refused_reason(stub, hold(occ.session("b"), participant())) == "EVENT_FULL"
    clock.advance(minutes=1)
    for key in ("b", "b", "a"):
        assert (await stub.HoldSeat(hold(occ.session(key), participant()))).state == HELD
    assert await _refused_reason(stub, hold(occ.session("a"), participant())) == "EVENT_FULL"
    assert await ledger_mismatches(event_deps.engine, occ.occurrence_id) == []


async def test_a_participant_may_hold_again_after_their_own_hold_ran_out(clocked, event_deps):
    stub, clock = clocked
    occ = await create_occurrence(event_deps.engine, [SessionSpec("a", 1)], max_sessions_per_participant=1,
                                  now=clock.now)
    who = participant()
    first = await stub.HoldSeat(hold(occ.session("a"), who, ttl=timedelta(seconds=30)))
    clock.advance(seconds=30)
    second = await stub.HoldSeat(hold(occ.session("a"), who))
    assert second.name != first.name
    assert (await stub.GetSeat(pb.GetSeatRequest(name=first.name))).state == EXPIRED
    # Its expiry and the new hold, in one transaction: versions 3 and 4, counts after each.
    envelopes = await ledger_envelopes(event_deps.engine, occ.sessions["a"])
    assert [(e.type.rsplit(".", 1)[1], e.aggregate_version) for e in envelopes] == [
        ("SeatHeld", 2), ("SeatExpired", 3), ("SeatHeld", 4)]
    expired = payload(envelopes[1], ledger_events_pb2.SeatExpired).counts
    assert (expired.held, expired.occurrence_participants) == (0, 0)
    assert await ledger_mismatches(event_deps.engine, occ.occurrence_id) == []


async def test_confirming_a_hold_that_ran_out_is_refused_and_gives_it_back(clocked, event_deps):
    stub, clock = clocked
    occ = await create_occurrence(event_deps.engine, [SessionSpec("a", 1)], now=clock.now)
    seat = await stub.HoldSeat(hold(occ.session("a"), participant(), ttl=timedelta(minutes=5)))
    clock.advance(minutes=5)
    code, reason, _ = await refusal(stub.ConfirmSeat(pb.ConfirmSeatRequest(name=seat.name,
                                                                            request_id=str(uuid.uuid4()))))
    assert (code, reason) == (grpc.StatusCode.FAILED_PRECONDITION, "HOLD_NOT_ACTIVE")
    assert (await stub.GetSeat(pb.GetSeatRequest(name=seat.name))).state == EXPIRED
    row = await session_row(event_deps.engine, occ.sessions["a"])
    assert (row.held, row.confirmed) == (0, 0)
    assert await ledger_mismatches(event_deps.engine, occ.occurrence_id) == []


# --- versions --------------------------------------------------------------------------------


async def test_outbox_rows_carry_increasing_session_versions(event_stub, event_deps):
    occ = await create_occurrence(event_deps.engine, [SessionSpec("a", 10)])
    seats = [await event_stub.HoldSeat(hold(occ.session("a"), participant())) for _ in range(4)]
    await event_stub.ConfirmSeat(pb.ConfirmSeatRequest(name=seats[0].name))
    await event_stub.ReleaseSeat(pb.ReleaseSeatRequest(name=seats[1].name))
    await event_stub.BookSeat(book(occ.session("a"), participant()))
    envelopes = await ledger_envelopes(event_deps.engine, occ.sessions["a"])
    assert [e.aggregate_version for e in envelopes] == list(range(2, 9))
    assert {e.aggregate_id for e in envelopes} == {occ.sessions["a"]}
    assert (await session_row(event_deps.engine, occ.sessions["a"])).version == 8


# --- bad input -------------------------------------------------------------------------------


async def test_unknown_session_and_seat_are_not_found(event_stub, nothing_written):
    code, reason, _ = await refusal(event_stub.HoldSeat(hold(f"sessions/{uuid.uuid4()}", participant())))
    assert (code, reason) == (grpc.StatusCode.NOT_FOUND, "NOT_FOUND")
    code, _, _ = await refusal(event_stub.BookSeat(book(f"sessions/{uuid.uuid4()}", participant())))
    assert code == grpc.StatusCode.NOT_FOUND
    for call in (event_stub.GetSeat(pb.GetSeatRequest(name=f"seats/{uuid.uuid4()}")),
                 event_stub.ConfirmSeat(pb.ConfirmSeatRequest(name=f"seats/{uuid.uuid4()}")),
                 event_stub.ReleaseSeat(pb.ReleaseSeatRequest(name=f"seats/{uuid.uuid4()}"))):
        code, reason, _ = await refusal(call)
        assert (code, reason) == (grpc.StatusCode.NOT_FOUND, "NOT_FOUND")


def _ttl(seconds: int, nanos: int = 0) -> duration_pb2.Duration:
    return duration_pb2.Duration(seconds=seconds, nanos=nanos)


@pytest.mark.parametrize(("session", "who", "ttl", "field"), [
    ("events/1", None, None, "session"), ("sessions/", None, None, "session"), ("sessions/a/b", None, None, "session"),
    ("sessions/a\x00", None, None, "session"), (None, "", None, "participant"), (None, "people/1", None, "participant"),
    (None, "participants/1/2", None, "participant"), (None, "participants/x\x00y", None, "participant"),
    (None, "participants/" + "9" * 500, None, "participant"), (None, None, _ttl(0), "ttl"), (None, None, _ttl(-5), "ttl"),
    (None, None, _ttl(0, -1), "ttl"), (None, None, _ttl(24 * 3600, 1000), "ttl"), (None, None, _ttl(10**12), "ttl"),
    (None, None, _ttl(-(10**12)), "ttl"),
])
async def test_bad_hold_input_names_the_field_and_writes_nothing(event_stub, event_deps, nothing_written,
                                                                 session, who, ttl, field):
    occ = await create_occurrence(event_deps.engine, [SessionSpec("a", 5)])
    request = hold(session if session is not None else occ.session("a"), who if who is not None else participant())
    if ttl is not None:
        request.ttl.CopyFrom(ttl)
    code, reason, fields = await refusal(event_stub.HoldSeat(request))
    assert (code, reason, list(fields)) == (grpc.StatusCode.INVALID_ARGUMENT, "VALIDATION_FAILED", [field])


async def test_the_longest_ttl_is_a_day(event_stub, event_deps):
    occ = await create_occurrence(event_deps.engine, [SessionSpec("a", 5)])
    request = hold(occ.session("a"), participant())
    request.ttl.CopyFrom(_ttl(24 * 3600))
    assert (await event_stub.HoldSeat(request)).state == HELD


async def test_bad_seat_input_names_the_field(event_stub, nothing_written):
    for call, field in ((event_stub.GetSeat(pb.GetSeatRequest(name="sessions/1")), "name"),
                        (event_stub.ConfirmSeat(pb.ConfirmSeatRequest(name="seats/")), "name"),
                        (event_stub.ReleaseSeat(pb.ReleaseSeatRequest(name="seats/a\x00")), "name"),
                        (event_stub.ReleaseSeat(pb.ReleaseSeatRequest(name=f"seats/{uuid.uuid4()}", reason=77)),
                         "reason"),
                        (event_stub.BookSeat(book("sessions/1", "participants")), "participant")):
        code, reason, fields = await refusal(call)
        assert (code, reason, list(fields)) == (grpc.StatusCode.INVALID_ARGUMENT, "VALIDATION_FAILED", [field])


async def test_archive_flag_is_read_from_the_event(event_stub, event_deps):
    occ = await create_occurrence(event_deps.engine, [SessionSpec("a", 5)])
    await event_stub.HoldSeat(hold(occ.session("a"), participant()))
    async with event_deps.engine.begin() as connection:
        await connection.execute(events.update().where(events.c.id == occ.event_id).values(status="archived"))
    assert await _refused_reason(event_stub, hold(occ.session("a"), participant())) == "EVENT_ARCHIVED"
    async with event_deps.engine.begin() as connection:
        await connection.execute(sessions.update().where(sessions.c.id == occ.sessions["a"]).values(capacity=1))
        await connection.execute(events.update().where(events.c.id == occ.event_id).values(status="active"))
    assert await _refused_reason(event_stub, hold(occ.session("a"), participant())) == "SOLD_OUT"


# --- a cancelled or finished occurrence (OCCURRENCE_CLOSED) -----------------------------------


async def set_occurrence_state(engine, occurrence_id: str, state: str) -> None:
    async with engine.begin() as connection:
        await connection.execute(occurrences.update().where(occurrences.c.id == occurrence_id)
                                 .values(state=state, state_changed_at=sa.func.now()))


@pytest.mark.parametrize(("state", "message"), [("cancelled", "the occurrence is cancelled"),
                                                ("finished", "the occurrence has finished")])
async def test_a_closed_occurrence_takes_no_seat_and_writes_nothing(event_stub, event_deps, state, message):
    occ = await create_occurrence(event_deps.engine, [SessionSpec("a", 5), SessionSpec("b", 5)])
    inside = participant()
    await event_stub.BookSeat(book(occ.session("a"), inside))
    await set_occurrence_state(event_deps.engine, occ.occurrence_id, state)
    before = (await seat_count(event_deps.engine), await outbox_count(event_deps.engine),
              await participant_rows(event_deps.engine, occ.occurrence_id),
              [await session_row(event_deps.engine, occ.sessions[k]) for k in "ab"])
    # A newcomer, someone already in the occurrence, and someone already in the session (the
    # closed occurrence wins over ALREADY_REGISTERED), on hold and booking alike.
    for call in (event_stub.HoldSeat(hold(occ.session("b"), participant())),
                 event_stub.BookSeat(book(occ.session("b"), participant())),
                 event_stub.BookSeat(book(occ.session("b"), inside)),
                 event_stub.HoldSeat(hold(occ.session("a"), inside)),
                 event_stub.BookSeat(book(occ.session("a"), participant(), override=True), metadata=ADMIN)):
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await call
        assert (refused.value.code(), refused.value.details()) == (grpc.StatusCode.FAILED_PRECONDITION, message)
        info = error_info(refused.value)
        assert info.reason == "OCCURRENCE_CLOSED"
        assert dict(info.metadata) in ({"session": occ.session("a"), "state": state},
                                       {"session": occ.session("b"), "state": state})
    after = (await seat_count(event_deps.engine), await outbox_count(event_deps.engine),
             await participant_rows(event_deps.engine, occ.occurrence_id),
             [await session_row(event_deps.engine, occ.sessions[k]) for k in "ab"])
    assert after == before
    assert await ledger_mismatches(event_deps.engine, occ.occurrence_id) == []


async def test_closed_ranks_after_archived_and_before_started(event_stub, event_deps):
    archived = await create_occurrence(event_deps.engine, [SessionSpec("a", 5)], status="archived")
    await set_occurrence_state(event_deps.engine, archived.occurrence_id, "cancelled")
    assert await _refused_reason(event_stub, hold(archived.session("a"), participant())) == "EVENT_ARCHIVED"
    started = await create_occurrence(event_deps.engine, [SessionSpec("a", 0, starts_in=-timedelta(minutes=5))])
    await set_occurrence_state(event_deps.engine, started.occurrence_id, "finished")
    assert await _refused_reason(event_stub, hold(started.session("a"), participant())) == "OCCURRENCE_CLOSED"


async def test_ready_and_running_occurrences_still_book(event_stub, event_deps):
    ready = await create_occurrence(event_deps.engine, [SessionSpec("a", 5)])
    await set_occurrence_state(event_deps.engine, ready.occurrence_id, "ready")
    assert (await event_stub.BookSeat(book(ready.session("a"), participant()))).state == CONFIRMED
    assert (await event_stub.HoldSeat(hold(ready.session("a"), participant()))).state == HELD
    # Running: its first session began (SESSION_STARTED still applies), a later one books.
    running = await create_occurrence(event_deps.engine, [SessionSpec("a", 5, starts_in=-timedelta(minutes=5)),
                                                          SessionSpec("b", 5, starts_in=timedelta(hours=1))])
    await set_occurrence_state(event_deps.engine, running.occurrence_id, "running")
    assert await _refused_reason(event_stub, hold(running.session("a"), participant())) == "SESSION_STARTED"
    assert (await event_stub.BookSeat(book(running.session("b"), participant()))).state == CONFIRMED
    for occ in (ready, running):
        assert await ledger_mismatches(event_deps.engine, occ.occurrence_id) == []


async def test_the_locked_path_refuses_a_closed_occurrence_itself(event_stub, event_deps):
    """`take_seat` with the fast path off (as when a hold is due, or the snapshot predates the
    cancel): the refusal comes from the locked occurrence row at step 3, both when it counts a
    newcomer (UPDATE) and when it only locks the row (FOR SHARE), and it outranks
    ALREADY_REGISTERED found at step 1."""
    occ = await create_occurrence(event_deps.engine, [SessionSpec("a", 5), SessionSpec("b", 5)])
    inside = participant()
    await event_stub.BookSeat(book(occ.session("a"), inside))

    async def locked_take(session_key: str, who: str, *, override: bool = False):
        request = TakeRequest(occ.sessions[session_key], who.removeprefix("participants/"), None)
        seat = new_seat(seat_id=str(uuid.uuid4()), request=request, occurrence_id="", now=datetime.now(UTC),
                        override_capacity=override, actor="test")
        async with event_deps.uow_factory() as uow:  # never committed: rolled back on exit
            return await ledger_repository.take(await uow.driver(), request_id="", method="BookSeat",
                                                fingerprint="", outcome={}, seat=seat, now=datetime.now(UTC),
                                                fast=False)

    open_take = await locked_take("b", participant())
    assert (open_take.refusal, open_take.occurrence_state, open_take.seat is not None) == (None, "scheduled", True)
    for state in ("cancelled", "finished"):
        await set_occurrence_state(event_deps.engine, occ.occurrence_id, state)
        for key, who, override in (("b", participant(), False), ("b", participant(), True), ("b", inside, False),
                                   ("a", inside, False)):
            taken = await locked_take(key, who, override=override)
            assert (taken.refusal, taken.occurrence_state) == (Refusal.OCCURRENCE_CLOSED, state), (key, override)
    assert await ledger_mismatches(event_deps.engine, occ.occurrence_id) == []


@pytest.mark.parametrize("state", ["cancelled", "finished"])
async def test_confirming_a_hold_in_a_closed_occurrence_is_refused(event_stub, event_deps, state):
    occ = await create_occurrence(event_deps.engine, [SessionSpec("a", 5)])
    seat = await event_stub.HoldSeat(hold(occ.session("a"), participant()))
    await set_occurrence_state(event_deps.engine, occ.occurrence_id, state)
    before = (await outbox_count(event_deps.engine), await session_row(event_deps.engine, occ.sessions["a"]))
    request_id = str(uuid.uuid4())
    for _ in range(2):  # a retry hears the same refusal
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await event_stub.ConfirmSeat(pb.ConfirmSeatRequest(name=seat.name, request_id=request_id))
        info = error_info(refused.value)
        assert (refused.value.code(), info.reason, dict(info.metadata)) == (
            grpc.StatusCode.FAILED_PRECONDITION, "OCCURRENCE_CLOSED", {"session": occ.session("a"), "state": state})
    assert (await outbox_count(event_deps.engine), await session_row(event_deps.engine, occ.sessions["a"])) == before
    assert (await event_stub.GetSeat(pb.GetSeatRequest(name=seat.name))).state == HELD
    # Giving the hold back is still allowed.
    released = await event_stub.ReleaseSeat(pb.ReleaseSeatRequest(name=seat.name, request_id=str(uuid.uuid4())))
    assert released.state == RELEASED
    assert await ledger_mismatches(event_deps.engine, occ.occurrence_id) == []


async def test_no_seat_is_taken_after_a_concurrent_cancel_commits(event_stub, event_deps):
    """50 bookings race with a cancel. The cancel is the lifecycle's own statement (a
    conditional UPDATE of the occurrence's state), and in its transaction, after that UPDATE,
    it reads the live seats: the UPDATE holds the occurrence row, so every take that locked
    the row first has committed (and is seen), and every other waits for the cancel and then
    sees it. That read is therefore exactly the seats committed before the cancel; afterwards
    the live seats must be exactly those, and every booking answered OK one of them."""
    occ = await create_occurrence(event_deps.engine, [SessionSpec("a", 100), SessionSpec("b", 100)])
    returning = [participant() for _ in range(10)]  # in the occurrence already: the FOR SHARE branch
    for who in returning:
        await event_stub.BookSeat(book(occ.session("a"), who))
    bookers = [participant() for _ in range(40)] + returning

    async def one(who: str):
        try:
            return await event_stub.BookSeat(book(occ.session("b"), who))
        except grpc.aio.AioRpcError as refused:
            return error_info(refused).reason

    async def cancel() -> set[str]:
        while (await session_row(event_deps.engine, occ.sessions["b"])).confirmed < 5:
            await asyncio.sleep(0.001)
        async with event_deps.engine.begin() as connection:
            moved = await connection.execute(
                occurrences.update().where(occurrences.c.id == occ.occurrence_id, occurrences.c.state == "scheduled")
                .values(state="cancelled", state_changed_at=sa.func.now()))
            assert moved.rowcount == 1
            return set((await connection.execute(
                sa.select(seats_table.c.id).where(seats_table.c.occurrence_id == occ.occurrence_id,
                                                  seats_table.c.state.in_(("held", "confirmed"))))).scalars())

    *outcomes, committed_before = await asyncio.gather(*(one(who) for who in bookers), cancel())
    booked = {o.name.removeprefix("seats/") for o in outcomes if not isinstance(o, str)}
    refused = [o for o in outcomes if isinstance(o, str)]
    assert set(refused) <= {"OCCURRENCE_CLOSED"}, refused
    assert len(booked) + len(refused) == len(bookers) and len(booked) >= 5
    async with event_deps.engine.connect() as connection:
        live_now = set((await connection.execute(
            sa.select(seats_table.c.id).where(seats_table.c.occurrence_id == occ.occurrence_id,
                                              seats_table.c.state.in_(("held", "confirmed"))))).scalars())
    assert live_now == committed_before
    assert booked <= committed_before
    assert len(committed_before) == len(returning) + len(booked)
    # After the cancel, nobody books.
    assert await _refused_reason(event_stub, hold(occ.session("b"), participant())) == "OCCURRENCE_CLOSED"
    assert await ledger_mismatches(event_deps.engine, occ.occurrence_id) == []
