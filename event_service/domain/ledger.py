"""The seat ledger: holds, confirmations and releases of seats in sessions, and the rules
that refuse them. Pure Python: the database enforces the capacity invariants under
concurrency (see `event_service.adapters.ledger_repository`); this module says which rule
applies, in which order, and what a change does to the counters.

Precedence when several refusals apply (the first one wins):

    NOT_FOUND (unknown session) → EVENT_ARCHIVED → OCCURRENCE_CLOSED → SESSION_STARTED
    → OUTSIDE_BOOKING_WINDOW → ALREADY_REGISTERED → LIMIT_PER_PARTICIPANT → EVENT_FULL
    → POOL_FULL → SOLD_OUT

Rules about the session itself come before rules about this participant, which come before
shared capacity, from the widest bucket (the event) to the narrowest (the session). The
locked path checks the buckets in exactly this order (it is also the lock order), so the
first conditional UPDATE that fails names the reason the fast path would have named.

OCCURRENCE_CLOSED: the session's occurrence is `cancelled` or `finished` (lifecycle final
states; `running` is not closed: SESSION_STARTED says whether the session itself began).
It holds under concurrency in Postgres, not in Python: the locked path locks the occurrence
row at step 3 and judges its state there, so a take commits either before a cancel/finish
(which waits for it) or after, and is then refused. A refusal of steps 1-2 (ALREADY_REGISTERED,
LIMIT_PER_PARTICIPANT) is renamed OCCURRENCE_CLOSED when the occurrence is closed by then
(final states never change, so a plain read suffices). Confirming a hold in a closed
occurrence is refused too (ConfirmSeat, same check under the same lock).

The capacity rules run in Postgres (`event_service.take_seat`): the fast path on its plain
read and the locked path by its conditional UPDATEs. `refusals` below states the fast path's
rules on a snapshot in Python, as their executable specification (the unit tests pin it);
the function's fast path must refuse exactly when it does.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import Enum

from kernel.errors import FailedPrecondition, Validator

DEFAULT_TTL = timedelta(minutes=10)
MAX_TTL = timedelta(hours=24)

# Resource ids this service hands out are UUIDs; other services' ids (participants) are
# opaque but must be printable, short and slash-free to be stored and named safely.
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._~-]{0,127}$")


class SeatState(Enum):
    HELD = "held"
    CONFIRMED = "confirmed"
    RELEASED = "released"
    EXPIRED = "expired"

    @property
    def live(self) -> bool:
        """Counts against every capacity bucket (a held seat until it is swept, even if due)."""
        return self in (SeatState.HELD, SeatState.CONFIRMED)


class ReleaseReason(Enum):
    CANCELLED = "cancelled"
    EVENT_DELETED = "event_deleted"


class Refusal(Enum):
    """Why a seat cannot be taken, in order of precedence (see the module docstring)."""

    EVENT_ARCHIVED = "EVENT_ARCHIVED"
    OCCURRENCE_CLOSED = "OCCURRENCE_CLOSED"
    SESSION_STARTED = "SESSION_STARTED"
    OUTSIDE_BOOKING_WINDOW = "OUTSIDE_BOOKING_WINDOW"
    ALREADY_REGISTERED = "ALREADY_REGISTERED"
    LIMIT_PER_PARTICIPANT = "LIMIT_PER_PARTICIPANT"
    EVENT_FULL = "EVENT_FULL"
    POOL_FULL = "POOL_FULL"
    SOLD_OUT = "SOLD_OUT"


PRECEDENCE: tuple[Refusal, ...] = tuple(Refusal)

_MESSAGES = {
    Refusal.EVENT_ARCHIVED: "the event is archived",
    Refusal.OCCURRENCE_CLOSED: "the occurrence is closed",
    Refusal.SESSION_STARTED: "the session has started",
    Refusal.OUTSIDE_BOOKING_WINDOW: "the booking window of the session has not opened yet",
    Refusal.ALREADY_REGISTERED: "the participant already has a seat in this session",
    Refusal.LIMIT_PER_PARTICIPANT: "the participant reached the event's limit of sessions per occurrence",
    Refusal.EVENT_FULL: "the occurrence has as many participants as the event capacity allows",
    Refusal.POOL_FULL: "a pool this session shares seats with is full",
    Refusal.SOLD_OUT: "the session has no free seat",
}


# Lifecycle states of an occurrence that take no seat and confirm no hold (final states).
CLOSED_STATES = {"cancelled": "the occurrence is cancelled", "finished": "the occurrence has finished"}


def occurrence_closed(state: str | None) -> bool:
    return state in CLOSED_STATES


class SeatRefused(FailedPrecondition):
    """A refusal naming the session; OCCURRENCE_CLOSED also names the occurrence's `state`."""

    def __init__(self, refusal: Refusal, session_id: str, *, occurrence_state: str | None = None):
        metadata = {"session": f"sessions/{session_id}"}
        message = _MESSAGES[refusal]
        if refusal is Refusal.OCCURRENCE_CLOSED and occurrence_state:
            metadata["state"] = occurrence_state
            message = CLOSED_STATES.get(occurrence_state, message)
        super().__init__(message, reason=refusal.value, metadata=metadata)
        self.refusal = refusal


