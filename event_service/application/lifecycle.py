"""The occurrence lifecycle at work: an admin's step (`transition_occurrence`) and the
scheduler that moves occurrences along their event's timetable (`run_scheduler`).

What is allowed and what is due is decided by `event_service.domain.lifecycle`; here every
step is applied by a conditional UPDATE (`... WHERE state = <current>`), so of two movers
(two admins, an admin and a scheduler replica) exactly one succeeds and the other is refused
naming the state it found, and each step's `OccurrenceStateChanged` goes to the outbox in the
same transaction.

The scheduler's work queue is `occurrences.next_due_at`. A pass claims the occurrences due at
`now` with `FOR UPDATE SKIP LOCKED` (replicas split the work and never wait for each other),
applies every due step in order, one event each (a scheduler that was down catches up through
every intermediate state), then the reminder due in the state reached (`OccurrenceReminderDue`,
at most one: the latest whose moment has come; `occurrences.reminders_sent` keeps it from
repeating), and stores when to look again (`next_wakeup`). A new occurrence, one
whose sessions moved and one an admin moved are queued for `now`, so the next pass works
their timetable out again. Start and end come from the sessions (earliest start, latest end);
an occurrence without sessions has no timetable and leaves the queue until a session changes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from prometheus_client import Counter, Gauge

from event_service.adapters import lifecycle_repository as repo
from event_service.adapters.tables import idempotency_keys
from event_service.application import access
from event_service.application import notifications as notices
from event_service.domain.events import resource_id_or_none
from event_service.domain.lifecycle import (
    Actor,
    LifecycleOccurrence,
    LifecyclePolicy,
    OccurrenceReminderDue,
    OccurrenceState,
    OccurrenceStateChanged,
    due_reminders,
    due_transitions,
    next_wakeup,
    releases_unanswered,
    timetable,
    transition,
)
from event_service.domain.rounds import RoundsFormat
from kernel import periodic
from kernel.errors import Aborted, DomainError, InvalidArgument, NotFound
from kernel.idempotency import execute_once
from kernel.unit_of_work import UnitOfWork, UnitOfWorkFactory

log = logging.getLogger("turnout.lifecycle")

TRANSITIONS = Counter("turnout_occurrence_transitions_total", "Occurrence lifecycle steps taken",
                      ["from_state", "to_state", "cause"])
REMINDERS = Counter("turnout_occurrence_reminders_total", "Occurrence reminders published")
OCCURRENCES = Gauge("turnout_occurrences", "Occurrences by lifecycle state (refreshed by every scheduler pass)",
                    ["state"])

BATCH = 100
MOVE_ATTEMPTS = 3
INTERVAL_SECONDS = 5.0


def _utc_now() -> datetime:
    return datetime.now(UTC)


def occurrence_id_of(name: str, field: str = "name", *, suffix: str = "") -> str:
    """The id in "occurrences/{id}" + `suffix` (e.g. "/rounds"), or INVALID_ARGUMENT naming `field`."""
    shape = f"occurrences/{{id}}{suffix}"
    if not name:
        raise InvalidArgument.single(field, f"is required: {shape}")
    identifier = None
    if name.endswith(suffix):
        identifier = resource_id_or_none(name.removesuffix(suffix) if suffix else name, "occurrences")
    if identifier is None:
        raise InvalidArgument.single(field, f"must look like {shape}, got {name[:100]!r}")
    return identifier


def missing_occurrence(occurrence_id: str) -> NotFound:
    return NotFound(f"occurrence {occurrence_id} does not exist",
                    metadata={"resource": f"occurrences/{occurrence_id}"})


def _count(events: list[OccurrenceStateChanged]) -> None:
    for event in events:
        TRANSITIONS.labels(event.from_state.value, event.to_state.value, event.by.value).inc()


async def get_occurrence(name: str, uow_factory: UnitOfWorkFactory) -> LifecycleOccurrence:
    occurrence_id = occurrence_id_of(name)
    async with uow_factory() as uow:
        occurrence = await repo.get(uow.connection, occurrence_id)
    if occurrence is None:
        raise missing_occurrence(occurrence_id)
    return occurrence


# --- an admin's step ---------------------------------------------------------------------


@dataclass(frozen=True)
class TransitionOccurrence:
    name: str
    target: OccurrenceState | None  # None: unspecified
    request_id: str = ""
    fingerprint: str = ""


async def transition_occurrence(command: TransitionOccurrence, uow_factory: UnitOfWorkFactory,
                                now: datetime) -> LifecycleOccurrence:
    """One step, by an admin. Refused with INVALID_TRANSITION naming the current state when the
    step is not allowed from it, including when a concurrent mover got there first. With a
    request id a success is answered again on retry (the occurrence as it is then)."""
    access.check_catalog_write("TransitionOccurrence")
    occurrence_id = occurrence_id_of(command.name)
    if command.target is None:
        raise InvalidArgument.single("target_state", "is required: one of "
                                     + ", ".join(state.value for state in OccurrenceState))
    target = command.target
    done: list[OccurrenceStateChanged] = []

    async def work(uow: UnitOfWork) -> dict:
        done.clear()
        for _ in range(MOVE_ATTEMPTS):
            current = await repo.get(uow.connection, occurrence_id)
            if current is None:
                raise missing_occurrence(occurrence_id)
            transition(current.state, target, by=Actor.ADMIN)
            policy, rounds = await _event_settings(uow, current)
            deadline = _deadline(current, policy)
            # An admin closing the answers early releases the unanswered under the same
            # fair-chance rule as the scheduler.
            release = target is OccurrenceState.READY and policy is not None and _releases_on_ready(current, policy, now)
            news = _step_news(target, deadline, rounds)
            # Queued for the next scheduler pass unless final: it works out what is due from here.
            moved = await repo.move(uow.connection, occurrence_id, current=current.state, target=target, steps=1,
                                    now=now, next_due_at=None if target.final else now)
            if moved is not None:
                event = OccurrenceStateChanged(moved, current.state, target, Actor.ADMIN, now, release, **news)
                uow.record(event)
                done.append(event)
                return {"occurrence_id": occurrence_id}
            # A concurrent mover committed first: judge the step again from where it is now
            # (moving to that state is refused as "already ...").
        raise Aborted(f"occurrence {occurrence_id} keeps changing; retry")

    await execute_once(uow_factory, idempotency_keys, request_id=command.request_id,
                       method="TransitionOccurrence", request_fingerprint=command.fingerprint, work=work)
    _count(done)
    return await get_occurrence(f"occurrences/{occurrence_id}", uow_factory)


async def _event_settings(uow: UnitOfWork,
                          occurrence: LifecycleOccurrence) -> tuple[LifecyclePolicy | None, RoundsFormat | None]:
    """The lifecycle policy and rounds format of the occurrence's event, for an admin's step. A
    broken stored setting is left out (None): the step is the admin's call, and the scheduler
    reports the broken policy."""
    policy_json, rounds_json = await repo.event_settings(uow.connection, occurrence.event_id)
    policy = rounds = None
    try:
        policy = repo.policy_from_json(policy_json)
    except (ValueError, TypeError, KeyError, DomainError):
        log.warning("occurrence %s: its event's lifecycle policy is invalid", occurrence.id)
    try:
        rounds = repo.rounds_from_json(rounds_json)
    except (ValueError, TypeError, KeyError):
        log.warning("occurrence %s: its event's rounds format is invalid", occurrence.id)
    return policy, rounds


def _deadline(occurrence: LifecycleOccurrence, policy: LifecyclePolicy | None) -> datetime | None:
    """The occurrence's reconfirmation deadline; None without sessions or a valid timetable."""
    if policy is None or occurrence.starts_at is None or occurrence.ends_at is None:
        return None
    try:
        return timetable(occurrence.starts_at, occurrence.ends_at, policy).ready_at
    except ValueError:
        log.warning("occurrence %s: no reconfirmation deadline, its timetable is invalid", occurrence.id)
        return None


