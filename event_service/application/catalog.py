"""Catalog commands and queries: the service catalog, events, and their dated sessions.

Materialisation: an event's occurrences, sessions and pools exist from today up to a horizon
that covers every booking window (`domain.events.materialisation_target`), recorded in
`events.materialized_until`. CreateEvent materialises in its own transaction; the background
job (`keep_materialised`, every 60 s in every event-service replica) extends the horizon as
days pass, each event under `SELECT ... FOR UPDATE SKIP LOCKED` so replicas share the work;
ListSessions for one event with `start_time_to` beyond what exists materialises that event
first (at most MAX_LOOKAHEAD_DAYS ahead). Ids are stable, inserts are ON CONFLICT DO NOTHING,
so no path ever duplicates; each new session publishes SessionScheduled.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

from event_service.adapters import catalog_repository as repo
from event_service.adapters import venue_repository
from event_service.adapters.catalog_repository import EventFilter, SessionFilter
from event_service.adapters.tables import idempotency_keys
from event_service.domain import recurrence as rec
from event_service.domain.events import (
    MAX_TITLE,
    Event,
    EventCreated,
    EventKind,
    EventSpec,
    EventStatus,
    Service,
    Session,
    SessionScheduled,
    clean_text,
    dates_to_materialise,
    materialisation_target,
    new_event,
    parse_iso_date,
    plan_occurrences,
    resource_id_or_none,
)
from event_service.domain.venues import Venue, VenueCreated, new_venue
from kernel import pagination, periodic
from kernel.errors import AlreadyExists, InvalidArgument, NotFound, Validator, with_field_prefix
from kernel.idempotency import execute_once
from kernel.unit_of_work import UnitOfWork, UnitOfWorkFactory

log = logging.getLogger("turnout.event_service.materialisation")

# ListSessions materialises on demand at most this many days past today (event time zone).
MAX_LOOKAHEAD_DAYS = 366
MATERIALISE_EVERY_SECONDS = 60.0
MAX_PARTICIPANT_FILTER = 100


# --- the service catalog -----------------------------------------------------------------


@dataclass(frozen=True)
class ServicePage:
    services: list[Service]
    next_page_token: str


async def list_services(page_size: int, page_token: str, uow_factory: UnitOfWorkFactory) -> ServicePage:
    limit = pagination.page_size(page_size)
    after = pagination.keyset_after(page_token)
    position = None
    if after is not None:
        try:
            position = (int(after[0]), after[1])
        except ValueError:
            raise InvalidArgument.single("page_token", "is not a token this service issued") from None
    async with uow_factory() as uow:
        rows = await repo.list_services(uow.connection, after=position, limit=limit + 1)
    return ServicePage(*pagination.page_of(rows, limit, lambda s: [s.position, s.id]))


# --- creating an event -------------------------------------------------------------------


@dataclass(frozen=True)
class NewVenue:
    display_name: str
    address: str = ""


@dataclass(frozen=True)
class CreateEvent:
    event: EventSpec
    venue: str  # "venues/{venue}", or "" with new_venue
    new_venue: NewVenue | None
    request_id: str
    fingerprint: str


def _prefixed(error: InvalidArgument, prefix: str) -> list:
    return with_field_prefix(error, prefix).violations


async def create_event(command: CreateEvent, uow_factory: UnitOfWorkFactory, now: datetime) -> Event:
    """Validates everything (all violations at once), then writes the venue (when new), the
    event and its first occurrences in one transaction, or nothing at all."""

    async def work(uow: UnitOfWork) -> dict:
        connection = uow.connection
        check = Validator()
        venue_id, venue_name, venue = "", "", None
        if command.new_venue is not None:
            if command.venue:
                check.add("new_venue", "must not be set together with event.venue")
            try:
                venue = new_venue(venue_id=str(uuid.uuid4()), display_name=command.new_venue.display_name,
                                  address=command.new_venue.address, now=now)
                venue_id, venue_name = venue.id, venue.display_name
            except InvalidArgument as error:
                check.violations.extend(_prefixed(error, "new_venue"))
        elif not command.venue:
            check.add("event.venue", "is required (or set new_venue to create the venue with the event)")
        elif (wanted := resource_id_or_none(command.venue, "venues")) is None:
            check.add("event.venue", f"must look like venues/{{id}}, got {command.venue[:100]!r}")
        elif (existing := await venue_repository.get(connection, wanted)) is None:
            check.add("event.venue", f"{command.venue} does not exist")
        else:
            venue_id, venue_name = existing.id, existing.display_name

        referenced = {resource_id_or_none(s.service, "services") for s in command.event.sessions} - {None}
        catalog = await repo.services_by_id(connection, referenced)  # type: ignore[arg-type]
        event = None
        try:
            event = new_event(command.event, event_id=str(uuid.uuid4()), venue_id=venue_id, services=catalog,
                              now=now, venue_display_name=venue_name)
        except InvalidArgument as error:
            check.violations.extend(_prefixed(error, "event"))
        check.raise_if_any()
        assert event is not None

        if venue is not None:
            await _add_venue(connection, venue)
            uow.record(VenueCreated(venue))
        await repo.add_event(connection, event)
        uow.record(EventCreated(event))
        today = event.today(now)
        await _materialise(uow, event, today=today, through=materialisation_target(event, today))
        return {"event_id": event.id}

    outcome = await execute_once(uow_factory, idempotency_keys, request_id=command.request_id,
                                 method="CreateEvent", request_fingerprint=command.fingerprint, work=work)
    return await get_event(outcome["event_id"], uow_factory)


async def _add_venue(connection, venue: Venue) -> None:
    try:
        await venue_repository.add(connection, venue)
    except AlreadyExists as error:
        raise AlreadyExists(error.message, metadata={**error.metadata, "field": "new_venue.display_name"}) from None


# --- materialisation ---------------------------------------------------------------------


async def _materialise(uow: UnitOfWork, event: Event, *, today: date, through: date) -> int:
    """Creates the event's missing occurrences from today through `through`, records
    SessionScheduled for each session this call created, and moves materialized_until."""
    connection = uow.connection
    created: set[str] = set()
    dates = dates_to_materialise(event, today=today, through=through)
    if dates:
        catalog = await repo.services_by_id(connection, {t.service_id for t in event.sessions})
        plans = plan_occurrences(event, dates, {s.id: s.display_name for s in catalog.values()})
        created = await repo.add_occurrences(connection, plans)
        uow.record(*[SessionScheduled(s, plan.occurrence) for plan in plans for s in plan.sessions if s.id in created])
    if event.materialized_until is None or through > event.materialized_until:
        await repo.set_materialized_until(connection, event.id, through)
    return len(created)


async def extend_materialisation(uow_factory: UnitOfWorkFactory, now: datetime) -> int:
    """Extends every active event whose occurrences do not reach its horizon yet, one
    transaction per event, each under FOR UPDATE SKIP LOCKED: replicas running this at the
    same time split the events instead of waiting on each other. Returns how many sessions
    it created."""
    async with uow_factory() as uow:
        candidates = await repo.events_to_materialise(uow.connection, now.astimezone(UTC).date())
    created = 0
    for event_id in candidates:
        try:
            async with uow_factory() as uow:
                event = await repo.get_event(uow.connection, event_id, lock=True, skip_locked=True)
                if event is None or event.status is not EventStatus.ACTIVE:
                    continue
                today = event.today(now)
                target = materialisation_target(event, today)
                if event.materialized_until is not None and event.materialized_until >= target:
                    continue
                created += await _materialise(uow, event, today=today, through=target)
                await uow.commit()
        except Exception:  # one broken event must not stop the others
            log.exception("materialising event %s failed", event_id)
    return created


async def keep_materialised(uow_factory: UnitOfWorkFactory, stop: asyncio.Event, *,
                            every: float = MATERIALISE_EVERY_SECONDS,
                            clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
    """The background job of event-service: every `every` seconds until `stop` is set,
    extend_materialisation, then archive the one-off events whose date has passed."""
    from event_service.application.catalog_edits import archive_past_one_offs  # it builds on this module

    async def one_pass() -> None:
        now = clock()
        created = await extend_materialisation(uow_factory, now)
        if created:
            log.info("materialised sessions", extra={"fields": {"sessions": created}})
        archived = await archive_past_one_offs(uow_factory, now)
        if archived:
            log.info("archived past one-off events", extra={"fields": {"events": archived}})

    await periodic.repeat(one_pass, stop, interval=every, what="materialisation round")


async def _materialise_for_view(uow_factory: UnitOfWorkFactory, event_id: str, before: datetime,
                                now: datetime) -> None:
    """Makes the sessions of an active event starting before `before` exist (at most
    MAX_LOOKAHEAD_DAYS past today), so a schedule further ahead than the booking horizon can
    be shown."""
    async with uow_factory() as uow:
        event = await repo.get_event(uow.connection, event_id)
        if event is None or event.status is not EventStatus.ACTIVE:
            return
        today = event.today(now)
        wanted = min((before - timedelta(microseconds=1)).astimezone(event.zone).date(),
                     today + timedelta(days=MAX_LOOKAHEAD_DAYS))
        if event.last_date is not None:
            wanted = min(wanted, event.last_date)
        if event.materialized_until is not None and event.materialized_until >= wanted:
            return
        event = await repo.get_event(uow.connection, event_id, lock=True)  # waits for a concurrent extension
        if event is None or (event.materialized_until is not None and event.materialized_until >= wanted):
            return
        await _materialise(uow, event, today=today, through=wanted)
        await uow.commit()


# --- reading events ----------------------------------------------------------------------


async def get_event(event_id: str, uow_factory: UnitOfWorkFactory) -> Event:
    async with uow_factory() as uow:
        event = await repo.get_event(uow.connection, event_id)
    if event is None:
        raise NotFound(f"event {event_id} does not exist", metadata={"resource": f"events/{event_id}"})
    return event


@dataclass(frozen=True)
class ListEvents:
    page_size: int = 0
    page_token: str = ""
    status: EventStatus | None = None  # None: ACTIVE
    kind: EventKind | None = None
    from_date: str = ""
    to_date: str = ""
    venue: str = ""
    service: str = ""
    query: str = ""
    participants: tuple[str, ...] = ()


@dataclass(frozen=True)
class EventPage:
    events: list[Event]
    next_page_token: str
    active_count: int
    archived_count: int


def _check_page_size(check: Validator, requested: int) -> int:
    try:
        return pagination.page_size(requested)
    except InvalidArgument as error:
        check.violations.extend(error.violations)
        return pagination.DEFAULT_PAGE_SIZE


def _check_name(check: Validator, value: str, collection: str, field: str) -> str | None:
    if not value:
        return None
    identifier = resource_id_or_none(value, collection)
    if identifier is None:
        check.add(field, f"must look like {collection}/{{id}}, got {value[:100]!r}")
    return identifier


def _check_participants(check: Validator, names: tuple[str, ...]) -> tuple[str, ...]:
    if not check.check(len(names) <= MAX_PARTICIPANT_FILTER, "participants",
                       f"at most {MAX_PARTICIPANT_FILTER} participants"):
        return ()
    ids = []
    for position, name in enumerate(names):
        if not name:
            check.add(f"participants[{position}]", "must not be empty")
        elif (identifier := _check_name(check, name, "participants", f"participants[{position}]")) is not None:
            ids.append(identifier)
    return tuple(ids)


def _check_date(check: Validator, value: str, field: str) -> date | None:
    if not value:
        return None
    parsed = parse_iso_date(value)
    check.check(parsed is not None, field, "must be an ISO 8601 date like 2026-12-01")
    return parsed


def _position(token: str) -> tuple[datetime, str] | None:
    """A (timestamp, id) keyset position from a page token."""
    after = pagination.keyset_after(token)
    if after is None:
        return None
    return pagination.position_moment(after[0]), after[1]


def _event_filter(query: ListEvents, check: Validator) -> EventFilter:
    from_date = _check_date(check, query.from_date, "from_date")
    to_date = _check_date(check, query.to_date, "to_date")
    if from_date and to_date:
        check.check(to_date >= from_date, "to_date", "must not be before from_date")
    text = clean_text(query.query).casefold()
    check.check(len(text) <= MAX_TITLE and "\x00" not in text, "query",
                f"must be at most {MAX_TITLE} characters, without NUL")
    return EventFilter(
        kind=query.kind, from_date=from_date, to_date=to_date,
        venue_id=_check_name(check, query.venue, "venues", "venue"),
        service_id=_check_name(check, query.service, "services", "service"),
        query=text, participant_ids=_check_participants(check, query.participants),
    )


def _tail_in_range(first_date: date, recurrence: rec.Recurrence | None, materialized_until: date | None,
                   f: EventFilter) -> bool:
    """Whether a series has a date in the filter's range after what is materialised."""
    start = first_date if materialized_until is None else materialized_until + timedelta(days=1)
    if f.from_date is not None:
        start = max(start, f.from_date)
    return rec.has_date_between(first_date, recurrence, start, f.to_date)


