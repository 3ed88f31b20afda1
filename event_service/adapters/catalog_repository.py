"""The service catalog, events, occurrences, sessions and pools in Postgres.

Reads only of the seat ledger's tables (`seats`, the counters on sessions): the ledger writes
them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from event_service.adapters.lifecycle_repository import (
    policy_from_json,
    policy_to_json,
    rounds_from_json,
    rounds_to_json,
)
from event_service.adapters.tables import (
    events,
    occurrences,
    pool_sessions,
    pool_templates,
    pools,
    seats,
    services,
    session_templates,
    sessions,
    venues,
)
from event_service.domain.events import (
    Event,
    EventKind,
    EventStatus,
    OccurrencePlan,
    PoolTemplate,
    Service,
    Session,
    SessionTemplate,
    pool_positions,
)
from event_service.domain.lifecycle import LifecyclePolicy
from event_service.domain.recurrence import Frequency, Recurrence
from kernel.errors import DomainError

log = logging.getLogger("turnout.event_service.catalog")

LIVE_SEAT_STATES = ("held", "confirmed")
# Rows per multi-row INSERT: asyncpg takes at most 32767 parameters per statement.
INSERT_CHUNK = 500


def _chunks(rows: list[dict], size: int = INSERT_CHUNK) -> Iterable[list[dict]]:
    for start in range(0, len(rows), size):
        yield rows[start:start + size]


def like_pattern(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, its wildcards escaped (ESCAPE '\\')."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


# --- the service catalog -----------------------------------------------------------------


def _service(row: sa.Row) -> Service:
    return Service(id=row.id, display_name=row.display_name, default_capacity=row.default_capacity,
                   default_booking_window_days=row.default_booking_window_days,
                   default_duration_minutes=row.default_duration_minutes, position=row.position)


async def services_by_id(connection: AsyncConnection, ids: Iterable[str]) -> dict[str, Service]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = await connection.execute(sa.select(services).where(services.c.id.in_(wanted)))
    return {row.id: _service(row) for row in rows}


async def list_services(connection: AsyncConnection, *, after: tuple[int, str] | None, limit: int) -> list[Service]:
    """Ordered by (position, id): the data file's order."""
    query = sa.select(services).order_by(services.c.position, services.c.id).limit(limit)
    if after is not None:
        query = query.where(sa.tuple_(services.c.position, services.c.id)
                            > sa.tuple_(sa.literal(after[0], sa.Integer), sa.literal(after[1], sa.Text)))
    return [_service(row) for row in await connection.execute(query)]


# --- events ------------------------------------------------------------------------------


async def add_event(connection: AsyncConnection, event: Event) -> None:
    recurrence = event.recurrence
    await connection.execute(events.insert().values(
        id=event.id, title=event.title, title_key=event.title_key, venue_id=event.venue_id, capacity=event.capacity,
        kind=event.kind.value, first_date=event.first_date,
        frequency=recurrence.frequency.value if recurrence else None,
        interval=recurrence.interval if recurrence else None,
        until_date=recurrence.until if recurrence else None,
        count=recurrence.count if recurrence else None,
        time_zone=event.time_zone, max_sessions_per_participant=event.max_sessions_per_participant,
        status=event.status.value, materialized_until=event.materialized_until,
        created_at=event.created_at, updated_at=event.updated_at, version=event.version,
        lifecycle=policy_to_json(event.lifecycle or LifecyclePolicy()),
        rounds=rounds_to_json(event.rounds) if event.rounds is not None else sa.null(),
    ))
    await connection.execute(session_templates.insert(), [
        {"id": t.id, "event_id": event.id, "key": t.key, "position": t.position, "service_id": t.service_id,
         "start_time": t.start_time, "duration_minutes": t.duration_minutes, "capacity": t.capacity,
         "booking_window_days": t.booking_window_days}
        for t in event.sessions
    ])
    if event.pools:
        await connection.execute(pool_templates.insert(), [
            {"id": p.id, "event_id": event.id, "display_name": p.display_name, "limit": p.limit,
             "template_ids": list(p.template_ids)}
            for p in event.pools
        ])


