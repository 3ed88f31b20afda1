"""Edits of events and dated sessions in Postgres.

Capacity edits are conditional UPDATEs (`WHERE held + confirmed <= :capacity`,
`WHERE participants <= :capacity`): the row lock they take orders them with the ledger's
counter updates on the same rows, so a booking can never slip under a lowered capacity.
Reads only of the ledger's tables (`seats`, the counters): the ledger writes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from event_service.adapters.catalog_repository import LIVE_SEAT_STATES
from event_service.adapters.tables import events, occurrences, seats, sessions
from event_service.domain.events import EventKind, EventStatus
from event_service.domain.recurrence import Recurrence

# --- sessions ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionRow:
    id: str
    event_id: str
    occurrence_id: str
    starts_at: datetime
    ends_at: datetime
    capacity: int
    held: int
    confirmed: int
    version: int
    event_capacity: int


async def session_for_edit(connection: AsyncConnection, session_id: str) -> SessionRow | None:
    """The session with its event's capacity; the event row is locked FOR SHARE so the event
    capacity cannot change until this transaction ends (UpdateEvent locks it FOR UPDATE)."""
    row = (await connection.execute(
        sa.select(sessions.c.id, sessions.c.event_id, sessions.c.occurrence_id, sessions.c.starts_at,
                  sessions.c.ends_at, sessions.c.capacity, sessions.c.held, sessions.c.confirmed,
                  sessions.c.version, events.c.capacity.label("event_capacity"))
        .select_from(sessions.join(events, events.c.id == sessions.c.event_id))
        .where(sessions.c.id == session_id)
        .with_for_update(of=events, read=True))).first()
    return SessionRow(**row._mapping) if row is not None else None


async def update_session(connection: AsyncConnection, session_id: str, *, capacity: int,
                         starts_at: datetime, ends_at: datetime) -> bool:
    """Sets the session's capacity and times unless its live seats exceed the new capacity;
    False when they do (nothing changed)."""
    result = await connection.execute(
        sessions.update()
        .where(sessions.c.id == session_id, sessions.c.held + sessions.c.confirmed <= capacity)
        .values(capacity=capacity, starts_at=starts_at, ends_at=ends_at, version=sessions.c.version + 1)
        .returning(sessions.c.id))
    return result.first() is not None


@dataclass(frozen=True)
class DeletedSession:
    event_id: str
    occurrence_id: str
    version: int


async def delete_session_if_empty(connection: AsyncConnection, session_id: str) -> DeletedSession | None:
    """Deletes the session when no seat of it is live (held + confirmed = 0); None otherwise."""
    row = (await connection.execute(
        sessions.delete()
        .where(sessions.c.id == session_id, sessions.c.held + sessions.c.confirmed == 0)
        .returning(sessions.c.event_id, sessions.c.occurrence_id, sessions.c.version))).first()
    return DeletedSession(row.event_id, row.occurrence_id, row.version) if row is not None else None


async def session_exists(connection: AsyncConnection, session_id: str) -> bool:
    return await connection.scalar(sa.select(sa.exists().where(sessions.c.id == session_id))) or False


# --- events ------------------------------------------------------------------------------


async def live_seats(connection: AsyncConnection, event_id: str, *, from_date: date | None = None,
                     occurrence_date: date | None = None) -> int:
    """Live seats of the event's occurrences (on or after `from_date`, or on `occurrence_date`)."""
    query = (sa.select(sa.func.count()).select_from(seats.join(occurrences, occurrences.c.id == seats.c.occurrence_id))
             .where(occurrences.c.event_id == event_id, seats.c.state.in_(LIVE_SEAT_STATES)))
    if from_date is not None:
        query = query.where(occurrences.c.date >= from_date)
    if occurrence_date is not None:
        query = query.where(occurrences.c.date == occurrence_date)
    return await connection.scalar(query) or 0


async def live_seat_ids(connection: AsyncConnection, event_id: str) -> list[str]:
    return list((await connection.execute(
        sa.select(seats.c.id).select_from(seats.join(occurrences, occurrences.c.id == seats.c.occurrence_id))
        .where(occurrences.c.event_id == event_id, seats.c.state.in_(LIVE_SEAT_STATES))
        .order_by(seats.c.id))).scalars())


async def lock_sessions_and_count_live(connection: AsyncConnection, event_id: str) -> int:
    """Locks every session row of the event FOR UPDATE (a booking updates these counters, so
    it waits for this transaction, and one committed before is seen) and sums held + confirmed."""
    rows = (await connection.execute(
        sa.select(sessions.c.held, sessions.c.confirmed).where(sessions.c.event_id == event_id)
        .order_by(sessions.c.id).with_for_update())).all()
    return sum(r.held + r.confirmed for r in rows)


