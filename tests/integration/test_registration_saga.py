"""The booking saga's failure paths, each proven by killing or failing one step against the
real ledger and database: the handler is called in-process with a ledger whose chosen call
dies (a BaseException, which no handler cleans up after, as in a killed process) or fails."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from event_service.application.sweeper import sweep_all
from kernel import context
from kernel.errors import FailedPrecondition, Unavailable
from kernel.saga_keys import RequestInProgress
from ledger_fixtures import SessionSpec, create_occurrence
from participant_service.application import registrations
from participant_service.application.reconciler import reconcile_once
from participant_service.domain.registrations import EndReason, State
from registration_fixtures import live_seats, new_participants, registration_rows

pytestmark = pytest.mark.integration

LATER = timedelta(hours=1)


class Killed(BaseException):
    """The process died at this point."""


class FaultyLedger:
    """The real ledger, except that one call dies or fails: before it reaches event_service
    (`before`) or after its answer (`after`)."""

    def __init__(self, real, *, call: str, when: str = "before", fault: BaseException | None = None):
        self._real, self._call, self._when = real, call, when
        self._fault = fault or Killed(call)
        self.reached = asyncio.Event()
        self.proceed: asyncio.Event | None = None

    def __getattr__(self, name):
        method = getattr(self._real, name)
        if name != self._call:
            return method

        async def faulty(*args, **kwargs):
            self.reached.set()
            if self.proceed is not None:
                await self.proceed.wait()
                return await method(*args, **kwargs)
            if self._when == "before":
                raise self._fault
            answer = await method(*args, **kwargs)
            raise self._fault
            return answer  # pragma: no cover

        return faulty


@pytest.fixture
def engine(event_deps):
    return event_deps.engine


@pytest.fixture
def as_admin():
    token = context.bind(context.RequestContext(request_id=str(uuid.uuid4()), actor="admin-1",
                                                roles=frozenset({"admin"})))
    yield
    context.reset(token)


async def setup(engine, participant_stub, capacity: int = 3) -> tuple[str, str]:
    occurrence = await create_occurrence(engine, [SessionSpec("s", capacity)])
    [who] = await new_participants(participant_stub, 1)
    return occurrence.sessions["s"], who


def command(session_id: str, who: str, **fields) -> registrations.Register:
    request_id = fields.pop("request_id", None) or str(uuid.uuid4())
    return registrations.Register(session_id=session_id, participant_id=who, request_id=request_id,
                                  fingerprint=request_id, **fields)


def with_ledger(deps, ledger, **policy):
    return replace(deps, ledger=ledger, policy=replace(deps.policy, **policy))


async def test_killed_after_the_hold_leaves_no_registration_and_the_hold_lapses(
        engine, event_deps, registration_deps, participant_stub, as_admin) -> None:
    session_id, who = await setup(engine, participant_stub)
    dying = with_ledger(registration_deps, FaultyLedger(registration_deps.ledger, call="hold", when="after"))
    with pytest.raises(Killed):
        await registrations.register(command(session_id, who), dying)
    assert await registration_rows(engine, session_id) == []
    assert await live_seats(engine, session_id) == {who: "held"}
    await sweep_all(event_deps.uow_factory, datetime.now(UTC) + LATER)
    assert await live_seats(engine, session_id) == {}
    assert await registration_rows(engine, session_id) == []


async def test_a_retry_after_the_lease_lapsed_takes_over_and_books_once(
        engine, event_deps, registration_deps, participant_stub, as_admin) -> None:
    session_id, who = await setup(engine, participant_stub)
    request = command(session_id, who)
    dying = with_ledger(registration_deps, FaultyLedger(registration_deps.ledger, call="hold", when="after"),
                        lease=timedelta(0))
    with pytest.raises(Killed):
        await registrations.register(request, dying)
    # The dead attempt's hold also lapsed before the retry: the retry must hold afresh.
    await sweep_all(event_deps.uow_factory, datetime.now(UTC) + LATER)
    registration = await registrations.register(request, with_ledger(registration_deps, registration_deps.ledger,
                                                                     lease=timedelta(0)))
    assert registration.state is State.CONFIRMED
    assert await live_seats(engine, session_id) == {who: "confirmed"}
    assert [row.id for row in await registration_rows(engine, session_id)] == [registration.id]
    again = await registrations.register(request, registration_deps)
    assert again.id == registration.id


async def test_a_retry_while_the_first_call_runs_is_refused_in_progress(
        engine, registration_deps, participant_stub, as_admin) -> None:
    session_id, who = await setup(engine, participant_stub)
    request = command(session_id, who)
    slow = FaultyLedger(registration_deps.ledger, call="hold")
    slow.proceed = asyncio.Event()
    first = asyncio.create_task(registrations.register(request, with_ledger(registration_deps, slow)))
    await asyncio.wait_for(slow.reached.wait(), 10)
    with pytest.raises(RequestInProgress):
        await registrations.register(request, registration_deps)
    slow.proceed.set()
    registration = await first
    assert (await registrations.register(request, registration_deps)).id == registration.id
    assert await live_seats(engine, session_id) == {who: "confirmed"}


async def test_a_failed_confirm_call_is_retried_by_the_reconciler(
        engine, registration_deps, participant_stub, as_admin) -> None:
    session_id, who = await setup(engine, participant_stub)
    failing = with_ledger(registration_deps, FaultyLedger(registration_deps.ledger, call="confirm",
                                                          fault=Unavailable("event-service is unavailable")))
    registration = await registrations.register(command(session_id, who), failing)
    assert registration.state is State.CONFIRMED
    assert await live_seats(engine, session_id) == {who: "held"}
    [row] = await registration_rows(engine, session_id)
    assert row.seat_sync == "confirm"
    report = await reconcile_once(registration_deps, grace=timedelta(0))
    assert report.seats_settled >= 1
    assert await live_seats(engine, session_id) == {who: "confirmed"}
    [row] = await registration_rows(engine, session_id)
    assert row.seat_sync is None


async def test_killed_after_recording_is_confirmed_from_what_it_owes(
        engine, registration_deps, participant_stub, as_admin) -> None:
    session_id, who = await setup(engine, participant_stub)
    dying = with_ledger(registration_deps, FaultyLedger(registration_deps.ledger, call="confirm"))
    with pytest.raises(Killed):
        await registrations.register(command(session_id, who), dying)
    [row] = await registration_rows(engine, session_id)
    assert (row.state, row.seat_sync) == ("confirmed", "confirm")
    await reconcile_once(registration_deps, grace=timedelta(0))
    assert await live_seats(engine, session_id) == {who: "confirmed"}


async def test_a_seat_that_lapsed_before_its_confirmation_ends_the_registration(
        engine, event_deps, registration_deps, participant_stub, as_admin) -> None:
    session_id, who = await setup(engine, participant_stub)
    dying = with_ledger(registration_deps, FaultyLedger(registration_deps.ledger, call="confirm"))
    with pytest.raises(Killed):
        await registrations.register(command(session_id, who), dying)
    await sweep_all(event_deps.uow_factory, datetime.now(UTC) + LATER)
    await reconcile_once(registration_deps, grace=timedelta(0))
    [row] = await registration_rows(engine, session_id)
    assert (row.state, row.end_reason, row.seat_sync) == ("expired", EndReason.SEAT_LOST.value, None)
    assert await live_seats(engine, session_id) == {}
    async with engine.connect() as connection:
        types = (await connection.execute(sa.text(
            "SELECT event_type FROM participant_service.outbox WHERE message_key = :id ORDER BY id"),
            {"id": row.id})).scalars().all()
    assert types[-1] == "turnout.participant.v1.RegistrationExpired"


async def test_an_unconfirmed_hold_expires_on_both_sides(
        engine, event_deps, registration_deps, participant_stub, as_admin) -> None:
    session_id, who = await setup(engine, participant_stub)
    held = await registrations.register(command(session_id, who, hold=True, hold_ttl=timedelta(minutes=1)),
                                        registration_deps)
    assert held.state is State.HELD
    later = replace(registration_deps, clock=lambda: datetime.now(UTC) + LATER)
    await sweep_all(event_deps.uow_factory, datetime.now(UTC) + LATER)
    assert (await reconcile_once(later)).expired >= 1
    [row] = await registration_rows(engine, session_id)
    assert (row.state, row.end_reason) == ("expired", "expired")
    assert await live_seats(engine, session_id) == {}
    with pytest.raises(FailedPrecondition) as refused:
        await registrations.confirm_registration(
            registrations.ChangeRegistration(held.id, str(uuid.uuid4()), "x"), registration_deps)
    assert refused.value.reason == "REGISTRATION_NOT_ACTIVE"
    # The participant may register again.
    again = await registrations.register(command(session_id, who), registration_deps)
    assert again.state is State.CONFIRMED


async def test_confirming_a_hold_the_ledger_already_let_go_says_it_expired(
        engine, event_deps, registration_deps, participant_stub, as_admin) -> None:
    session_id, who = await setup(engine, participant_stub)
    held = await registrations.register(command(session_id, who, hold=True), registration_deps)
    await sweep_all(event_deps.uow_factory, datetime.now(UTC) + LATER)  # the ledger's clock ran ahead
    with pytest.raises(FailedPrecondition) as refused:
        await registrations.confirm_registration(
            registrations.ChangeRegistration(held.id, str(uuid.uuid4()), "x"), registration_deps)
    assert refused.value.reason == "HOLD_EXPIRED"
    [row] = await registration_rows(engine, session_id)
    assert (row.state, row.end_reason) == ("expired", "seat_lost")

