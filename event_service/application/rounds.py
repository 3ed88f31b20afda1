"""Occurrence rounds (speed dating): the schedule made once per occurrence from the
participants holding a confirmed seat (`schedule_occurrence_rounds`), and who may read it
(`get_occurrence_rounds`).

Once per occurrence: the maker locks the occurrence row, so concurrent callers queue; the
first inserts the schedule, grows the occurrence's version and records
OccurrenceRoundsScheduled in the same transaction; every later caller finds the stored
schedule and gets it back unchanged (no second event). The schedule is a pure function of
the participants, the format, the start and the seed (`domain.rounds`), so it is also the
same as recomputing it would give.
"""

from __future__ import annotations

from datetime import datetime

from event_service.adapters import rounds_repository as repo
from event_service.adapters.lifecycle_repository import rounds_from_json
from event_service.application import access
from event_service.application.lifecycle import missing_occurrence, occurrence_id_of
from event_service.domain.lifecycle import OccurrenceState
from event_service.domain.rounds import (
    OccurrenceRounds,
    OccurrenceRoundsScheduled,
    schedule,
    seed_for,
)
from kernel import context
from kernel.errors import FailedPrecondition, NotFound
from kernel.unit_of_work import UnitOfWorkFactory

ROUNDS_NOT_SCHEDULABLE = "ROUNDS_NOT_SCHEDULABLE"
SCHEDULABLE = frozenset({OccurrenceState.READY, OccurrenceState.RUNNING})


def _no_rounds(occurrence_id: str) -> NotFound:
    return NotFound(f"occurrence {occurrence_id} has no rounds schedule",
                    metadata={"resource": f"occurrences/{occurrence_id}/rounds"})


def _not_schedulable(message: str, state: OccurrenceState) -> FailedPrecondition:
    return FailedPrecondition(message, reason=ROUNDS_NOT_SCHEDULABLE, metadata={"state": state.value})


async def schedule_occurrence_rounds(occurrence: str, uow_factory: UnitOfWorkFactory,
                                     now: datetime) -> OccurrenceRounds:
    """The occurrence's schedule: made now, or the one made before. Refused with
    ROUNDS_NOT_SCHEDULABLE (metadata `state`) when its event has no rounds format or it is not
    READY or RUNNING."""
    access.check_rounds_scheduling()
    occurrence_id = occurrence_id_of(occurrence, "occurrence")
    async with uow_factory() as uow:
        locked = await repo.lock_occurrence(uow.connection, occurrence_id)
        if locked is None:
            raise missing_occurrence(occurrence_id)
        existing = await repo.get(uow.connection, occurrence_id)
        if existing is not None:
            return existing
        fmt = rounds_from_json(locked.rounds_json)
        if fmt is None:
            raise _not_schedulable(f"the event of occurrence {occurrence_id} does not run in rounds", locked.state)
        if locked.state not in SCHEDULABLE:
            raise _not_schedulable(f"occurrence {occurrence_id} is {locked.state.value}: rounds are scheduled "
                                   "once it is ready or running", locked.state)
        if locked.starts_at is None:
            raise _not_schedulable(f"occurrence {occurrence_id} has no sessions, so no start for its rounds",
                                   locked.state)
        participants = await repo.confirmed_participants(uow.connection, occurrence_id)
        made = OccurrenceRounds(occurrence_id=occurrence_id, event_id=locked.event_id,
                                schedule=schedule(participants, fmt, locked.starts_at, seed_for(occurrence_id)),
                                created_at=now)
        version = await repo.add(uow.connection, made)
        uow.record(OccurrenceRoundsScheduled(made, version))
        await uow.commit()
    return made


async def get_occurrence_rounds(name: str, uow_factory: UnitOfWorkFactory) -> OccurrenceRounds:
    """Staff, analysts and the system see the whole schedule; a participant only their own
    group, and nothing (NOT_FOUND, as if there were none) when they are not in it."""
    occurrence_id = occurrence_id_of(name, suffix="/rounds")
    async with uow_factory() as uow:
        rounds = await repo.get(uow.connection, occurrence_id)
    if rounds is None:
        raise _no_rounds(occurrence_id)
    ctx = context.current()
    if access.may_read_all_rounds(ctx.roles):
        return rounds
    seen = rounds.seen_by(ctx.participant_id) if ctx.participant_id else None
    if seen is None:
        raise _no_rounds(occurrence_id)
    return seen