def _recurrence(row: sa.Row) -> Recurrence | None:
    if row.frequency is None:
        return None
    return Recurrence(frequency=Frequency(row.frequency), interval=row.interval, until=row.until_date,
                      count=row.count)


def _stored_policy(row: sa.Row) -> LifecyclePolicy | None:
    """A read shows the event even when its stored policy is broken (written by hand, or by an
    older version): without a policy, rather than failing the read or showing a false one."""
    try:
        return policy_from_json(row.lifecycle)
    except (ValueError, TypeError, KeyError, DomainError):
        log.warning("event %s has an invalid lifecycle policy: %r", row.id, row.lifecycle)
        return None


def _stored_rounds(row: sa.Row):
    try:
        return rounds_from_json(row.rounds)
    except (ValueError, TypeError, KeyError):
        log.warning("event %s has an invalid rounds format: %r", row.id, row.rounds)
        return None


def _event_query() -> sa.Select:
    return (sa.select(events, venues.c.display_name.label("venue_display_name"))
            .select_from(events.join(venues, venues.c.id == events.c.venue_id)))


async def _events(connection: AsyncConnection, rows: Sequence[sa.Row]) -> list[Event]:
    """Events of `rows` (events joined with their venue name) with their templates."""
    ids = [row.id for row in rows]
    if not ids:
        return []
    templates: dict[str, list[SessionTemplate]] = {i: [] for i in ids}
    for t in await connection.execute(sa.select(session_templates).where(session_templates.c.event_id.in_(ids))
                                      .order_by(session_templates.c.event_id, session_templates.c.position)):
        templates[t.event_id].append(SessionTemplate(
            id=t.id, key=t.key, position=t.position, service_id=t.service_id, start_time=t.start_time,
            duration_minutes=t.duration_minutes, capacity=t.capacity, booking_window_days=t.booking_window_days))
    pool_rows: dict[str, list[sa.Row]] = {i: [] for i in ids}
    for p in await connection.execute(sa.select(pool_templates).where(pool_templates.c.event_id.in_(ids))):
        pool_rows[p.event_id].append(p)
    result = []
    for row in rows:
        positions = pool_positions(row.id, len(pool_rows[row.id]))
        ordered = sorted(pool_rows[row.id], key=lambda p: (positions.get(p.id, len(positions)), p.id))
        result.append(Event(
            id=row.id, title=row.title, venue_id=row.venue_id, capacity=row.capacity, kind=EventKind(row.kind),
            first_date=row.first_date, recurrence=_recurrence(row), time_zone=row.time_zone,
            max_sessions_per_participant=row.max_sessions_per_participant,
            sessions=tuple(templates[row.id]),
            pools=tuple(PoolTemplate(id=p.id, display_name=p.display_name, limit=p.limit,
                                     template_ids=tuple(p.template_ids)) for p in ordered),
            status=EventStatus(row.status), created_at=row.created_at, updated_at=row.updated_at,
            materialized_until=row.materialized_until, version=row.version,
            venue_display_name=row.venue_display_name, lifecycle=_stored_policy(row), rounds=_stored_rounds(row),
        ))
    return result


async def get_event(connection: AsyncConnection, event_id: str, *, lock: bool = False,
                    skip_locked: bool = False) -> Event | None:
    """One event; `lock` takes its row FOR UPDATE (SKIP LOCKED with `skip_locked`: None when
    another transaction holds it)."""
    query = _event_query().where(events.c.id == event_id)
    if lock:
        query = query.with_for_update(of=events, skip_locked=skip_locked)
    row = (await connection.execute(query)).first()
    if row is None:
        return None
    return (await _events(connection, [row]))[0]


