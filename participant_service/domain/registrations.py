"""Registrations: a participant's seat in a session, or their place on its waitlist.

The seat itself lives in event_service's ledger; a registration records who booked it, for
whom, and what became of it. Every state change here is one transition function that says
which ledger call the change owes (`seat_sync`), so the application layer never decides it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import Enum

from kernel.context import SYSTEM_ACTOR
from kernel.errors import FailedPrecondition, PermissionDenied, Validator
from kernel.roles import ADMIN, SERVICE, STAFF

MAX_COMMENT = 1000
MAX_BATCH = 1000
DEFAULT_HOLD = timedelta(minutes=10)
MAX_HOLD = timedelta(hours=24)


class State(str, Enum):
    HELD = "held"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    WAITLISTED = "waitlisted"
    OFFERED = "offered"
    DECLINED = "declined"


LIVE = frozenset({State.HELD, State.CONFIRMED, State.WAITLISTED, State.OFFERED})
# A seat is held for the registration until it is confirmed or lapses.
PENDING = frozenset({State.HELD, State.OFFERED})


class Attendance(str, Enum):
    EXPECTED = "expected"
    ATTENDED = "attended"
    NO_SHOW = "no_show"


class EndReason(str, Enum):
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    DECLINED = "declined"
    SEAT_LOST = "seat_lost"
    RECONFIRMATION_DECLINED = "reconfirmation_declined"
    NOT_RECONFIRMED = "not_reconfirmed"


class Reconfirmation(str, Enum):
    """A confirmed registration's answer to "are you still coming?", once its occurrence asked."""

    REQUESTED = "requested"
    CONFIRMED = "confirmed"
    DECLINED = "declined"
    UNANSWERED_KEPT = "unanswered_kept"
    UNANSWERED_RELEASED = "unanswered_released"


class Answer(str, Enum):
    CONFIRM = "confirm"
    DECLINE = "decline"


class SeatSync(str, Enum):
    """The ledger call a registration still owes event_service."""

    CONFIRM = "confirm"
    RELEASE = "release"


# Ledger refusals after which a participant may join the waitlist instead.
FULL_REASONS = frozenset({"SOLD_OUT", "POOL_FULL", "EVENT_FULL"})


@dataclass(frozen=True)
class SessionSnapshot:
    """What a registration keeps of its session (owned by event_service)."""

    session_id: str
    event_id: str
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True)
class Registration:
    id: str
    participant_id: str
    session: SessionSnapshot
    state: State
    registered_by: str
    created_at: datetime
    updated_at: datetime
    expires_at: datetime | None = None
    seat_id: str | None = None
    seat_sync: SeatSync | None = None
    attendance: Attendance = Attendance.EXPECTED
    attendance_comment: str | None = None
    comment: str | None = None
    capacity_override: bool = False
    cancelled_by: str | None = None
    end_reason: EndReason | None = None
    offer_attempts: int = 0
    version: int = 1
    waitlist_position: int = 0
    reconfirmation: Reconfirmation | None = None
    reconfirmation_deadline: datetime | None = None

    @property
    def session_id(self) -> str:
        return self.session.session_id

    def missed(self, now: datetime) -> bool:
        """A confirmed seat in a session that ended without the participant attending."""
        return (self.state is State.CONFIRMED and self.session.ends_at <= now
                and self.attendance is not Attendance.ATTENDED)


# Events (published through the outbox by the adapters).


@dataclass(frozen=True)
class RegistrationCreated:
    registration: Registration


@dataclass(frozen=True)
class RegistrationConfirmed:
    registration: Registration


@dataclass(frozen=True)
class RegistrationCancelled:
    registration: Registration


@dataclass(frozen=True)
class RegistrationExpired:
    registration: Registration


@dataclass(frozen=True)
class AttendanceMarked:
    registration: Registration


@dataclass(frozen=True)
class WaitlistOfferMade:
    registration: Registration


@dataclass(frozen=True)
class RegistrationReconfirmationChanged:
    """Asked, answered "coming", or kept unanswered at the deadline; a decline or a release
    is a RegistrationCancelled carrying the reconfirmation."""

    registration: Registration


@dataclass(frozen=True)
class OfferNotification:
    """The same offer, addressed to the notifier rather than to registration consumers."""

    registration: Registration


def check_new_registration(comment: str, hold_ttl: timedelta | None, hold: bool) -> None:
    validator = Validator()
    validator.check(len(comment) <= MAX_COMMENT, "comment", f"must have at most {MAX_COMMENT} characters")
    validator.check("\x00" not in comment, "comment", "must not contain NUL characters")
    if hold_ttl is not None:
        validator.check(hold, "hold_ttl", "applies only with hold=true")
        validator.check(timedelta(0) < hold_ttl <= MAX_HOLD, "hold_ttl",
                        f"must be positive and at most {int(MAX_HOLD.total_seconds() // 3600)} hours")
    validator.raise_if_any()


