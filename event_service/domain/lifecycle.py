"""The lifecycle of an occurrence and its timetable: which states exist, which moves between
them are allowed and to whom, and what the scheduler must do at a given moment.

Pure: no I/O, no framework, no clock (every function takes `now`). All datetimes must be
timezone-aware. The scheduler loop (which reads occurrences, applies the steps under a
conditional UPDATE so that of several replicas exactly one succeeds, and writes the events
to the outbox) lives in the adapters; this module decides what is due.

    scheduled ──▶ confirming ──▶ ready ──▶ running ──▶ finished
        │             │            │
        └─────────────┴────────────┴──▶ cancelled

The timetable of one occurrence (offsets from `LifecyclePolicy`, defaults in brackets):

    confirming_at = starts_at - confirming_before               [24 h before start]
    ready_at      = starts_at - reconfirmation_deadline_before  [2 h before start]
    running_at    = starts_at
    finished_at   = ends_at

Decisions:

* **Ready** begins at the reconfirmation deadline. Entering confirming sends the confirmation
  requests; entering ready is the moment the answers are settled: unanswered registrations
  are released (seats to the waitlist) or kept according to `release_unanswered`, but only
  if the participants had a fair chance to answer (`releases_unanswered`).
* **One step at a time.** Every allowed move is a single edge of the diagram; each one is
  its own transition and its own domain event. An admin command takes exactly one step
  (scheduled → running is refused; the admin moves twice). The scheduler catching up after
  downtime steps through every intermediate state in order (`due_transitions`), so
  listeners see confirming (and its confirmation requests) and ready (and its settlement)
  even when both were due long ago.
* **Who does what.** The scheduler only moves forward along the timetable; it never
  cancels. An admin may take any allowed step, including a forward one ahead of the
  timetable (open confirmations early, start or finish early); the scheduler never moves an
  occurrence back, so an admin's early step stands.
* **Running is not cancellable.** A running occurrence is taking place (attendance is being
  marked); cancelling it would tell people in the room that it was called off. An admin who
  stops it early finishes it. finished and cancelled are final.
* **Moving to the current state is refused** like any other invalid move ("is already
  confirming"): the caller learns that someone else (another replica, another admin) did it.
  Exactly-once under several replicas comes from the conditional UPDATE
  (`... WHERE state = <current>`) that applies a step, not from this module.
* **Reminders** fire at `starts_at - offset`, never at or after the start, and only while
  the occurrence has not started, finished or been cancelled. After downtime only the
  latest reminder whose moment has come is sent; earlier ones it supersedes are dropped, so a
  catch-up never sends a burst and never sends "in 24 hours" after "in 5 minutes". A late
  reminder is still sent (its content, where and when, stays true until the start), so no
  grace period drops it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum

from event_service.domain.rounds import RoundsFormat
from kernel.errors import FailedPrecondition, InvalidArgument, Validator

DEFAULT_CONFIRMING_BEFORE = timedelta(hours=24)
DEFAULT_RECONFIRMATION_DEADLINE_BEFORE = timedelta(hours=2)
DEFAULT_REMINDERS = (timedelta(hours=24), timedelta(minutes=5))
MAX_OFFSET = timedelta(days=30)
MAX_REMINDERS = 5
# Unanswered registrations are released only when the participants had at least this share
# of the answer window the policy promises (confirming_before - reconfirmation_deadline_before).
FAIR_ANSWER_SHARE = 0.5


class OccurrenceState(StrEnum):
    SCHEDULED = "scheduled"
    CONFIRMING = "confirming"
    READY = "ready"
    RUNNING = "running"
    FINISHED = "finished"
    CANCELLED = "cancelled"

    @property
    def final(self) -> bool:
        return not TRANSITIONS[self]


class Actor(StrEnum):
    SCHEDULER = "scheduler"
    ADMIN = "admin"


S = OccurrenceState

# The timetable's order; cancelled is off it.
FORWARD: tuple[OccurrenceState, ...] = (S.SCHEDULED, S.CONFIRMING, S.READY, S.RUNNING, S.FINISHED)

# Every allowed move (each one step).
TRANSITIONS: dict[OccurrenceState, frozenset[OccurrenceState]] = {
    S.SCHEDULED: frozenset({S.CONFIRMING, S.CANCELLED}),
    S.CONFIRMING: frozenset({S.READY, S.CANCELLED}),
    S.READY: frozenset({S.RUNNING, S.CANCELLED}),
    S.RUNNING: frozenset({S.FINISHED}),
    S.FINISHED: frozenset(),
    S.CANCELLED: frozenset(),
}

# Who may take a step to each target: only an admin cancels.
MAY_MOVE_TO: dict[Actor, frozenset[OccurrenceState]] = {
    Actor.SCHEDULER: frozenset({S.CONFIRMING, S.READY, S.RUNNING, S.FINISHED}),
    Actor.ADMIN: frozenset(OccurrenceState),
}

# States in which reminders still make sense (the occurrence has not begun or ended).
_REMINDING = frozenset({S.SCHEDULED, S.CONFIRMING, S.READY})


class InvalidTransition(FailedPrecondition):
    reason = "INVALID_TRANSITION"

    def __init__(self, current: OccurrenceState, target: OccurrenceState, by: Actor):
        allowed = allowed_targets(current, by=by)
        if target is current:
            message = f"the occurrence is already {current.value}"
        elif target in TRANSITIONS[current]:
            message = f"the {by.value} may not move an occurrence from {current.value} to {target.value}"
        else:
            message = f"an occurrence that is {current.value} cannot move to {target.value}"
        names = [state.value for state in OccurrenceState if state in allowed]
        message += f" (allowed: {', '.join(names)})" if names else f" ({current.value} is final)"
        super().__init__(message, metadata={"state": current.value, "target": target.value, "by": by.value,
                                            "allowed": ",".join(names)})
        self.current = current
        self.target = target
        self.by = by


def allowed_targets(current: OccurrenceState, *, by: Actor | str) -> frozenset[OccurrenceState]:
    """The states `by` may move an occurrence to from `current`, one step."""
    return TRANSITIONS[current] & MAY_MOVE_TO[Actor(by)]


def transition(current: OccurrenceState, target: OccurrenceState, *, by: Actor | str) -> OccurrenceState:
    """The new state, or `InvalidTransition` (reason INVALID_TRANSITION) naming the current
    state, the target and what is allowed from here."""
    actor = Actor(by)
    if target not in allowed_targets(current, by=actor):
        raise InvalidTransition(current, target, actor)
    return target


# --- the policy ------------------------------------------------------------------------------


@dataclass(frozen=True)
class LifecyclePolicy:
    """An event's timetable settings. Valid by construction: every violation is collected and
    refused with field paths under "lifecycle." (relative to the event). Reminders are kept
    sorted from the earliest moment (largest offset) to the latest."""

    confirming_before: timedelta = DEFAULT_CONFIRMING_BEFORE
    reconfirmation_deadline_before: timedelta = DEFAULT_RECONFIRMATION_DEADLINE_BEFORE
    release_unanswered: bool = True
    reminders: tuple[timedelta, ...] = field(default=DEFAULT_REMINDERS)

    def __post_init__(self) -> None:
        check = Validator()
        limit = _words(MAX_OFFSET)
        confirming = self.confirming_before
        if not isinstance(confirming, timedelta):
            check.add("lifecycle.confirming_before", "must be a duration")
            confirming = None
        elif not timedelta(0) < confirming <= MAX_OFFSET:
            check.add("lifecycle.confirming_before", f"must be more than zero and at most {limit}")
            confirming = None
        deadline = self.reconfirmation_deadline_before
        if not isinstance(deadline, timedelta):
            check.add("lifecycle.reconfirmation_deadline_before", "must be a duration")
        elif deadline <= timedelta(0):
            check.add("lifecycle.reconfirmation_deadline_before",
                      "must be more than zero: the deadline is before the start")
        elif confirming is not None and deadline >= confirming:
            check.add("lifecycle.reconfirmation_deadline_before",
                      f"must be less than confirming_before ({_words(confirming)}): the deadline comes after "
                      "confirmation begins")
        check.check(isinstance(self.release_unanswered, bool), "lifecycle.release_unanswered", "must be true or false")

        reminders = tuple(self.reminders)
        if len(reminders) > MAX_REMINDERS:
            check.add("lifecycle.reminders", f"must have at most {MAX_REMINDERS} reminders")
        seen: set[timedelta] = set()
        for position, offset in enumerate(reminders):
            at = f"lifecycle.reminders[{position}]"
            if not isinstance(offset, timedelta):
                check.add(at, "must be a duration")
            elif not timedelta(0) < offset <= MAX_OFFSET:
                check.add(at, f"must be more than zero and at most {limit}: a reminder comes before the start")
            elif offset in seen:
                check.add(at, f"repeats the reminder {_words(offset)} before the start")
            else:
                seen.add(offset)
        check.raise_if_any()
        object.__setattr__(self, "reminders", tuple(sorted(reminders, reverse=True)))


@dataclass(frozen=True)
class PolicySpec:
    """A policy as a client asked for it: None takes the default of that setting (for
    `reminders`, the default reminders; an empty tuple means none)."""

    confirming_before: timedelta | None = None
    reconfirmation_deadline_before: timedelta | None = None
    release_unanswered: bool = True
    reminders: tuple[timedelta, ...] | None = None


def policy_from_spec(spec: PolicySpec | None) -> LifecyclePolicy:
    """The policy a client asked for (None: every default), or InvalidArgument naming each
    bad setting under "lifecycle.". Offsets are whole seconds: the reminders an occurrence
    has had are remembered in seconds, so a fraction could never match again."""
    if spec is None:
        return LifecyclePolicy()
    defaults = LifecyclePolicy()
    check = Validator()
    spans = {"confirming_before": spec.confirming_before,
             "reconfirmation_deadline_before": spec.reconfirmation_deadline_before,
             **{f"reminders[{i}]": r for i, r in enumerate(spec.reminders or ())}}
    for name, span in spans.items():
        if span is not None and span % timedelta(seconds=1):
            check.add(f"lifecycle.{name}", "must be a whole number of seconds")
    fractional = {v.field for v in check.violations}
    policy = None
    try:
        policy = LifecyclePolicy(
            confirming_before=defaults.confirming_before if spec.confirming_before is None else spec.confirming_before,
            reconfirmation_deadline_before=(defaults.reconfirmation_deadline_before
                                            if spec.reconfirmation_deadline_before is None
                                            else spec.reconfirmation_deadline_before),
            release_unanswered=spec.release_unanswered,
            reminders=defaults.reminders if spec.reminders is None else spec.reminders)
    except InvalidArgument as error:
        check.violations.extend(v for v in error.violations if v.field not in fractional)
    check.raise_if_any()
    assert policy is not None
    return policy


def _words(span: timedelta) -> str:
    seconds = int(span.total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}" + ("s" if count != 1 else "")
    return str(span)


# --- the timetable ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Timetable:
    """When an occurrence is due to enter each state of the forward path."""

    confirming_at: datetime
    ready_at: datetime
    running_at: datetime
    finished_at: datetime

    def moment(self, state: OccurrenceState) -> datetime | None:
        """When the occurrence is due to enter `state`; None for scheduled and cancelled."""
        return {S.CONFIRMING: self.confirming_at, S.READY: self.ready_at, S.RUNNING: self.running_at,
                S.FINISHED: self.finished_at}.get(state)


def timetable(starts_at: datetime, ends_at: datetime, policy: LifecyclePolicy) -> Timetable:
    _aware(starts_at, ends_at)
    if ends_at < starts_at:
        raise ValueError(f"an occurrence ends ({ends_at.isoformat()}) before it starts ({starts_at.isoformat()})")
    return Timetable(confirming_at=starts_at - policy.confirming_before,
                     ready_at=starts_at - policy.reconfirmation_deadline_before,
                     running_at=starts_at, finished_at=ends_at)


def prescribed_state(starts_at: datetime, ends_at: datetime, now: datetime,
                     policy: LifecyclePolicy) -> OccurrenceState:
    """Where the timetable says an occurrence that nobody cancelled is at `now`. A moment is
    due when it has come (moment <= now)."""
    _aware(now)
    table = timetable(starts_at, ends_at, policy)
    reached = S.SCHEDULED
    for state in FORWARD[1:]:
        moment = table.moment(state)
        assert moment is not None
        if moment <= now:
            reached = state
    return reached


def due_transitions(state: OccurrenceState, starts_at: datetime, ends_at: datetime, now: datetime,
                    policy: LifecyclePolicy) -> list[OccurrenceState]:
    """The states the scheduler must step through, in order, each a separate transition, to
    be where the timetable says at `now`. Empty when it is there already, when an admin moved
    it ahead (the scheduler never moves back) and when it is finished or cancelled. Applying
    the steps and asking again gives nothing."""
    target = prescribed_state(starts_at, ends_at, now, policy)
    if state not in FORWARD or state.final:
        return []
    here, there = FORWARD.index(state), FORWARD.index(target)
    return list(FORWARD[here + 1:there + 1])


def releases_unanswered(policy: LifecyclePolicy, *, confirming_since: datetime, ready_at: datetime) -> bool:
    """On entering ready, whether the registrations nobody answered for are released (their
    seats go to the waitlist) rather than kept.

    Only when the event says so and the participants had a fair chance: at least half of the
    answer window the policy promises (confirming_before - reconfirmation_deadline_before)
    between the confirmation requests (entering confirming) and the settlement (entering
    ready). A scheduler catching up after downtime steps through confirming and ready at
    once; nobody could answer, so nobody loses a seat for not answering.
    """
    _aware(confirming_since, ready_at)
    promised = policy.confirming_before - policy.reconfirmation_deadline_before
    return policy.release_unanswered and ready_at - confirming_since >= promised * FAIR_ANSWER_SHARE


# --- reminders -------------------------------------------------------------------------------


def due_reminders(state: OccurrenceState, starts_at: datetime, now: datetime, policy: LifecyclePolicy,
                  already_sent: Iterable[timedelta] = ()) -> list[timedelta]:
    """The reminders (by offset) to send now: at most one, the latest whose moment
    (starts_at - offset) has come, unless it was sent already. Nothing at or after the start,
    nor once the occurrence is running, finished or cancelled. Earlier reminders it
    supersedes are never sent afterwards, so nothing needs recording for them."""
    _aware(starts_at, now)
    if state not in _REMINDING or now >= starts_at:
        return []
    come = [offset for offset in policy.reminders if starts_at - offset <= now]
    if not come:
        return []
    latest = min(come)
    return [] if latest in set(already_sent) else [latest]


# --- when to look again ----------------------------------------------------------------------


def next_wakeup(state: OccurrenceState, starts_at: datetime, ends_at: datetime, now: datetime,
                policy: LifecyclePolicy, already_sent: Iterable[timedelta] = ()) -> datetime | None:
    """The earliest moment after `now` at which a transition or a reminder of this occurrence
    becomes due; None when nothing ever will (finished, cancelled). Call it after applying
    what is due at `now` (then nothing is due before the answer): the scheduler may sleep
    until it, or store it as the occurrence's next due time."""
    _aware(now)
    if state not in FORWARD or state.final:
        return None
    table = timetable(starts_at, ends_at, policy)
    ahead = FORWARD[FORWARD.index(state) + 1:]
    moments = [moment for step in ahead if (moment := table.moment(step)) is not None and moment > now]
    if state in _REMINDING:
        sent = set(already_sent)
        moments += [starts_at - offset for offset in policy.reminders
                    if offset not in sent and starts_at - offset > now]
    return min(moments, default=None)