async def events_to_materialise(connection: AsyncConnection, utc_today: date) -> list[str]:
    """Ids of active events that may lack occurrences: materialised up to before
    today + their longest booking window + 1 in *some* time zone (UTC's date is at most one
    day off any zone's), and not finished. The caller decides exactly, under the row lock.
    A finished count-limited series cannot be told apart here (its last date is the rule's
    to compute) and stays a candidate that the caller skips: one cheap row per run."""
    longest_window = (sa.select(sa.func.max(session_templates.c.booking_window_days))
                      .where(session_templates.c.event_id == events.c.id).scalar_subquery())
    until = events.c.materialized_until
    query = sa.select(events.c.id).where(
        events.c.status == EventStatus.ACTIVE.value,
        sa.or_(until.is_(None), sa.and_(
            until < sa.literal(utc_today, sa.Date) + longest_window + 2,
            sa.or_(events.c.until_date.is_(None), until < events.c.until_date),
            sa.or_(events.c.kind == EventKind.RECURRING.value, until < events.c.first_date),
        )),
    ).order_by(events.c.id)
    return list((await connection.execute(query)).scalars())


async def set_materialized_until(connection: AsyncConnection, event_id: str, day: date) -> None:
    await connection.execute(events.update().where(events.c.id == event_id).values(
        materialized_until=sa.func.greatest(sa.func.coalesce(events.c.materialized_until, day), day)))


async def add_occurrences(connection: AsyncConnection, plans: Sequence[OccurrencePlan]) -> set[str]:
    """Inserts what does not exist yet (ids are stable: ON CONFLICT DO NOTHING); returns the
    ids of the sessions this call created."""
    occurrence_rows = [{"id": p.occurrence.id, "event_id": p.occurrence.event_id, "date": p.occurrence.date,
                        "capacity": p.occurrence.capacity} for p in plans]
    session_rows = [{"id": s.id, "occurrence_id": s.occurrence_id, "event_id": s.event_id,
                     "template_id": s.template_id, "service_id": s.service_id, "starts_at": s.starts_at,
                     "ends_at": s.ends_at, "capacity": s.capacity, "booking_window_days": s.booking_window_days,
                     "version": s.version}
                    for p in plans for s in p.sessions]
    pool_rows = [{"id": q.id, "occurrence_id": q.occurrence_id, "template_id": q.template_id,
                  "display_name": q.display_name, "limit": q.limit} for p in plans for q in p.pools]
    member_rows = [{"pool_id": q.id, "session_id": s} for p in plans for q in p.pools for s in q.session_ids]
    created: set[str] = set()
    for chunk in _chunks(occurrence_rows):
        await connection.execute(insert(occurrences).values(chunk).on_conflict_do_nothing())
    for chunk in _chunks(session_rows):
        created.update((await connection.execute(
            insert(sessions).values(chunk).on_conflict_do_nothing().returning(sessions.c.id))).scalars())
    for chunk in _chunks(pool_rows):
        await connection.execute(insert(pools).values(chunk).on_conflict_do_nothing())
    for chunk in _chunks(member_rows):
        await connection.execute(insert(pool_sessions).values(chunk).on_conflict_do_nothing())
    return created


# --- listing events ----------------------------------------------------------------------


@dataclass(frozen=True)
class EventFilter:
    """Every ListEvents filter but the status; None/empty means "any"."""

    kind: EventKind | None = None
    from_date: date | None = None
    to_date: date | None = None
    venue_id: str | None = None
    service_id: str | None = None
    query: str = ""  # casefolded
    participant_ids: tuple[str, ...] = ()

    @property
    def by_date(self) -> bool:
        return self.from_date is not None or self.to_date is not None


@dataclass(frozen=True)
class EventSeries:
    """What deciding whether a series has a date in a range needs."""

    id: str
    status: EventStatus
    first_date: date
    recurrence: Recurrence | None
    materialized_until: date | None


def _materialised_through() -> sa.ColumnElement:
    return sa.func.coalesce(events.c.materialized_until, events.c.first_date - 1)


def _filter_conditions(f: EventFilter) -> list[sa.ColumnElement]:
    """The conditions of every filter but status and dates."""
    conditions: list[sa.ColumnElement] = []
    if f.kind is not None:
        conditions.append(events.c.kind == f.kind.value)
    if f.venue_id is not None:
        conditions.append(events.c.venue_id == f.venue_id)
    if f.service_id is not None:
        conditions.append(sa.exists().where(session_templates.c.event_id == events.c.id,
                                            session_templates.c.service_id == f.service_id))
    if f.query:
        pattern = like_pattern(f.query)
        conditions.append(sa.or_(events.c.title_key.like(pattern, escape="\\"),
                                 venues.c.name_key.like(pattern, escape="\\")))
    if f.participant_ids:
        conditions.append(sa.exists().select_from(seats.join(occurrences, occurrences.c.id == seats.c.occurrence_id))
                          .where(occurrences.c.event_id == events.c.id,
                                 seats.c.participant_id.in_(f.participant_ids),
                                 seats.c.state.in_(LIVE_SEAT_STATES)))
    return conditions