def new_registration(*, registration_id: str, participant_id: str, session: SessionSnapshot, now: datetime,
                     registered_by: str, comment: str, hold: bool, seat_id: str | None,
                     expires_at: datetime | None, capacity_override: bool) -> Registration:
    """A registration that took a seat: HELD until confirmed, or CONFIRMED with the seat's
    confirmation still owed to the ledger."""
    return Registration(
        id=registration_id, participant_id=participant_id, session=session,
        state=State.HELD if hold else State.CONFIRMED, registered_by=registered_by,
        created_at=now, updated_at=now, expires_at=expires_at if hold else None, seat_id=seat_id,
        seat_sync=None if hold else SeatSync.CONFIRM, comment=comment or None,
        capacity_override=capacity_override,
    )


def waitlisted(*, registration_id: str, participant_id: str, session: SessionSnapshot, now: datetime,
               registered_by: str, comment: str) -> Registration:
    return Registration(
        id=registration_id, participant_id=participant_id, session=session, state=State.WAITLISTED,
        registered_by=registered_by, created_at=now, updated_at=now, comment=comment or None,
    )


def _changed(registration: Registration, now: datetime, **changes: object) -> Registration:
    return replace(registration, updated_at=now, version=registration.version + 1, **changes)


def not_active(registration: Registration, doing: str) -> FailedPrecondition:
    return FailedPrecondition(
        f"registration {registration.id} is {registration.state.value}; it cannot be {doing}",
        reason="REGISTRATION_NOT_ACTIVE", metadata={"state": registration.state.value})


def hold_expired(registration: Registration) -> FailedPrecondition:
    return FailedPrecondition(
        f"the seat held for registration {registration.id} expired; register again",
        reason="HOLD_EXPIRED", metadata={"registration": f"registrations/{registration.id}"})


def confirmed(registration: Registration, now: datetime, *, actor: str, roles: frozenset[str],
              participant_id: str) -> Registration:
    """A HELD registration or an OFFERED waitlist place, confirmed; the ledger confirmation
    is owed. A confirmed one is answered unchanged."""
    _check_may_change(registration, "confirm", actor=actor, roles=roles, participant_id=participant_id)
    if registration.state is State.CONFIRMED:
        return registration  # confirming twice changes nothing
    if registration.state not in PENDING:
        raise not_active(registration, "confirmed")
    if registration.expires_at is not None and registration.expires_at <= now:
        raise hold_expired(registration)
    return _changed(registration, now, state=State.CONFIRMED, expires_at=None, seat_sync=SeatSync.CONFIRM)



def may_register_for(target_participant_id: str, *, roles: frozenset[str], participant_id: str) -> bool:
    """Staff (and the system's own calls, which carry no roles) register anyone; a
    participant registers only themself; an analyst nobody. Who sees a registration
    afterwards is `access.may_see_registration`."""
    return (not roles or bool(roles & STAFF)
            or (bool(participant_id) and participant_id == target_participant_id))


def may_change(registration: Registration, *, actor: str, roles: frozenset[str], participant_id: str) -> bool:
    """Who may confirm or cancel: the participant themself, whoever registered them (a
    volunteer), or an admin."""
    return (bool(roles & {ADMIN, SERVICE}) or actor == registration.registered_by
            or (bool(participant_id) and participant_id == registration.participant_id))


def cancelled(registration: Registration, now: datetime, *, actor: str, roles: frozenset[str],
              participant_id: str) -> Registration:
    """Cancelled (or, for an offer, declined); a seat it holds is owed back to the ledger."""
    _check_may_change(registration, "cancel", actor=actor, roles=roles, participant_id=participant_id)
    return _ended(registration, now, by=actor)


def _check_may_change(registration: Registration, doing: str, *, actor: str, roles: frozenset[str],
                      participant_id: str) -> None:
    if not may_change(registration, actor=actor, roles=roles, participant_id=participant_id):
        raise PermissionDenied(f"only the participant, whoever registered them, or an admin may {doing}",
                               metadata={"registration": f"registrations/{registration.id}"})


def _ended(registration: Registration, now: datetime, *, by: str, end_reason: EndReason | None = None,
           **changes: object) -> Registration:
    """Every cancellation: the registration ends and a seat it holds is owed back to the
    ledger (the reconciler then offers it to the waitlist)."""
    if registration.state not in LIVE:
        raise not_active(registration, "cancelled")
    declined = registration.state is State.OFFERED
    return _changed(
        registration, now,
        state=State.DECLINED if declined else State.CANCELLED,
        end_reason=end_reason or (EndReason.DECLINED if declined else EndReason.CANCELLED),
        cancelled_by=by, expires_at=None,
        seat_sync=SeatSync.RELEASE if registration.seat_id else None, **changes,
    )


# Reconfirmation: when its occurrence enters CONFIRMING, every confirmed registration is asked
# whether the participant is still coming; the answers are settled when it becomes READY.