class HoldNotActive(FailedPrecondition):
    reason = "HOLD_NOT_ACTIVE"

    def __init__(self, seat: "Seat"):
        super().__init__(f"seat {seat.id} is {seat.state.value}, not an active hold",
                         metadata={"seat": f"seats/{seat.id}", "state": seat.state.value})


@dataclass(frozen=True)
class Seat:
    id: str
    session_id: str
    occurrence_id: str
    participant_id: str
    state: SeatState
    expires_at: datetime | None
    capacity_override: bool
    actor: str
    created_at: datetime
    updated_at: datetime

    def due(self, now: datetime) -> bool:
        """A hold whose time ran out: not live any more, whether or not it was swept yet."""
        return self.state is SeatState.HELD and self.expires_at is not None and self.expires_at <= now


@dataclass(frozen=True)
class PoolCount:
    pool_id: str
    limit: int
    used: int


@dataclass(frozen=True)
class SessionCounts:
    session_id: str
    capacity: int
    held: int
    confirmed: int
    occurrence_id: str
    occurrence_capacity: int
    occurrence_participants: int
    pools: tuple[PoolCount, ...] = ()


# --- events (published through the outbox; aggregate = the session) --------------------------


@dataclass(frozen=True)
class SeatHeld:
    seat: Seat
    counts: SessionCounts
    version: int


@dataclass(frozen=True)
class SeatConfirmed:
    seat: Seat
    counts: SessionCounts
    version: int


@dataclass(frozen=True)
class SeatReleased:
    seat: Seat
    counts: SessionCounts
    version: int
    reason: ReleaseReason


@dataclass(frozen=True)
class SeatExpired:
    seat: Seat
    counts: SessionCounts
    version: int


# --- validation ------------------------------------------------------------------------------


def parse_name(check: Validator, name: str, collection: str, field_name: str) -> str:
    """The id in "{collection}/{id}", or a violation naming the field."""
    prefix, _, identifier = name.partition("/")
    if prefix != collection or not _ID.match(identifier):
        check.add(field_name, f"must look like {collection}/{{id}}, got {name[:200]!r}")
        return ""
    return identifier


def hold_ttl(check: Validator, ttl: timedelta | None) -> timedelta:
    """How long a hold lasts: 10 minutes unless given; given, more than zero and at most 24 hours."""
    if ttl is None:
        return DEFAULT_TTL
    if ttl <= timedelta(0):
        check.add("ttl", "must be greater than zero")
    elif ttl > MAX_TTL:
        check.add("ttl", "must be at most 24 hours")
    return ttl