def _in_range(column: sa.ColumnElement, f: EventFilter) -> list[sa.ColumnElement]:
    bounds = []
    if f.from_date is not None:
        bounds.append(column >= f.from_date)
    if f.to_date is not None:
        bounds.append(column <= f.to_date)
    return bounds


def _certainly_in_range(f: EventFilter) -> sa.ColumnElement:
    """Events with an occurrence in the date range for sure: a materialised one, or a one-off
    whose date is in it and not materialised yet."""
    if not f.by_date:
        return sa.true()
    materialised = sa.exists().where(occurrences.c.event_id == events.c.id, *_in_range(occurrences.c.date, f))
    pending_one_off = sa.and_(events.c.kind == EventKind.ONE_OFF.value,
                              events.c.first_date > _materialised_through(), *_in_range(events.c.first_date, f))
    return sa.or_(materialised, pending_one_off)


def _maybe_in_range(f: EventFilter) -> sa.ColumnElement:
    """Recurring events whose not yet materialised tail may have a date in the range; which
    ones do is decided by expanding the rule (see application.catalog)."""
    if not f.by_date:
        return sa.false()
    through = _materialised_through()
    conditions = [events.c.kind == EventKind.RECURRING.value,
                  sa.or_(events.c.until_date.is_(None), events.c.until_date > through)]
    if f.to_date is not None:
        conditions += [through < f.to_date, events.c.first_date <= f.to_date]
    if f.from_date is not None:
        conditions.append(sa.or_(events.c.until_date.is_(None), events.c.until_date >= f.from_date))
    return sa.and_(*conditions)


def _filtered(query: sa.Select, f: EventFilter) -> sa.Select:
    return query.where(*_filter_conditions(f), sa.or_(_certainly_in_range(f), _maybe_in_range(f)))


async def list_event_candidates(connection: AsyncConnection, f: EventFilter, *, status: EventStatus,
                                after: tuple[datetime, str] | None, limit: int) -> list[tuple[Event, bool]]:
    """Events of `status` passing the filter, newest first ((created_at, id) descending), each
    with whether it is certainly in the date range (False: only its unmaterialised tail may be)."""
    query = (_filtered(_event_query().add_columns(_certainly_in_range(f).label("certain")), f)
             .where(events.c.status == status.value)
             .order_by(events.c.created_at.desc(), events.c.id.desc()).limit(limit))
    if after is not None:
        query = query.where(sa.tuple_(events.c.created_at, events.c.id)
                            < sa.tuple_(sa.literal(after[0], sa.DateTime(timezone=True)),
                                        sa.literal(after[1], sa.Text)))
    rows = (await connection.execute(query)).all()
    loaded = await _events(connection, rows)
    return [(event, bool(row.certain)) for event, row in zip(loaded, rows)]


async def count_events(connection: AsyncConnection, f: EventFilter) -> tuple[dict[EventStatus, int], list[EventSeries]]:
    """Per status, how many events certainly pass the filter; and the series that only may
    (decided by the caller)."""
    certain = _certainly_in_range(f)
    counted = await connection.execute(
        _filtered(sa.select(events.c.status, sa.func.count()).select_from(
            events.join(venues, venues.c.id == events.c.venue_id)), f)
        .where(certain).group_by(events.c.status))
    counts = {EventStatus(row.status): row[1] for row in counted}
    series: list[EventSeries] = []
    if f.by_date:
        rows = await connection.execute(
            sa.select(events.c.id, events.c.status, events.c.first_date, events.c.frequency, events.c.interval,
                      events.c.until_date, events.c.count, events.c.materialized_until)
            .select_from(events.join(venues, venues.c.id == events.c.venue_id))
            .where(*_filter_conditions(f), _maybe_in_range(f), sa.not_(certain)))
        series = [EventSeries(id=r.id, status=EventStatus(r.status), first_date=r.first_date,
                              recurrence=_recurrence(r), materialized_until=r.materialized_until) for r in rows]
    return counts, series