async def list_events(query: ListEvents, uow_factory: UnitOfWorkFactory) -> EventPage:
    """Newest first. A date range matches materialised occurrences and, beyond them, the dates
    the rule gives (expanded here, so a weekly series is not found on its off days)."""
    check = Validator()
    limit = _check_page_size(check, query.page_size)
    f = _event_filter(query, check)
    check.raise_if_any()
    after = _position(query.page_token)
    status = query.status or EventStatus.ACTIVE
    found: list[Event] = []
    async with uow_factory() as uow:
        batch = limit + 1
        while len(found) <= limit:
            candidates = await repo.list_event_candidates(uow.connection, f, status=status, after=after, limit=batch)
            for event, certain in candidates:
                if certain or _tail_in_range(event.first_date, event.recurrence, event.materialized_until, f):
                    found.append(event)
                    if len(found) > limit:
                        break
            if len(candidates) < batch:
                break
            after = (candidates[-1][0].created_at, candidates[-1][0].id)
        counts, maybe = await repo.count_events(uow.connection, f)
    for series in maybe:
        if _tail_in_range(series.first_date, series.recurrence, series.materialized_until, f):
            counts[series.status] = counts.get(series.status, 0) + 1
    page, token = pagination.page_of(found, limit, lambda e: [e.created_at.isoformat(), e.id])
    return EventPage(page, token, counts.get(EventStatus.ACTIVE, 0), counts.get(EventStatus.ARCHIVED, 0))


