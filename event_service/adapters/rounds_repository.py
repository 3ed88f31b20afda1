"""Occurrence rounds schedules in Postgres (`occurrence_rounds`), and what making one reads:
the occurrence under its row lock, its event's rounds format, the participants holding a
confirmed seat."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from event_service.adapters.lifecycle_repository import rounds_from_json, rounds_to_json
from event_service.adapters.tables import (
    events,
    occurrence_rounds,
    occurrences,
    seats,
    sessions,
)
from event_service.domain.lifecycle import OccurrenceState
from event_service.domain.rounds import (
    GroupSchedule,
    OccurrenceRounds,
    RoundsFormat,
    RoundsSchedule,
    ScheduledRound,
)


@dataclass(frozen=True)
class LockedOccurrence:
    id: str
    event_id: str
    state: OccurrenceState
    starts_at: datetime | None
    rounds_json: dict[str, Any] | None  # the event's `rounds` column: parse with rounds_from_json


async def lock_occurrence(connection: AsyncConnection, occurrence_id: str) -> LockedOccurrence | None:
    """The occurrence FOR UPDATE: callers making its schedule queue here, one at a time."""
    row = (await connection.execute(
        sa.select(occurrences.c.id, occurrences.c.event_id, occurrences.c.state)
        .where(occurrences.c.id == occurrence_id).with_for_update())).first()
    if row is None:
        return None
    starts_at = await connection.scalar(sa.select(sa.func.min(sessions.c.starts_at))
                                        .where(sessions.c.occurrence_id == occurrence_id))
    rounds_json = await connection.scalar(sa.select(events.c.rounds).where(events.c.id == row.event_id))
    return LockedOccurrence(row.id, row.event_id, OccurrenceState(row.state), starts_at, rounds_json)


async def confirmed_participants(connection: AsyncConnection, occurrence_id: str) -> list[str]:
    return list((await connection.execute(
        sa.select(seats.c.participant_id).distinct()
        .where(seats.c.occurrence_id == occurrence_id, seats.c.state == "confirmed"))).scalars())


async def get(connection: AsyncConnection, occurrence_id: str) -> OccurrenceRounds | None:
    row = (await connection.execute(sa.select(occurrence_rounds)
                                    .where(occurrence_rounds.c.occurrence_id == occurrence_id))).first()
    if row is None:
        return None
    fmt = rounds_from_json(row.format)
    assert fmt is not None
    return OccurrenceRounds(occurrence_id=row.occurrence_id, event_id=row.event_id,
                            schedule=_schedule_from_json(row.schedule, fmt, int(row.seed)),
                            created_at=row.created_at)


async def add(connection: AsyncConnection, rounds: OccurrenceRounds) -> int:
    """Stores the schedule and grows the occurrence's version by one; returns the new version
    (the aggregate version of OccurrenceRoundsScheduled)."""
    plan = rounds.schedule
    await connection.execute(occurrence_rounds.insert().values(
        occurrence_id=rounds.occurrence_id, event_id=rounds.event_id, format=rounds_to_json(plan.format),
        seed=Decimal(plan.seed), schedule=_schedule_to_json(plan), created_at=rounds.created_at))
    return (await connection.execute(
        occurrences.update().where(occurrences.c.id == rounds.occurrence_id)
        .values(version=occurrences.c.version + 1).returning(occurrences.c.version))).scalar_one()


def _schedule_to_json(plan: RoundsSchedule) -> dict[str, Any]:
    return {"starts_at": plan.starts_at.isoformat(), "ends_at": plan.ends_at.isoformat(),
            "groups": [{"index": g.index, "participants": list(g.participants),
                        "rounds": [{"index": r.index, "starts_at": r.starts_at.isoformat(),
                                    "ends_at": r.ends_at.isoformat(), "pairs": [list(p) for p in r.pairs],
                                    "resting": r.resting} for r in g.rounds]}
                       for g in plan.groups]}


def _schedule_from_json(value: dict[str, Any], fmt: RoundsFormat, seed: int) -> RoundsSchedule:
    return RoundsSchedule(
        format=fmt, seed=seed, starts_at=datetime.fromisoformat(value["starts_at"]),
        ends_at=datetime.fromisoformat(value["ends_at"]),
        groups=tuple(GroupSchedule(
            index=g["index"], participants=tuple(g["participants"]),
            rounds=tuple(ScheduledRound(index=r["index"], starts_at=datetime.fromisoformat(r["starts_at"]),
                                        ends_at=datetime.fromisoformat(r["ends_at"]),
                                        pairs=tuple((a, b) for a, b in r["pairs"]), resting=r["resting"])
                         for r in g["rounds"]))
            for g in value["groups"]))