def _aware(*moments: datetime) -> None:
    for moment in moments:
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError(f"{moment.isoformat()} has no time zone; the lifecycle works on aware datetimes")


# --- the occurrence as the lifecycle sees it, and its domain event ---------------------------


@dataclass(frozen=True)
class LifecycleOccurrence:
    """An occurrence with its lifecycle state; `starts_at`/`ends_at` come from its sessions
    (the earliest start, the latest end) and are None when it has none."""

    id: str
    event_id: str
    date: date
    capacity: int
    participants: int
    state: OccurrenceState
    state_changed_at: datetime | None
    starts_at: datetime | None
    ends_at: datetime | None
    version: int
    reminders_sent: tuple[timedelta, ...] = ()
    session_ids: tuple[str, ...] = ()  # by start time


@dataclass(frozen=True)
class OccurrenceStateChanged:
    """One step of an occurrence's lifecycle (aggregate: the occurrence at `occurrence.version`).

    Entering confirming carries the reconfirmation deadline (when ready is due), so the
    requests can tell participants how long they have; entering ready carries the event's
    rounds format (when it has one), so whoever settles the
    answers knows to ask for the rounds schedule."""

    occurrence: LifecycleOccurrence  # after the step
    from_state: OccurrenceState
    to_state: OccurrenceState
    by: Actor
    at: datetime
    release_unanswered: bool = False
    reconfirmation_deadline: datetime | None = None
    rounds: RoundsFormat | None = None


@dataclass(frozen=True)
class OccurrenceReminderDue:
    """A reminder is due: the occurrence starts in about `offset` (aggregate: the occurrence
    at `occurrence.version`)."""

    occurrence: LifecycleOccurrence
    offset: timedelta
    at: datetime