@dataclass(frozen=True)
class TakeRequest:
    session_id: str
    participant_id: str
    ttl: timedelta | None  # None for a booking (confirmed at once)


def take_request(*, session: str, participant: str, ttl: timedelta | None, hold: bool) -> TakeRequest:
    """Validates a HoldSeat/BookSeat request, reporting every bad field at once."""
    check = Validator()
    session_id = parse_name(check, session, "sessions", "session")
    participant_id = parse_name(check, participant, "participants", "participant")
    lasting = hold_ttl(check, ttl) if hold else None
    check.raise_if_any()
    return TakeRequest(session_id, participant_id, lasting)


def seat_id_from(name: str, field_name: str = "name") -> str:
    check = Validator()
    seat_id = parse_name(check, name, "seats", field_name)
    check.raise_if_any()
    return seat_id


# --- the rules -------------------------------------------------------------------------------


def booking_opens_at(starts_at: datetime, booking_window_days: int) -> datetime:
    return starts_at - timedelta(days=booking_window_days)


def session_refusal(*, now: datetime, starts_at: datetime, booking_window_days: int,
                    event_archived: bool, occurrence_state: str | None = None) -> Refusal | None:
    """Rules about the session itself, whoever asks and however full it is (invariant 5);
    `occurrence_state` is the lifecycle state of its occurrence (None: not known, open)."""
    if event_archived:
        return Refusal.EVENT_ARCHIVED
    if occurrence_closed(occurrence_state):
        return Refusal.OCCURRENCE_CLOSED
    if now >= starts_at:
        return Refusal.SESSION_STARTED
    if now < booking_opens_at(starts_at, booking_window_days):
        return Refusal.OUTSIDE_BOOKING_WINDOW
    return None


def first_refusal(refusals: Iterable[Refusal]) -> Refusal | None:
    """The refusal that wins when several apply."""
    return min(refusals, key=PRECEDENCE.index, default=None)


@dataclass(frozen=True)
class BookingSnapshot:
    """What one plain read saw of a session, its occurrence, pools and this participant.
    Counters include holds not swept yet; the fast path uses it only when none is due."""

    session_id: str
    occurrence_id: str
    event_archived: bool
    starts_at: datetime
    booking_window_days: int
    capacity: int
    held: int
    confirmed: int
    occurrence_capacity: int
    occurrence_participants: int
    max_sessions_per_participant: int | None
    participant_live: int  # this participant's live seats in the occurrence
    registered: bool  # this participant has a live seat in this session
    due_holds: bool  # the occurrence has holds whose time ran out but that are not swept yet
    pools: tuple[PoolCount, ...] = field(default=())
    occurrence_state: str = "scheduled"  # the occurrence's lifecycle state


def refusals(snapshot: BookingSnapshot, *, now: datetime, override_capacity: bool) -> list[Refusal]:
    """Every rule that refuses this participant a seat, judged on the snapshot.

    An admin override skips the three capacity buckets (event, pools, session) and nothing
    else: one seat per participant and session, the per-participant limit and the session
    rules still hold."""
    found: list[Refusal] = []
    static = session_refusal(now=now, starts_at=snapshot.starts_at, booking_window_days=snapshot.booking_window_days,
                             event_archived=snapshot.event_archived,
                             occurrence_state=snapshot.occurrence_state)
    if static is not None:
        found.append(static)
    if snapshot.registered:
        found.append(Refusal.ALREADY_REGISTERED)
    limit = snapshot.max_sessions_per_participant
    if limit is not None and snapshot.participant_live >= limit:
        found.append(Refusal.LIMIT_PER_PARTICIPANT)
    if not override_capacity:
        if snapshot.participant_live == 0 and snapshot.occurrence_participants >= snapshot.occurrence_capacity:
            found.append(Refusal.EVENT_FULL)
        if any(pool.used >= pool.limit for pool in snapshot.pools):
            found.append(Refusal.POOL_FULL)
        if snapshot.held + snapshot.confirmed >= snapshot.capacity:
            found.append(Refusal.SOLD_OUT)
    return found