def reconfirmation_requested(registration: Registration, now: datetime,
                             deadline: datetime | None) -> Registration | None:
    """Asked to reconfirm until `deadline`; None for a registration that is not confirmed or
    was asked already (the occurrence asks once)."""
    if registration.state is not State.CONFIRMED or registration.reconfirmation is not None:
        return None
    return _changed(registration, now, reconfirmation=Reconfirmation.REQUESTED, reconfirmation_deadline=deadline)


def reconfirmation_closed(registration: Registration) -> FailedPrecondition:
    where = registration.reconfirmation.value if registration.reconfirmation else "unspecified"
    if registration.reconfirmation is None:
        message = f"registration {registration.id} was not asked to reconfirm"
    elif registration.reconfirmation in (Reconfirmation.REQUESTED, Reconfirmation.CONFIRMED):
        message = f"the reconfirmation deadline of registration {registration.id} has passed"
    else:
        message = f"registration {registration.id} is no longer awaiting a reconfirmation ({where})"
    return FailedPrecondition(message, reason="RECONFIRMATION_CLOSED", metadata={"reconfirmation": where})


def answered(registration: Registration, now: datetime, answer: Answer, *, actor: str, roles: frozenset[str],
             participant_id: str) -> Registration | None:
    """The registration after the participant's answer; None when confirming again (nothing
    changes). CONFIRM keeps the seat while the request is open; DECLINE, while it is open or
    after a CONFIRM until the deadline, cancels the registration like any cancellation."""
    _check_may_change(registration, "answer a reconfirmation", actor=actor, roles=roles,
                      participant_id=participant_id)
    asked = registration.reconfirmation
    if answer is Answer.CONFIRM and asked is Reconfirmation.CONFIRMED and registration.state is State.CONFIRMED:
        return None
    awaiting = asked in (Reconfirmation.REQUESTED, Reconfirmation.CONFIRMED) and (
        registration.reconfirmation_deadline is None or now < registration.reconfirmation_deadline)
    if not awaiting:
        raise reconfirmation_closed(registration)
    if registration.state is not State.CONFIRMED:
        raise not_active(registration, "reconfirmed")
    if answer is Answer.CONFIRM:
        return _changed(registration, now, reconfirmation=Reconfirmation.CONFIRMED)
    return _ended(registration, now, by=actor, end_reason=EndReason.RECONFIRMATION_DECLINED,
                  reconfirmation=Reconfirmation.DECLINED)


def unanswered(registration: Registration, now: datetime, *, release: bool) -> Registration | None:
    """Settled at the deadline: released (cancelled, the seat goes to the waitlist) or kept;
    None for one that is no longer awaiting an answer (answered or cancelled meanwhile)."""
    if registration.state is not State.CONFIRMED or registration.reconfirmation is not Reconfirmation.REQUESTED:
        return None
    if release:
        return _ended(registration, now, by=SYSTEM_ACTOR, end_reason=EndReason.NOT_RECONFIRMED,
                      reconfirmation=Reconfirmation.UNANSWERED_RELEASED)
    return _changed(registration, now, reconfirmation=Reconfirmation.UNANSWERED_KEPT)


def missed_attendance(before: Registration, after: Registration) -> bool:
    """Whether an attendance change just marked the participant absent (told once: only the
    change into NO_SHOW, not a repeat of it)."""
    return after.attendance is Attendance.NO_SHOW and before.attendance is not Attendance.NO_SHOW


def expired(registration: Registration, now: datetime, *, seat_lost: bool = False) -> Registration:
    """A hold or offer that ran out (the ledger's sweeper frees its seat), or a confirmation
    the ledger refused because the seat had gone already."""
    return _changed(registration, now, state=State.EXPIRED, expires_at=None, seat_sync=None,
                    end_reason=EndReason.SEAT_LOST if seat_lost else EndReason.EXPIRED)


def offered(registration: Registration, now: datetime, *, seat_id: str, expires_at: datetime) -> Registration:
    if registration.state is not State.WAITLISTED:
        raise not_active(registration, "offered a seat")
    return _changed(registration, now, state=State.OFFERED, seat_id=seat_id, expires_at=expires_at,
                    offer_attempts=registration.offer_attempts + 1)


def offer_refused(registration: Registration) -> Registration:
    """Still waiting: the seat was not free after all. Only the attempt counter moves, so that
    the next try asks the ledger afresh; nothing is published."""
    return replace(registration, offer_attempts=registration.offer_attempts + 1)


def seat_synced(registration: Registration) -> Registration:
    return replace(registration, seat_sync=None)


def with_attendance(registration: Registration, now: datetime, attendance: Attendance,
                    comment: str | None) -> Registration | None:
    """The registration with its new attendance, or None when nothing changes."""
    if registration.state is not State.CONFIRMED:
        raise not_active(registration, "marked for attendance")
    if registration.attendance is attendance and registration.attendance_comment == comment:
        return None
    return _changed(registration, now, attendance=attendance, attendance_comment=comment)
