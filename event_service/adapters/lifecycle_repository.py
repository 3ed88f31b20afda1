"""Occurrences as the lifecycle sees them, in Postgres: read with their start and end (computed
from their sessions, so a moved or deleted session can never leave a stale copy), the
scheduler's work queue (`occurrences.next_due_at`), and the conditional UPDATE that applies a
step (`... WHERE state = <current>`: of several movers exactly one succeeds)."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection

from event_service.adapters.tables import events, occurrences, sessions
from event_service.domain.lifecycle import (
    LifecycleOccurrence,
    LifecyclePolicy,
    OccurrenceState,
)
from event_service.domain.rounds import RoundsFormat

_STARTS = (sa.select(sa.func.min(sessions.c.starts_at)).where(sessions.c.occurrence_id == occurrences.c.id)
           .scalar_subquery().label("starts_at"))
_ENDS = (sa.select(sa.func.max(sessions.c.ends_at)).where(sessions.c.occurrence_id == occurrences.c.id)
         .scalar_subquery().label("ends_at"))
_BY_START = postgresql.aggregate_order_by(sessions.c.id, sessions.c.starts_at, sessions.c.id)
_SESSION_IDS = (sa.select(sa.func.array_agg(_BY_START)).where(sessions.c.occurrence_id == occurrences.c.id)
                .scalar_subquery().label("session_ids"))
_COLUMNS = (occurrences.c.id, occurrences.c.event_id, occurrences.c.date, occurrences.c.capacity,
            occurrences.c.participants, occurrences.c.state, occurrences.c.state_changed_at, occurrences.c.version,
            occurrences.c.reminders_sent, _STARTS, _ENDS, _SESSION_IDS)
_FINAL = [OccurrenceState.FINISHED.value, OccurrenceState.CANCELLED.value]


def policy_from_json(value: dict[str, Any] | None) -> LifecyclePolicy:
    """The event's `lifecycle` column, NULL or e.g. `{"confirming_before_seconds": 172800,
    "reconfirmation_deadline_before_seconds": 7200, "release_unanswered": false,
    "reminders_seconds": [86400, 300]}`; a missing key takes the default. An invalid policy
    raises (InvalidArgument naming `lifecycle.*`, or ValueError/TypeError)."""
    if not value:
        return LifecyclePolicy()
    defaults = LifecyclePolicy()
    seconds = lambda key, default: timedelta(seconds=value[key]) if key in value else default
    reminders = (tuple(timedelta(seconds=s) for s in value["reminders_seconds"]) if "reminders_seconds" in value
                 else defaults.reminders)
    return LifecyclePolicy(
        confirming_before=seconds("confirming_before_seconds", defaults.confirming_before),
        reconfirmation_deadline_before=seconds("reconfirmation_deadline_before_seconds",
                                               defaults.reconfirmation_deadline_before),
        release_unanswered=bool(value.get("release_unanswered", defaults.release_unanswered)),
        reminders=reminders)


def policy_to_json(policy: LifecyclePolicy) -> dict[str, Any]:
    """The `lifecycle` column of a policy, every setting written out (defaults included), so a
    later change of the defaults never changes an event's timetable behind its admin's back."""
    return {"confirming_before_seconds": _seconds(policy.confirming_before),
            "reconfirmation_deadline_before_seconds": _seconds(policy.reconfirmation_deadline_before),
            "release_unanswered": policy.release_unanswered,
            "reminders_seconds": [_seconds(r) for r in policy.reminders]}


def _seconds(span: timedelta) -> int | float:
    seconds = span.total_seconds()
    return int(seconds) if seconds.is_integer() else seconds


def rounds_from_json(value: dict[str, Any] | None) -> RoundsFormat | None:
    """The event's `rounds` column: NULL (no rounds) or the format, as stored (validated on the way in)."""
    if not value:
        return None
    return RoundsFormat(round_minutes=value["round_minutes"], break_minutes=value["break_minutes"],
                        group_size=value["group_size"])


def rounds_to_json(rounds: RoundsFormat | None) -> dict[str, Any] | None:
    if rounds is None:
        return None
    return {"round_minutes": rounds.round_minutes, "break_minutes": rounds.break_minutes,
            "group_size": rounds.group_size}


def _occurrence(row: sa.Row) -> LifecycleOccurrence:
    return LifecycleOccurrence(id=row.id, event_id=row.event_id, date=row.date, capacity=row.capacity,
                               participants=row.participants, state=OccurrenceState(row.state),
                               state_changed_at=row.state_changed_at, starts_at=row.starts_at, ends_at=row.ends_at,
                               version=row.version,
                               reminders_sent=tuple(timedelta(seconds=s) for s in row.reminders_sent),
                               session_ids=tuple(row.session_ids or ()))


@dataclass(frozen=True)
class DueOccurrence:
    occurrence: LifecycleOccurrence
    policy_json: dict[str, Any] | None  # the event's `lifecycle` column: parse with policy_from_json
    rounds_json: dict[str, Any] | None = None  # the event's `rounds` column: parse with rounds_from_json


async def get(connection: AsyncConnection, occurrence_id: str) -> LifecycleOccurrence | None:
    row = (await connection.execute(sa.select(*_COLUMNS).where(occurrences.c.id == occurrence_id))).first()
    return _occurrence(row) if row is not None else None


async def claim_due(connection: AsyncConnection, *, now: datetime, limit: int,
                    event_ids: Collection[str] | None = None) -> list[DueOccurrence]:
    """Locks up to `limit` occurrences due at `now`, earliest first, skipping rows another
    scheduler (or an admin's transition) holds: replicas split the work and never wait.
    `event_ids` narrows the claim to those events' occurrences (tests, operator tools)."""
    due = [occurrences.c.next_due_at <= now]
    if event_ids is not None:
        due.append(occurrences.c.event_id.in_(list(event_ids)))
    claimed = (sa.select(occurrences.c.id)
               .where(*due)
               .order_by(occurrences.c.next_due_at, occurrences.c.id)
               .limit(limit)
               .with_for_update(skip_locked=True)
               .cte("claimed"))
    rows = await connection.execute(
        sa.select(*_COLUMNS, events.c.lifecycle, events.c.rounds)
        .select_from(occurrences.join(claimed, claimed.c.id == occurrences.c.id)
                     .join(events, events.c.id == occurrences.c.event_id))
        .order_by(occurrences.c.next_due_at, occurrences.c.id))
    return [DueOccurrence(_occurrence(row), row.lifecycle, row.rounds) for row in rows]


async def event_settings(connection: AsyncConnection, event_id: str) -> tuple[dict[str, Any] | None,
                                                                               dict[str, Any] | None]:
    """The event's `lifecycle` and `rounds` columns (parse with policy_from_json, rounds_from_json)."""
    row = (await connection.execute(sa.select(events.c.lifecycle, events.c.rounds)
                                    .where(events.c.id == event_id))).first()
    return (row.lifecycle, row.rounds) if row is not None else (None, None)


async def move(connection: AsyncConnection, occurrence_id: str, *, current: OccurrenceState,
               target: OccurrenceState, steps: int, now: datetime,
               next_due_at: datetime | None) -> LifecycleOccurrence | None:
    """Moves the occurrence to `target` if it is still `current` (its version grows by
    `steps`, one per published step); None when it is not (someone else moved it)."""
    return await advance(connection, occurrence_id, current=current, target=target, versions=steps,
                         changed_at=now, next_due_at=next_due_at)


async def advance(connection: AsyncConnection, occurrence_id: str, *, current: OccurrenceState,
                  target: OccurrenceState, versions: int, changed_at: datetime | None,
                  next_due_at: datetime | None,
                  reminders_sent: tuple[timedelta, ...] | None = None) -> LifecycleOccurrence | None:
    """The scheduler's write: state (and `state_changed_at` when `changed_at` is given), version
    (+`versions`, one per published event), the queue and the reminders sent, if the occurrence
    is still `current`; None when it is not."""
    values: dict[str, Any] = {"state": target.value, "version": occurrences.c.version + versions,
                              "next_due_at": next_due_at}
    if changed_at is not None:
        values["state_changed_at"] = changed_at
    if reminders_sent is not None:
        values["reminders_sent"] = sorted(int(r.total_seconds()) for r in reminders_sent)
    result = await connection.execute(
        occurrences.update()
        .where(occurrences.c.id == occurrence_id, occurrences.c.state == current.value)
        .values(**values)
        .returning(occurrences.c.id))
    if result.first() is None:
        return None
    return await get(connection, occurrence_id)


async def set_next_due(connection: AsyncConnection, occurrence_id: str, at: datetime | None) -> None:
    await connection.execute(occurrences.update().where(occurrences.c.id == occurrence_id).values(next_due_at=at))


async def recheck(connection: AsyncConnection, occurrence_ids: Iterable[str]) -> None:
    """Queues occurrences whose sessions changed for the next scheduler pass (their start or
    end may have moved); finished and cancelled ones stay out of the queue."""
    ids = list(dict.fromkeys(occurrence_ids))
    if not ids:
        return
    await connection.execute(
        occurrences.update()
        .where(occurrences.c.id.in_(ids), occurrences.c.state.notin_(_FINAL))
        .values(next_due_at=sa.func.least(sa.func.coalesce(occurrences.c.next_due_at, sa.func.now()),
                                          sa.func.now())))


async def requeue_event(connection: AsyncConnection, event_id: str, now: datetime) -> None:
    """Queues every occurrence of the event that is not finished or cancelled for the pass at
    `now`: its policy changed, so every timetable must be worked out again (one the scheduler
    gave up on as invalid included)."""
    await connection.execute(
        occurrences.update()
        .where(occurrences.c.event_id == event_id, occurrences.c.state.notin_(_FINAL))
        .values(next_due_at=sa.func.least(sa.func.coalesce(occurrences.c.next_due_at, now), now)))


async def count_by_state(connection: AsyncConnection) -> dict[OccurrenceState, int]:
    rows = await connection.execute(sa.select(occurrences.c.state, sa.func.count()).group_by(occurrences.c.state))
    counts = {state: 0 for state in OccurrenceState}
    counts.update({OccurrenceState(state): count for state, count in rows})
    return counts
