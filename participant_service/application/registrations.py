"""Registration commands and queries: the booking saga in front of event_service's ledger.

Register is a saga of separate steps, each safe to repeat:
  1. claim the request id with a lease (`kernel.saga_keys`): a twin arriving meanwhile is
     refused with REQUEST_IN_PROGRESS;
  2. hold a seat over gRPC with a request id derived from the client's, so a repeated step
     finds the seat it took before; the hold is short unless the client asked to hold;
  3. record the registration, its outbox event and the request's outcome in one transaction;
     a registration that is to be confirmed records that it owes the ledger a confirmation
     (`seat_sync`);
  4. confirm the seat and clear what is owed.
If the process dies after 2, no registration exists and the hold lapses; a retry (after the
lease) takes the same seat again. If it dies after 3, or the confirm call fails, the
reconciler (`participant_service.application.reconciler`) makes the owed call later; a seat
that lapsed meanwhile turns the registration EXPIRED (SEAT_LOST). Cancel works the same way
round: record first, then release.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy.exc import IntegrityError

from kernel import context, pagination, saga_keys
from kernel.errors import FailedPrecondition, InvalidArgument, NotFound, PermissionDenied, Unavailable, Validator
from kernel.idempotency import execute_once
from kernel.resources import resource_id
from kernel.unit_of_work import UnitOfWorkFactory
from participant_service.adapters import registration_repository as repository
from participant_service.adapters.seat_ledger import SeatLedger, step_request_id
from participant_service.adapters.tables import idempotency_keys
from participant_service.application import notifications
from participant_service.domain import access
from participant_service.domain import registrations as domain
from participant_service.domain.registrations import (
    ADMIN,
    DEFAULT_HOLD,
    FULL_REASONS,
    Answer,
    Attendance,
    Registration,
    SeatSync,
    SessionSnapshot,
    State,
)

log = logging.getLogger(__name__)

# The ledger's refusal of a seat in a cancelled or finished occurrence.
OCCURRENCE_CLOSED = "OCCURRENCE_CLOSED"

# Refusals that are the outcome of a request (a retry gets them again).
_REMEMBERED = (FailedPrecondition, PermissionDenied)


@dataclass(frozen=True)
class Policy:
    saga_hold: timedelta = timedelta(minutes=2)
    lease: timedelta = timedelta(seconds=30)
    offer_ttl: timedelta = timedelta(minutes=15)
    # Language the notification requests ask to be rendered in (TURNOUT_NOTIFICATION_LOCALE).
    notification_locale: str = "ru"


@dataclass
class RegistrationDeps:
    uow: UnitOfWorkFactory
    ledger: SeatLedger
    policy: Policy = Policy()
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    # Set when a seat may have freed for a waitlist; the reconciler wakes up on it.
    seat_freed: asyncio.Event = field(default_factory=asyncio.Event)
    # Waitlisted sessions found full: session id -> (monotonic time to try again, last delay).
    # Keeps the reconciler from asking the ledger about every full session every second; a
    # seat freed through this process (`wake`) clears it at once.
    waitlist_backoff: dict[str, tuple[float, float]] = field(default_factory=dict)
    # Sagas running at once in this process. Past it, requests wait their turn here instead
    # of all crowding the pools and event-service, where every call would run late.
    saga_slots: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(64))


    def wake(self, session_id: str) -> None:
        """A seat of the session may have freed: its waitlist is looked at on the next pass."""
        self.waitlist_backoff.pop(session_id, None)
        self.seat_freed.set()


@dataclass(frozen=True)
class Register:
    session_id: str
    participant_id: str
    request_id: str
    fingerprint: str
    hold: bool = False
    hold_ttl: timedelta | None = None
    comment: str = ""
    override_capacity: bool = False
    waitlist: bool = False


def _missing(registration_id: str) -> NotFound:
    return NotFound(f"registration {registration_id} does not exist",
                    metadata={"resource": f"registrations/{registration_id}"})


def _already(existing: Registration) -> FailedPrecondition:
    if existing.state is State.WAITLISTED:
        return FailedPrecondition("the participant is already on this session's waitlist",
                                  reason="ALREADY_WAITLISTED",
                                  metadata={"registration": f"registrations/{existing.id}"})
    return FailedPrecondition("the participant already has a registration for this session",
                              reason="ALREADY_REGISTERED", metadata={"registration": f"registrations/{existing.id}"})


async def register(command: Register, deps: RegistrationDeps) -> Registration:
    domain.check_new_registration(command.comment, command.hold_ttl, command.hold)
    caller = context.current()
    if command.override_capacity and ADMIN not in caller.roles:
        raise PermissionDenied("only an admin may book above capacity", metadata={"field": "override_capacity"})
    if not domain.may_register_for(command.participant_id, roles=caller.roles,
                                   participant_id=caller.participant_id):
        raise PermissionDenied("booking for someone else needs one of the roles: admin, volunteer, service",
                               metadata={"field": "participant"})
    if not command.request_id:
        raise InvalidArgument.single("request_id", "is required: it makes a retried registration safe")
    async with deps.saga_slots:
        registration = await _claimed_register(command, deps, caller)
    if registration.state is State.WAITLISTED:
        return await get_registration(registration.id, deps)  # with its place in the line
    if registration.seat_sync is not None:
        registration = await settle_seat(registration, deps, raise_closed=True)
        if registration.state is State.EXPIRED:
            raise domain.hold_expired(registration)
    return registration


async def _claimed_register(command: Register, deps: RegistrationDeps, caller: context.RequestContext) -> Registration:
    """Steps 1-3 under the request id's lease; the registration as recorded (or as recorded
    by the first call with this request id)."""
    start = await saga_keys.begin(deps.uow, idempotency_keys, request_id=command.request_id,
                                  method="CreateRegistration", request_fingerprint=command.fingerprint,
                                  lease=deps.policy.lease)
    if start.outcome is not None:
        return await get_registration(start.outcome["registration_id"], deps)
    keys = dict(request_id=command.request_id, attempt=start.attempt)
    try:
        return await _run_register(command, deps, start.attempt, caller)
    except saga_keys.RequestInProgress:
        raise  # a later attempt owns the key now
    except _REMEMBERED as refusal:
        await saga_keys.remember(deps.uow, idempotency_keys, refusal=refusal, **keys)
        raise
    except Exception:
        # A transient failure or a fault: give the key up so a retry runs the saga again. A
        # dying process never gets here; its lease lapses instead.
        await saga_keys.abandon(deps.uow, idempotency_keys, **keys)
        raise


async def _run_register(command: Register, deps: RegistrationDeps, attempt: int,
                        caller: context.RequestContext) -> Registration:
    queued, session = await _preflight(command, deps)
    registration_id = step_request_id(command.request_id, "registration")
    now = deps.clock()
    seat = None
    try:
        if queued and not command.override_capacity:
            # Freed seats go to the waitlist first; a newcomer queues behind it.
            raise FailedPrecondition("the session is full and has a waitlist", reason="SOLD_OUT",
                                     metadata={"session": f"sessions/{session.session_id}"})
        seat = await _hold(command, deps, attempt)
    except FailedPrecondition as refusal:
        if not (command.waitlist and refusal.reason in FULL_REASONS):
            raise
        registration = domain.waitlisted(
            registration_id=registration_id, participant_id=command.participant_id, session=session, now=now,
            registered_by=caller.actor, comment=command.comment)
    else:
        registration = domain.new_registration(
            registration_id=registration_id, participant_id=command.participant_id, session=session, now=now,
            registered_by=caller.actor, comment=command.comment, hold=command.hold, seat_id=seat.seat_id,
            expires_at=seat.expires_at, capacity_override=seat.capacity_override)
    try:
        async with deps.uow() as uow:
            await repository.add(uow.connection, registration)
            uow.record(domain.RegistrationCreated(registration),
                       notifications.registration_created(registration, locale=deps.policy.notification_locale))
            await saga_keys.finish(uow.connection, idempotency_keys, request_id=command.request_id,
                                   attempt=attempt, outcome={"registration_id": registration.id})
            await uow.commit()
    except IntegrityError:
        # The participant has a live registration the ledger could not see: a waitlist place.
        async with deps.uow() as uow:
            existing = await repository.live_for(uow.connection, command.participant_id, session.session_id)
        if seat is not None:
            await deps.ledger.release(seat.seat_id, step_request_id(command.request_id, f"undo/{seat.seat_id}"))
        if existing is None:
            raise
        raise _already(existing) from None
    return registration


async def _preflight(command: Register, deps: RegistrationDeps) -> tuple[bool, SessionSnapshot]:
    """Whether the session has a waitlist, and the session from event_service; the local
    query (participant and waitlist at once) and the call run at the same time. An unknown
    participant or session is a field violation, both at once when both are unknown."""

    async def local() -> tuple[bool, bool]:
        async with deps.uow() as uow:
            return await repository.participant_and_waitlist(uow.connection, command.participant_id,
                                                             command.session_id)

    here, there = await asyncio.gather(local(), deps.ledger.session(command.session_id), return_exceptions=True)
    if isinstance(here, BaseException):
        raise here
    if isinstance(there, BaseException) and not isinstance(there, InvalidArgument):
        raise there
    checks = Validator()
    if isinstance(there, InvalidArgument):
        checks.violations.extend(there.violations)
    known, queued = here
    checks.check(known, "participant", f"participant {command.participant_id[:100]} does not exist")
    checks.raise_if_any()
    assert isinstance(there, SessionSnapshot)
    return queued, there


async def _hold(command: Register, deps: RegistrationDeps, attempt: int):  # type: ignore[no-untyped-def]
    ttl = (command.hold_ttl or DEFAULT_HOLD) if command.hold else deps.policy.saga_hold
    hold = dict(session_id=command.session_id, participant_id=command.participant_id, ttl=ttl,
                override_capacity=command.override_capacity)
    seat = await deps.ledger.hold(request_id=step_request_id(command.request_id, "hold"), **hold)
    if seat.state not in ("held", "confirmed"):
        # An earlier attempt's hold lapsed before this one could record it: hold afresh.
        seat = await deps.ledger.hold(request_id=step_request_id(command.request_id, f"hold/{attempt}"), **hold)
    return seat


async def settle_seat(registration: Registration, deps: RegistrationDeps, *,
                      raise_closed: bool = False) -> Registration:
    """Makes the ledger call the registration owes. A transient failure leaves it owed (the
    reconciler retries); a confirmation the ledger refuses because the hold is gone turns the
    registration EXPIRED with SEAT_LOST. So does one it refuses because the occurrence was
    cancelled or finished meanwhile (OCCURRENCE_CLOSED, final): the hold is released at once,
    and with `raise_closed` (the caller's own request) the refusal is raised afterwards."""
    owed, seat_id = registration.seat_sync, registration.seat_id
    if owed is None or seat_id is None:
        return registration
    try:
        if owed is SeatSync.CONFIRM:
            await deps.ledger.confirm(seat_id, step_request_id(registration.id, f"confirm/{seat_id}"))
        else:
            await deps.ledger.release(seat_id, step_request_id(registration.id, f"release/{seat_id}"))
    except Unavailable as exc:
        log.warning("ledger call owed by registration %s failed; the reconciler retries it: %s",
                    registration.id, exc.message)
        return registration
    except FailedPrecondition as refusal:
        if owed is not SeatSync.CONFIRM or refusal.reason not in ("HOLD_NOT_ACTIVE", OCCURRENCE_CLOSED):
            raise
        lost = await _seat_lost(registration, deps)
        if refusal.reason == OCCURRENCE_CLOSED:
            await _release_closed_hold(lost, seat_id, deps)
            if raise_closed:
                raise
        return lost
    async with deps.uow() as uow:
        await uow.connection.exec_driver_sql("SET LOCAL synchronous_commit = off")  # the call is idempotent
        await repository.clear_seat_sync(uow.connection, registration.id, owed)
        await uow.commit()
    if owed is SeatSync.RELEASE:
        deps.wake(registration.session_id)
    return domain.seat_synced(registration)


async def _release_closed_hold(registration: Registration, seat_id: str, deps: RegistrationDeps) -> None:
    """Gives back at once a hold that can never be confirmed (else it would count until it
    runs out); a failure leaves it to run out."""
    try:
        await deps.ledger.release(seat_id, step_request_id(registration.id, f"release/{seat_id}"))
    except (Unavailable, FailedPrecondition) as exc:
        log.warning("hold %s of registration %s in a closed occurrence was not released: %s", seat_id,
                    registration.id, exc.message)


async def _seat_lost(registration: Registration, deps: RegistrationDeps) -> Registration:
    async with deps.uow() as uow:
        current = await repository.get_for_update(uow.connection, registration.id)
        if current is None or current.seat_sync is not SeatSync.CONFIRM or current.seat_id != registration.seat_id:
            return current or registration
        lost = domain.expired(current, deps.clock(), seat_lost=True)
        await repository.update(uow.connection, lost)
        uow.record(domain.RegistrationExpired(lost))
        await uow.commit()
    return lost


@dataclass(frozen=True)
class ChangeRegistration:
    registration_id: str
    request_id: str
    fingerprint: str


Transition = Callable[[Registration, datetime, context.RequestContext], Registration | None]


def _caller(ctx: context.RequestContext) -> access.Caller:
    return access.Caller(actor=ctx.actor, roles=ctx.roles, participant_id=ctx.participant_id)


def _visible(registration: Registration, ctx: context.RequestContext) -> bool:
    return access.may_see_registration(_caller(ctx), participant_id=registration.participant_id,
                                       registered_by=registration.registered_by)


async def _change(command: ChangeRegistration, deps: RegistrationDeps, method: str, transition: Transition,
                  event: type) -> Registration:
    """One state change of one registration under the request id: `transition` answers the
    changed registration (None: nothing to change), recorded with `event`."""
    caller = context.current()

    async def work(uow) -> dict:  # type: ignore[no-untyped-def]
        current = await repository.get_for_update(uow.connection, command.registration_id)
        if current is None or not _visible(current, caller):
            raise _missing(command.registration_id)
        changed = transition(current, deps.clock(), caller)
        if changed is not None:
            await repository.update(uow.connection, changed)
            uow.record(event(changed))
        return {"registration_id": current.id}

    outcome = await execute_once(deps.uow, idempotency_keys, request_id=command.request_id, method=method,
                                 request_fingerprint=command.fingerprint, work=work, remember=_REMEMBERED)
    return await get_registration(outcome["registration_id"], deps)


def _confirmed(current: Registration, now: datetime, caller: context.RequestContext) -> Registration | None:
    changed = domain.confirmed(current, now, actor=caller.actor, roles=caller.roles,
                               participant_id=caller.participant_id)
    return None if changed is current else changed


def _cancelled(current: Registration, now: datetime, caller: context.RequestContext) -> Registration:
    return domain.cancelled(current, now, actor=caller.actor, roles=caller.roles,
                            participant_id=caller.participant_id)


async def confirm_registration(command: ChangeRegistration, deps: RegistrationDeps) -> Registration:
    registration = await _change(command, deps, "ConfirmRegistration", _confirmed, domain.RegistrationConfirmed)
    registration = await settle_seat(registration, deps, raise_closed=True)
    if registration.state is State.EXPIRED and registration.end_reason is domain.EndReason.SEAT_LOST:
        raise domain.hold_expired(registration)
    return registration


async def cancel_registration(command: ChangeRegistration, deps: RegistrationDeps) -> Registration:
    registration = await _change(command, deps, "CancelRegistration", _cancelled, domain.RegistrationCancelled)
    return await _give_back(registration, deps)


async def _give_back(cancelled: Registration, deps: RegistrationDeps) -> Registration:
    """After a cancellation committed: its seat back to the ledger, its place to the waitlist."""
    deps.wake(cancelled.session_id)  # a waitlist place freed even when no seat did
    return await settle_seat(cancelled, deps)


@dataclass(frozen=True)
class AnswerReconfirmation(ChangeRegistration):
    answer: Answer | None = None


async def answer_reconfirmation(command: AnswerReconfirmation, deps: RegistrationDeps) -> Registration:
    """CONFIRM keeps the seat; DECLINE cancels the registration the way CancelRegistration
    does, so its seat is released and offered to the waitlist."""
    answer = command.answer
    if answer is None:
        raise InvalidArgument.single("answer", "must be confirm or decline")

    def transition(current: Registration, now: datetime, caller: context.RequestContext) -> Registration | None:
        return domain.answered(current, now, answer, actor=caller.actor, roles=caller.roles,
                               participant_id=caller.participant_id)

    if answer is Answer.DECLINE:
        declined = await _change(command, deps, "AnswerReconfirmation", transition, domain.RegistrationCancelled)
        return await _give_back(declined, deps)
    return await _change(command, deps, "AnswerReconfirmation", transition,
                         domain.RegistrationReconfirmationChanged)


@dataclass(frozen=True)
class MarkAttendance:
    names: tuple[str, ...]
    attendance: Attendance | None
    comment: str
    request_id: str
    fingerprint: str


@dataclass(frozen=True)
class AttendanceFailure:
    name: str
    reason: str
    message: str


@dataclass(frozen=True)
class AttendanceResult:
    registrations: list[Registration]
    failures: list[AttendanceFailure]


def _check_attendance(command: MarkAttendance) -> dict[str, str]:
    """Valid names by registration id; a malformed name is reported like an unknown one."""
    validator = Validator()
    validator.check(command.attendance is not None, "attendance", "must be expected, attended or no_show")
    validator.check(0 < len(command.names) <= domain.MAX_BATCH, "names",
                    f"must list between 1 and {domain.MAX_BATCH} registrations")
    validator.check(len(command.comment) <= domain.MAX_COMMENT, "comment",
                    f"must have at most {domain.MAX_COMMENT} characters")
    validator.check("\x00" not in command.comment, "comment", "must not contain NUL characters")
    seen: set[str] = set()
    for index, name in enumerate(command.names):
        # A NUL could be neither looked up nor echoed in the stored outcome (text, jsonb).
        if not validator.check("\x00" not in name, f"names[{index}]", "must not contain NUL characters"):
            break
        if not validator.check(name not in seen, f"names[{index}]", "is listed twice"):
            break
        seen.add(name)
    validator.raise_if_any()
    ids = {}
    for name in command.names:
        try:
            ids[name] = resource_id(name, "registrations")
        except InvalidArgument:
            continue
    return ids


async def mark_attendance(command: MarkAttendance, deps: RegistrationDeps) -> AttendanceResult:
    if not access.may_mark_attendance(_caller(context.current())):
        raise PermissionDenied("marking attendance needs one of the roles: admin, volunteer, service")
    ids = _check_attendance(command)
    assert command.attendance is not None
    attendance, comment = command.attendance, command.comment or None

    async def work(uow) -> dict:  # type: ignore[no-untyped-def]
        found = await repository.many_for_update(uow.connection, list(ids.values()))
        now, updated, failures = deps.clock(), [], []
        for name in command.names:
            current = found.get(ids.get(name, ""))
            if current is None:
                failures.append([name, "NOT_FOUND", f"registration {name[:120]} does not exist"])
                continue
            try:
                changed = domain.with_attendance(current, now, attendance, comment)
            except FailedPrecondition as refusal:
                failures.append([name, "NOT_CONFIRMED", refusal.message])
                continue
            if changed is not None:
                await repository.update(uow.connection, changed)
                uow.record(domain.AttendanceMarked(changed))
                await _tell_if_missed(uow, current, changed, deps)
            updated.append(current.id)
        return {"updated": updated, "failures": failures}

    outcome = await execute_once(deps.uow, idempotency_keys, request_id=command.request_id,
                                 method="BatchUpdateAttendance", request_fingerprint=command.fingerprint, work=work)
    async with deps.uow() as uow:
        registrations = [await repository.get(uow.connection, registration_id)
                         for registration_id in outcome["updated"]]
    return AttendanceResult([r for r in registrations if r is not None],
                            [AttendanceFailure(*failure) for failure in outcome["failures"]])


async def _tell_if_missed(uow, before: Registration, after: Registration,  # type: ignore[no-untyped-def]
                          deps: RegistrationDeps) -> None:
    """The participant hears once that they were marked absent, however often staff flip it."""
    if domain.missed_attendance(before, after) and await repository.claim_once(
            uow.connection, notifications.attendance_missed_key(after), "NotifyAttendanceMissed"):
        uow.record(notifications.attendance_missed(after, locale=deps.policy.notification_locale))


async def get_registration(registration_id: str, deps: RegistrationDeps) -> Registration:
    async with deps.uow() as uow:
        registration = await repository.get(uow.connection, registration_id)
    if registration is None or not _visible(registration, context.current()):
        # Another participant's registration (or another volunteer's booking) is not theirs
        # to know of.
        raise _missing(registration_id)
    return registration


@dataclass(frozen=True)
class RegistrationPage:
    registrations: list[Registration]
    next_page_token: str


async def list_registrations(parent: str, *, page_size: int, page_token: str, timing: str | None,
                             states: tuple[State, ...], deps: RegistrationDeps) -> RegistrationPage:
    limit = pagination.page_size(page_size)
    collection, _, parent_id = parent.partition("/")
    if collection not in ("sessions", "participants") or not parent_id or "/" in parent_id:
        raise InvalidArgument.single("parent", 'must be "sessions/{session}" or "participants/{participant}"')
    caller = _caller(context.current())
    if collection == "participants" and not access.may_list_participant_registrations(caller, parent_id):
        raise PermissionDenied("a participant may list only their own registrations", metadata={"field": "parent"})
    if collection == "sessions" and not access.may_list_session_registrations(caller):
        raise PermissionDenied("a participant may not list a session's registrations", metadata={"field": "parent"})
    if timing is not None and collection != "participants":
        raise InvalidArgument.single("timing", "applies to a participant's registrations only")
    after = pagination.keyset_after(page_token, width=3)
    if after is not None and after[0] != (timing or "all"):
        raise InvalidArgument.single("page_token", "is not a token of this listing")
    position = (pagination.position_moment(after[1]), after[2]) if after else None
    wanted = [state.value for state in states]
    async with deps.uow() as uow:
        if collection == "sessions":
            rows = await repository.session_page(uow.connection, parent_id, states=wanted, after=position,
                                                 limit=limit + 1)
            key: Callable[[Registration], datetime] = lambda r: r.created_at
        else:
            rows = await repository.participant_page(
                uow.connection, parent_id, now=deps.clock(), timing=timing, states=wanted, after=position,
                limit=limit + 1, registered_by=access.registrations_registered_by(caller, parent_id))
            key = lambda r: r.session.starts_at  # noqa: E731
    page, token = pagination.page_of(rows, limit, lambda r: [timing or "all", key(r).isoformat(), r.id])
    return RegistrationPage(page, token)