def new_seat(*, seat_id: str, request: TakeRequest, occurrence_id: str, now: datetime,
             override_capacity: bool, actor: str) -> Seat:
    """A seat taken now: held until now + ttl, or confirmed at once when booked."""
    held = request.ttl is not None
    return Seat(id=seat_id, session_id=request.session_id, occurrence_id=occurrence_id,
                participant_id=request.participant_id,
                state=SeatState.HELD if held else SeatState.CONFIRMED,
                expires_at=now + request.ttl if held else None, capacity_override=override_capacity,
                actor=actor, created_at=now, updated_at=now)


def moved(seat: Seat, state: SeatState, now: datetime) -> Seat:
    """The seat in its next state; only a held seat has an expiry."""
    return replace(seat, state=state, updated_at=now, expires_at=seat.expires_at if state is SeatState.HELD else None)


@dataclass(frozen=True)
class SeatChange:
    """One seat moving from `before` (None: it did not exist) to `seat.state`."""

    seat: Seat
    before: SeatState | None

    @property
    def live_delta(self) -> int:
        return int(self.seat.state.live) - int(self.before is not None and self.before.live)

    @property
    def held_delta(self) -> int:
        return int(self.seat.state is SeatState.HELD) - int(self.before is SeatState.HELD)

    @property
    def confirmed_delta(self) -> int:
        return int(self.seat.state is SeatState.CONFIRMED) - int(self.before is SeatState.CONFIRMED)


def counts_after_each(changes: list[SeatChange], final: dict[str, SessionCounts],
                      live_before: dict[tuple[str, str], int]) -> list[SessionCounts]:
    """The counts of its session right after each change, given the counts after all of them
    (`final`, by session id) and each touched participant's live seats in the occurrence
    before them (`live_before`, by (occurrence id, participant id))."""
    sessions = {sid: (c.held, c.confirmed) for sid, c in final.items()}
    occurrences = {c.occurrence_id: c.occurrence_participants for c in final.values()}
    pools = {p.pool_id: p.used for c in final.values() for p in c.pools}
    pools_of = {sid: [p.pool_id for p in c.pools] for sid, c in final.items()}

    def distinct_steps() -> list[int]:
        """+1/-1 when a change makes its participant appear in / vanish from the occurrence."""
        live = dict(live_before)
        steps = []
        for change in changes:
            key = (change.seat.occurrence_id, change.seat.participant_id)
            before = live.get(key, 0)
            live[key] = before + change.live_delta
            steps.append(int(live[key] > 0) - int(before > 0))
        return steps

    steps = distinct_steps()
    # Back out every change to get the counts before them, then replay one by one.
    for change, step in zip(changes, steps):
        held, confirmed = sessions[change.seat.session_id]
        sessions[change.seat.session_id] = (held - change.held_delta, confirmed - change.confirmed_delta)
        occurrences[change.seat.occurrence_id] -= step
        for pool_id in pools_of[change.seat.session_id]:
            pools[pool_id] -= change.live_delta
    after: list[SessionCounts] = []
    for change, step in zip(changes, steps):
        sid = change.seat.session_id
        held, confirmed = sessions[sid]
        sessions[sid] = (held + change.held_delta, confirmed + change.confirmed_delta)
        occurrences[change.seat.occurrence_id] += step
        for pool_id in pools_of[sid]:
            pools[pool_id] += change.live_delta
        base = final[sid]
        after.append(replace(
            base, held=sessions[sid][0], confirmed=sessions[sid][1],
            occurrence_participants=occurrences[base.occurrence_id],
            pools=tuple(replace(p, used=pools[p.pool_id]) for p in base.pools),
        ))
    return after