async def set_status(connection: AsyncConnection, event_id: str, status: EventStatus, now: datetime) -> None:
    await connection.execute(events.update().where(events.c.id == event_id).values(
        status=status.value, updated_at=now, version=events.c.version + 1))


async def delete_event(connection: AsyncConnection, event_id: str) -> None:
    await connection.execute(events.delete().where(events.c.id == event_id))


async def one_offs_past(connection: AsyncConnection, utc_today: date) -> list[str]:
    """Active one-off events whose date is before tomorrow in UTC (a superset: the caller
    decides in the event's time zone)."""
    return list((await connection.execute(
        sa.select(events.c.id).where(events.c.status == EventStatus.ACTIVE.value,
                                     events.c.kind == EventKind.ONE_OFF.value,
                                     events.c.first_date <= utc_today).order_by(events.c.id))).scalars())


async def occurrence_dates(connection: AsyncConnection, event_id: str, *, from_date: date) -> list[date]:
    return list((await connection.execute(
        sa.select(occurrences.c.date).where(occurrences.c.event_id == event_id, occurrences.c.date >= from_date)
        .order_by(occurrences.c.date))).scalars())


async def delete_occurrences(connection: AsyncConnection, event_id: str, dates: list[date]) -> None:
    if dates:
        await connection.execute(occurrences.delete().where(occurrences.c.event_id == event_id,
                                                            occurrences.c.date.in_(dates)))


async def move_one_off(connection: AsyncConnection, event_id: str, first_date: date, now: datetime) -> None:
    """A new date for a one-off event: status active, nothing materialised yet."""
    await connection.execute(events.update().where(events.c.id == event_id).values(
        first_date=first_date, materialized_until=None, status=EventStatus.ACTIVE.value, updated_at=now,
        version=events.c.version + 1))


async def max_future_participants(connection: AsyncConnection, event_id: str, from_date: date) -> int:
    return await connection.scalar(
        sa.select(sa.func.coalesce(sa.func.max(occurrences.c.participants), 0))
        .where(occurrences.c.event_id == event_id, occurrences.c.date >= from_date)) or 0


async def set_future_occurrence_capacity(connection: AsyncConnection, event_id: str, from_date: date,
                                         capacity: int) -> bool:
    """Sets the capacity of every future occurrence, each only where its participants fit;
    False (the caller rolls back) when some occurrence did not take it."""
    total = await connection.scalar(sa.select(sa.func.count()).where(
        occurrences.c.event_id == event_id, occurrences.c.date >= from_date)) or 0
    changed = await connection.execute(
        occurrences.update()
        .where(occurrences.c.event_id == event_id, occurrences.c.date >= from_date,
               occurrences.c.participants <= capacity)
        .values(capacity=capacity))
    return changed.rowcount == total


async def sessions_above(connection: AsyncConnection, event_id: str, from_date: date, capacity: int) -> list[str]:
    """Ids of future sessions (their occurrence on or after `from_date`) whose capacity
    exceeds `capacity`."""
    return list((await connection.execute(
        sa.select(sessions.c.id).select_from(sessions.join(occurrences, occurrences.c.id == sessions.c.occurrence_id))
        .where(sessions.c.event_id == event_id, occurrences.c.date >= from_date, sessions.c.capacity > capacity)
        .order_by(sessions.c.starts_at, sessions.c.id))).scalars())


async def update_event_fields(connection: AsyncConnection, event_id: str, now: datetime, *, title: str | None = None,
                              title_key: str | None = None, venue_id: str | None = None,
                              capacity: int | None = None, recurrence: Recurrence | None = None,
                              set_recurrence: bool = False, max_sessions: int | None = None,
                              set_max_sessions: bool = False, lifecycle: dict | None = None,
                              set_lifecycle: bool = False, rounds: dict | None = None,
                              set_rounds: bool = False) -> None:
    values: dict = {"updated_at": now, "version": events.c.version + 1}
    if title is not None:
        values.update(title=title, title_key=title_key)
    if venue_id is not None:
        values["venue_id"] = venue_id
    if capacity is not None:
        values["capacity"] = capacity
    if set_recurrence and recurrence is not None:
        values.update(frequency=recurrence.frequency.value, interval=recurrence.interval,
                      until_date=recurrence.until, count=recurrence.count)
    if set_max_sessions:
        values["max_sessions_per_participant"] = max_sessions
    if set_lifecycle:
        values["lifecycle"] = lifecycle
    if set_rounds:
        # A JSON null would read back as the column holding null, not as "no rounds".
        values["rounds"] = rounds if rounds is not None else sa.null()
    await connection.execute(events.update().where(events.c.id == event_id).values(**values))