# --- sessions ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionFilter:
    event_id: str | None = None
    starts_from: datetime | None = None  # inclusive
    starts_before: datetime | None = None  # exclusive
    started_by: datetime | None = None  # PAST: started at or before this instant
    not_started_by: datetime | None = None  # UPCOMING: starts after this instant
    venue_id: str | None = None
    service_id: str | None = None
    participant_ids: tuple[str, ...] = ()


def _session_query() -> sa.Select:
    return (
        sa.select(sessions, session_templates.c.key.label("template_key"), events.c.title.label("event_title"),
                  events.c.venue_id, services.c.display_name.label("service_display_name"),
                  venues.c.display_name.label("venue_display_name"))
        .select_from(sessions
                     .join(session_templates, session_templates.c.id == sessions.c.template_id)
                     .join(events, events.c.id == sessions.c.event_id)
                     .join(services, services.c.id == sessions.c.service_id)
                     .join(venues, venues.c.id == events.c.venue_id))
    )


async def _sessions(connection: AsyncConnection, rows: Sequence[sa.Row]) -> list[Session]:
    ids = [row.id for row in rows]
    members: dict[str, list[str]] = {i: [] for i in ids}
    if ids:
        for pool, session in await connection.execute(
                sa.select(pool_sessions.c.pool_id, pool_sessions.c.session_id)
                .join(pools, pools.c.id == pool_sessions.c.pool_id)
                .where(pool_sessions.c.session_id.in_(ids)).order_by(pools.c.display_name, pools.c.id)):
            members[session].append(pool)
    return [
        Session(id=row.id, event_id=row.event_id, occurrence_id=row.occurrence_id, template_id=row.template_id,
                template_key=row.template_key, service_id=row.service_id, venue_id=row.venue_id,
                starts_at=row.starts_at, ends_at=row.ends_at, capacity=row.capacity,
                booking_window_days=row.booking_window_days, held=row.held, confirmed=row.confirmed,
                version=row.version, event_title=row.event_title, service_display_name=row.service_display_name,
                venue_display_name=row.venue_display_name, pool_ids=tuple(members[row.id]))
        for row in rows
    ]


async def get_session(connection: AsyncConnection, session_id: str) -> Session | None:
    rows = (await connection.execute(_session_query().where(sessions.c.id == session_id))).all()
    return (await _sessions(connection, rows))[0] if rows else None


async def list_sessions(connection: AsyncConnection, f: SessionFilter, *, after: tuple[datetime, str] | None,
                        limit: int) -> list[Session]:
    """Ordered by (starts_at, id)."""
    query = _session_query().order_by(sessions.c.starts_at, sessions.c.id).limit(limit)
    if f.event_id is not None:
        query = query.where(sessions.c.event_id == f.event_id)
    if f.starts_from is not None:
        query = query.where(sessions.c.starts_at >= f.starts_from)
    if f.starts_before is not None:
        query = query.where(sessions.c.starts_at < f.starts_before)
    if f.started_by is not None:
        query = query.where(sessions.c.starts_at <= f.started_by)
    if f.not_started_by is not None:
        query = query.where(sessions.c.starts_at > f.not_started_by)
    if f.venue_id is not None:
        query = query.where(events.c.venue_id == f.venue_id)
    if f.service_id is not None:
        query = query.where(sessions.c.service_id == f.service_id)
    if f.participant_ids:
        query = query.where(sa.exists().where(seats.c.session_id == sessions.c.id,
                                              seats.c.participant_id.in_(f.participant_ids),
                                              seats.c.state.in_(LIVE_SEAT_STATES)))
    if after is not None:
        query = query.where(sa.tuple_(sessions.c.starts_at, sessions.c.id)
                            > sa.tuple_(sa.literal(after[0], sa.DateTime(timezone=True)),
                                        sa.literal(after[1], sa.Text)))
    rows = (await connection.execute(query)).all()
    return await _sessions(connection, rows)