# --- reading sessions --------------------------------------------------------------------


class SessionTiming(StrEnum):
    UPCOMING = "upcoming"  # starts after now
    PAST = "past"  # started at or before now


@dataclass(frozen=True)
class ListSessions:
    page_size: int = 0
    page_token: str = ""
    event: str = ""
    start_time_from: datetime | None = None
    start_time_to: datetime | None = None
    timing: SessionTiming | None = None
    venue: str = ""
    service: str = ""
    participants: tuple[str, ...] = ()


@dataclass(frozen=True)
class SessionPage:
    sessions: list[Session]
    next_page_token: str


async def get_session(session_id: str, uow_factory: UnitOfWorkFactory) -> Session:
    async with uow_factory() as uow:
        session = await repo.get_session(uow.connection, session_id)
    if session is None:
        raise NotFound(f"session {session_id} does not exist", metadata={"resource": f"sessions/{session_id}"})
    return session


async def list_sessions(query: ListSessions, uow_factory: UnitOfWorkFactory, now: datetime) -> SessionPage:
    """Ordered by (start time, id)."""
    check = Validator()
    limit = _check_page_size(check, query.page_size)
    if query.start_time_from and query.start_time_to:
        check.check(query.start_time_to > query.start_time_from, "start_time_to", "must be after start_time_from")
    f = SessionFilter(
        event_id=_check_name(check, query.event, "events", "event"),
        starts_from=query.start_time_from, starts_before=query.start_time_to,
        started_by=now if query.timing is SessionTiming.PAST else None,
        not_started_by=now if query.timing is SessionTiming.UPCOMING else None,
        venue_id=_check_name(check, query.venue, "venues", "venue"),
        service_id=_check_name(check, query.service, "services", "service"),
        participant_ids=_check_participants(check, query.participants),
    )
    check.raise_if_any()
    after = _position(query.page_token)
    if f.event_id is not None and f.starts_before is not None:
        await _materialise_for_view(uow_factory, f.event_id, f.starts_before, now)
    async with uow_factory() as uow:
        rows = await repo.list_sessions(uow.connection, f, after=after, limit=limit + 1)
    return SessionPage(*pagination.page_of(rows, limit, lambda s: [s.starts_at.isoformat(), s.id]))