def _releases_on_ready(before: LifecycleOccurrence, policy: LifecyclePolicy, now: datetime) -> bool:
    """Whether stepping to ready at `now` releases the unanswered: the policy says so and the
    participants had a fair chance since the occurrence entered confirming."""
    since = before.state_changed_at
    confirming_since = since if before.state is OccurrenceState.CONFIRMING and since is not None else now
    return releases_unanswered(policy, confirming_since=confirming_since, ready_at=now)


# --- the scheduler -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Plan:
    """What one pass does to one occurrence."""

    steps: list[OccurrenceStateChanged]
    reminders: list[OccurrenceReminderDue]
    wake: datetime | None  # when to look again

    @property
    def events(self) -> list[OccurrenceStateChanged | OccurrenceReminderDue]:
        return [*self.steps, *self.reminders]


def _plan(occurrence: LifecycleOccurrence, policy: LifecyclePolicy, now: datetime,
          rounds: RoundsFormat | None = None) -> _Plan:
    """Every step due at `now` in order (one event each), then the reminder due in the state
    reached, if any, and when to look at it again. Each event carries the occurrence as it is
    after it, with the version it makes."""
    if occurrence.starts_at is None or occurrence.ends_at is None:
        return _Plan([], [], None)  # no sessions, no timetable: a session change queues it again
    starts_at, ends_at = occurrence.starts_at, occurrence.ends_at
    deadline = timetable(starts_at, ends_at, policy).ready_at
    steps: list[OccurrenceStateChanged] = []
    after = occurrence
    for step in due_transitions(occurrence.state, starts_at, ends_at, now, policy):
        release = step is OccurrenceState.READY and _releases_on_ready(after, policy, now)
        before = after.state
        after = replace(after, state=step, state_changed_at=now, version=after.version + 1)
        steps.append(OccurrenceStateChanged(after, before, step, Actor.SCHEDULER, now, release,
                                            **_step_news(step, deadline, rounds)))
    reminders: list[OccurrenceReminderDue] = []
    for offset in due_reminders(after.state, starts_at, now, policy, after.reminders_sent):
        after = replace(after, version=after.version + 1, reminders_sent=(*after.reminders_sent, offset))
        reminders.append(OccurrenceReminderDue(after, offset, now))
    return _Plan(steps, reminders, next_wakeup(after.state, starts_at, ends_at, now, policy, after.reminders_sent))


