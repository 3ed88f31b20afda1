"""Seat ledger commands: hold, book, confirm, release and expire seats; read one seat.

Each command is one transaction in the lock order of `ledger_repository`; taking a seat is
one call of `event_service.take_seat` in it (key claim, read, locked path), then the outbox
write and the commit. Refusals of
state (FAILED_PRECONDITION: SOLD_OUT, HOLD_NOT_ACTIVE, ...) are remembered under the
request id like any other outcome: a retried SOLD_OUT stays SOLD_OUT even if a seat was
freed meanwhile, because the first answer is the answer (AIP-155); a new attempt needs a new
request id. Validation errors, NOT_FOUND and PERMISSION_DENIED are not remembered. A
retried success answers the same seat as it is now (held, confirmed, or released since).

The session rules (archived, started, booking window) are judged here, by this service's
clock, on the plain read the function makes at the start of the transaction (a refusal rolls
back whatever the call wrote); an archive committed while a hold is in flight orders after
that hold (the hold is one of the registrations archiving finds). A cancelled or finished
occurrence (OCCURRENCE_CLOSED) is judged on that read too, and again inside the function on
the locked occurrence row, so no seat is taken, and no hold confirmed, after the lifecycle
step that closed the occurrence committed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from event_service.adapters import ledger_repository
from event_service.adapters.tables import idempotency_keys
from event_service.application import access
from event_service.domain.ledger import (
    HoldNotActive,
    Refusal,
    ReleaseReason,
    Seat,
    SeatChange,
    SeatConfirmed,
    SeatExpired,
    SeatHeld,
    SeatRefused,
    SeatReleased,
    SeatState,
    first_refusal,
    moved,
    new_seat,
    occurrence_closed,
    seat_id_from,
    session_refusal,
    take_request,
)
from kernel import context
from kernel.errors import FailedPrecondition, NotFound, PermissionDenied
from kernel.idempotency import KeyClaimed, RefusedBeforeWriting, execute_once
from kernel.roles import ADMIN
from kernel.unit_of_work import UnitOfWork, UnitOfWorkFactory

_ATTEMPTS = 3  # of a take that met Postgres' lock-upgrade race (see `ledger_repository.is_lock_upgrade_race`)


@dataclass(frozen=True)
class TakeSeat:
    """HoldSeat (hold=True) or BookSeat (hold=False: confirmed at once)."""

    session: str
    participant: str
    ttl: timedelta | None
    hold: bool
    override_capacity: bool
    request_id: str
    fingerprint: str


@dataclass(frozen=True)
class ConfirmSeat:
    name: str
    request_id: str
    fingerprint: str


@dataclass(frozen=True)
class ReleaseSeat:
    name: str
    reason: ReleaseReason
    request_id: str
    fingerprint: str


def _missing_session(session_id: str) -> NotFound:
    return NotFound(f"session {session_id} does not exist", metadata={"resource": f"sessions/{session_id}"})


def _missing_seat(seat_id: str) -> NotFound:
    return NotFound(f"seat {seat_id} does not exist", metadata={"resource": f"seats/{seat_id}"})


async def take_seat(command: TakeSeat, uow_factory: UnitOfWorkFactory, now: datetime) -> Seat:
    request = take_request(session=command.session, participant=command.participant, ttl=command.ttl,
                           hold=command.hold)
    access.check_take_seat_for(request.participant_id)
    caller = context.current()
    if command.override_capacity and ADMIN not in caller.roles:
        raise PermissionDenied("only an admin may book above capacity", metadata={"field": "override_capacity"})
    method = "HoldSeat" if command.hold else "BookSeat"
    # The seat this command takes if nothing refuses; its occurrence is the session's (set by the database).
    seat = new_seat(seat_id=str(uuid.uuid4()), request=request, occurrence_id="", now=now,
                    override_capacity=command.override_capacity, actor=caller.actor)
    outcome = {"seat_id": seat.id}
    taken: list[Seat] = []

    async def work(uow: UnitOfWork) -> dict:
        # One round trip: the key claim, the plain read, and (unless the read already
        # refuses) the locked path in the fixed order; see `ledger_repository`.
        driver = await uow.driver()
        result = await ledger_repository.take(driver, request_id=command.request_id, method=method,
                                              fingerprint=command.fingerprint, outcome=outcome, seat=seat, now=now,
                                              fast=True)
        if result.claimed is not None:
            raise KeyClaimed(*result.claimed)
        if not result.found:
            raise _missing_session(request.session_id)
        static = session_refusal(now=now, starts_at=result.starts_at, booking_window_days=result.booking_window_days,
                                 event_archived=result.event_archived, occurrence_state=result.occurrence_state)
        if static is not None:
            refused = SeatRefused(static, request.session_id, occurrence_state=result.occurrence_state)
            # Without fast-path refusals the call took the locked path: the rollback undoes it.
            raise RefusedBeforeWriting(refused) if result.refusals else refused
        if result.refusals:
            # Fast path: the plain read (no due hold) already refuses; only the key was written.
            refusal = first_refusal(result.refusals)
            if refusal is not None:
                raise RefusedBeforeWriting(SeatRefused(refusal, request.session_id,
                                                       occurrence_state=result.occurrence_state))
            # No refusal after all: take the locked path (the key is claimed in this transaction).
            result = await ledger_repository.take(driver, request_id="", method=method,
                                                  fingerprint=command.fingerprint, outcome=outcome, seat=seat,
                                                  now=now, fast=False)
        if result.refusal is not None:
            # Rolls back whatever the call wrote.
            raise SeatRefused(result.refusal, request.session_id, occurrence_state=result.occurrence_state)
        _record_expired(uow, list(result.expired), list(result.applied))
        last = result.applied[-1]
        booked = result.seat
        uow.record(SeatHeld(booked, last.counts, last.version) if command.hold
                   else SeatConfirmed(booked, last.counts, last.version))
        taken.append(booked)
        return outcome

    for attempt in range(_ATTEMPTS):
        try:
            answer = await execute_once(uow_factory, idempotency_keys, request_id=command.request_id, method=method,
                                        request_fingerprint=command.fingerprint, work=work,
                                        remember=(FailedPrecondition,), claimed_by_work=True)
            break
        except Exception as error:
            # The whole transaction rolled back (nothing committed, the key claim included).
            if attempt + 1 == _ATTEMPTS or not ledger_repository.is_lock_upgrade_race(error):
                raise
    if taken and taken[-1].id == answer["seat_id"]:
        return taken[-1]
    return await get_seat(answer["seat_id"], uow_factory)


async def confirm_seat(command: ConfirmSeat, uow_factory: UnitOfWorkFactory, now: datetime) -> Seat:
    """HELD → CONFIRMED. Confirming a confirmed seat again answers it unchanged; a hold that
    was released, expired or ran out is HOLD_NOT_ACTIVE (and one that ran out is given back
    at once rather than at the sweeper's next pass); a live hold in a cancelled or finished
    occurrence is OCCURRENCE_CLOSED (judged on the occurrence row locked FOR SHARE, step 3 of
    the lock order; the hold stays until it runs out or is released)."""
    seat_id = seat_id_from(command.name)
    answered: list[Seat] = []

    async def work(uow: UnitOfWork) -> dict:
        seat = await ledger_repository.lock(uow.connection, seat_id)
        if seat is None:
            raise _missing_seat(seat_id)
        access.check_seat_visible(seat_id, seat.participant_id)
        if seat.state is SeatState.CONFIRMED:
            answered.append(seat)
            return {"seat_id": seat.id}
        if seat.state is not SeatState.HELD or seat.due(now):
            raise HoldNotActive(seat)
        # Steps 1 (the seat, locked above) and 2 (nothing: a confirmation changes no live
        # count) done, step 3: the occurrence must still be open.
        state = await ledger_repository.lock_open_occurrence(uow.connection, seat.occurrence_id)
        if occurrence_closed(state):
            raise SeatRefused(Refusal.OCCURRENCE_CLOSED, seat.session_id, occurrence_state=state)
        confirmed = moved(seat, SeatState.CONFIRMED, now)
        await ledger_repository.move(uow.connection, confirmed)
        (applied,) = await ledger_repository.apply(uow.connection, [SeatChange(confirmed, SeatState.HELD)])
        uow.record(SeatConfirmed(confirmed, applied.counts, applied.version))
        answered.append(confirmed)
        return {"seat_id": seat.id}

    try:
        outcome = await execute_once(uow_factory, idempotency_keys, request_id=command.request_id,
                                     method="ConfirmSeat", request_fingerprint=command.fingerprint, work=work,
                                     remember=(FailedPrecondition,))
    except FailedPrecondition as refused:
        if refused.reason == HoldNotActive.reason:
            await expire_if_due(seat_id, uow_factory, now)
        raise
    return answered[-1] if answered else await get_seat(outcome["seat_id"], uow_factory)


async def release_seat(command: ReleaseSeat, uow_factory: UnitOfWorkFactory, now: datetime) -> Seat:
    """HELD/CONFIRMED → RELEASED, giving every counter back; a seat no longer live is
    answered unchanged."""
    seat_id = seat_id_from(command.name)
    answered: list[Seat] = []

    async def work(uow: UnitOfWork) -> dict:
        seat = await ledger_repository.lock(uow.connection, seat_id)
        if seat is None:
            raise _missing_seat(seat_id)
        access.check_seat_visible(seat_id, seat.participant_id)
        if not seat.state.live:
            answered.append(seat)
            return {"seat_id": seat.id}
        released = moved(seat, SeatState.RELEASED, now)
        await ledger_repository.move(uow.connection, released)
        (applied,) = await ledger_repository.apply(uow.connection, [SeatChange(released, seat.state)])
        uow.record(SeatReleased(released, applied.counts, applied.version, command.reason))
        answered.append(released)
        return {"seat_id": seat.id}

    outcome = await execute_once(uow_factory, idempotency_keys, request_id=command.request_id,
                                 method="ReleaseSeat", request_fingerprint=command.fingerprint, work=work,
                                 remember=(FailedPrecondition,))
    return answered[-1] if answered else await get_seat(outcome["seat_id"], uow_factory)


async def get_seat(seat_id: str, uow_factory: UnitOfWorkFactory) -> Seat:
    async with uow_factory() as uow:
        seat = await ledger_repository.get(uow.connection, seat_id)
    if seat is None:
        raise _missing_seat(seat_id)
    return seat


async def get_seat_named(name: str, uow_factory: UnitOfWorkFactory) -> Seat:
    seat = await get_seat(seat_id_from(name), uow_factory)
    access.check_seat_visible(seat.id, seat.participant_id)
    return seat


# --- expiry ------------------------------------------------------------------------------------


def _record_expired(uow: UnitOfWork, expired: list[Seat], applied: list[ledger_repository.Applied]) -> None:
    for seat, result in zip(expired, applied):
        uow.record(SeatExpired(seat, result.counts, result.version))


async def expire(uow: UnitOfWork, due: list[Seat], now: datetime) -> list[Seat]:
    """Gives back locked holds that ran out (HELD → EXPIRED), in the fixed lock order."""
    expired = [moved(seat, SeatState.EXPIRED, now) for seat in due]
    await ledger_repository.move_all(uow.connection, expired)
    applied = await ledger_repository.apply(uow.connection, [SeatChange(e, SeatState.HELD) for e in expired])
    _record_expired(uow, expired, applied)
    return expired


async def expire_if_due(seat_id: str, uow_factory: UnitOfWorkFactory, now: datetime) -> bool:
    async with uow_factory() as uow:
        due = await ledger_repository.lock_due(uow.connection, now=now, seat_id=seat_id)
        if not due:
            return False
        await expire(uow, due, now)
        await uow.commit()
    return True