def _step_news(step: OccurrenceState, deadline: datetime | None,
               rounds: RoundsFormat | None) -> dict[str, object]:
    """What a step tells its listeners beyond the move: confirming, until when participants
    may answer; ready, the rounds format, when the event runs in rounds."""
    if step is OccurrenceState.CONFIRMING:
        return {"reconfirmation_deadline": deadline}
    if step is OccurrenceState.READY:
        return {"rounds": rounds}
    return {}


async def advance_due(uow_factory: UnitOfWorkFactory, now: datetime, *, batch: int = BATCH,
                      event_ids: Collection[str] | None = None) -> tuple[int, int]:
    """One transaction: claims up to `batch` occurrences due at `now`, applies their due steps
    and reminders and stores when each is due next. Returns (occurrences claimed, steps
    taken). `event_ids` narrows the pass to those events (tests, operator tools)."""
    async with uow_factory() as uow:
        claimed = await repo.claim_due(uow.connection, now=now, limit=batch, event_ids=event_ids)
        if not claimed:
            return 0, 0
        taken: list[OccurrenceStateChanged] = []
        reminded = 0
        for due in claimed:
            occurrence = due.occurrence
            try:
                plan = _plan(occurrence, repo.policy_from_json(due.policy_json), now,
                             repo.rounds_from_json(due.rounds_json))
            except (ValueError, TypeError, KeyError, DomainError) as error:
                # A broken stored policy or an impossible timetable: leave it for a human (the
                # next session or policy change queues it again), never stall the queue, and
                # tell the admins, since nobody reads the log in time.
                log.exception("occurrence %s has no valid timetable", occurrence.id)
                await repo.set_next_due(uow.connection, occurrence.id, None)
                uow.record(notices.invalid_timetable(occurrence, error))
                continue
            if not plan.events:
                await repo.set_next_due(uow.connection, occurrence.id, plan.wake)
                continue
            last = plan.events[-1].occurrence
            # The row is locked, so the condition holds; it guards against a lock this code never took.
            moved = await repo.advance(uow.connection, occurrence.id, current=occurrence.state, target=last.state,
                                       versions=len(plan.events), changed_at=now if plan.steps else None,
                                       next_due_at=plan.wake, reminders_sent=last.reminders_sent)
            if moved is None:
                continue
            for event in plan.events:
                uow.record(event)
            taken += plan.steps
            reminded += len(plan.reminders)
        await uow.commit()
    _count(taken)
    REMINDERS.inc(reminded)
    return len(claimed), len(taken)


async def advance_all(uow_factory: UnitOfWorkFactory, now: datetime, *, batch: int = BATCH,
                      event_ids: Collection[str] | None = None) -> int:
    """Every occurrence due at `now`, batch after batch; returns the steps taken."""
    total = 0
    while True:
        claimed, taken = await advance_due(uow_factory, now, batch=batch, event_ids=event_ids)
        total += taken
        if claimed < batch:
            return total


async def refresh_gauge(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        counts = await repo.count_by_state(uow.connection)
    for state, count in counts.items():
        OCCURRENCES.labels(state.value).set(count)


async def run_scheduler(
    uow_factory: UnitOfWorkFactory,
    stop: asyncio.Event,
    *,
    clock: Callable[[], datetime] = _utc_now,
    interval: float = INTERVAL_SECONDS,
    batch: int = BATCH,
    event_ids: Collection[str] | None = None,
) -> None:
    """A background job of event-service (`kernel.runner.serve_grpc(background=...)`): a pass
    every `interval` seconds until `stop` is set. A failed pass (database away) is logged and
    retried at the next tick; the job itself never dies of it."""
    async def one_pass() -> None:
        taken = await advance_all(uow_factory, clock(), batch=batch, event_ids=event_ids)
        if taken:
            log.info("occurrence lifecycle steps", extra={"fields": {"count": taken}})
        await refresh_gauge(uow_factory)

    await periodic.repeat(one_pass, stop, interval=interval, what="the occurrence lifecycle pass")
