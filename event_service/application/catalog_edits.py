"""Editing the catalog: update, archive, activate and delete events; update and delete dated
sessions; archive one-off events whose date passed (the background job).

Every command validates first (INVALID_ARGUMENT naming the field), then runs in one
transaction that writes nothing when it refuses; with a request id a success is answered
again on retry (refusals are not remembered: nothing was written, so a retry is a new try). Capacity edits go through conditional
UPDATEs so a concurrent booking cannot slip under a lowered capacity (invariant 6).

Lock order: the event row, then session rows, then occurrence rows: the ledger never locks
the event row and takes sessions before occurrences, so no cycle can form.

A deleted session is never materialised again: materialisation only ever adds dates after
`events.materialized_until`, and re-materialising after a rule change creates only
occurrences that do not exist yet (never the sessions of an existing occurrence).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime

from event_service.adapters import catalog_edits_repository as edits
from event_service.adapters import catalog_repository as repo
from event_service.adapters import lifecycle_repository, venue_repository
from event_service.adapters.tables import idempotency_keys
from event_service.application import ledger
from event_service.application.catalog import _materialise, get_event, get_session
from event_service.domain import recurrence as rec
from event_service.domain.events import (
    MAX_CAPACITY,
    MAX_YEARS_FROM_TODAY,
    Event,
    EventActivated,
    EventArchived,
    EventDeleted,
    EventKind,
    EventSpec,
    EventStatus,
    EventUpdated,
    RecurrenceSpec,
    Session,
    SessionDeleted,
    SessionScheduled,
    SessionUpdated,
    _check_recurrence,
    _check_title,
    _years_from,
    check_lifecycle,
    check_rounds,
    materialisation_target,
    parse_iso_date,
    plan_occurrences,
    resource_id_or_none,
)
from event_service.domain.ledger import ReleaseReason
from event_service.domain.lifecycle import PolicySpec
from event_service.domain.rounds import RoundsFormat
from kernel import context
from kernel.errors import (
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Validator,
)
from kernel.idempotency import execute_once
from kernel.roles import ADMIN
from kernel.unit_of_work import UnitOfWork, UnitOfWorkFactory

log = logging.getLogger("turnout.event_service.catalog_edits")

SESSION_PATHS = frozenset({"start_time", "capacity"})
EVENT_PATHS = frozenset({"title", "venue", "capacity", "recurrence", "max_sessions_per_participant", "lifecycle",
                         "rounds"})
# A forced delete releases seats, then deletes under the session locks; bookings that slipped
# in between are released in another round, at most this many.
FORCE_DELETE_ROUNDS = 5


def _name(value: str, collection: str, field: str) -> str:
    if not value:
        raise InvalidArgument.single(field, f"is required: {collection}/{{id}}")
    identifier = resource_id_or_none(value, collection)
    if identifier is None:
        raise InvalidArgument.single(field, f"must look like {collection}/{{id}}, got {value[:100]!r}")
    return identifier


def _missing_event(event_id: str) -> NotFound:
    return NotFound(f"event {event_id} does not exist", metadata={"resource": f"events/{event_id}"})


def _missing_session(session_id: str) -> NotFound:
    return NotFound(f"session {session_id} does not exist", metadata={"resource": f"sessions/{session_id}"})


def _mask(paths: tuple[str, ...], allowed: frozenset[str]) -> tuple[str, ...]:
    if not paths:
        raise InvalidArgument.single("update_mask", f"must name at least one of {', '.join(sorted(allowed))}")
    unknown = [p for p in paths if p not in allowed]
    if unknown:
        raise InvalidArgument.single(
            "update_mask", f"cannot update {', '.join(repr(p[:100]) for p in unknown)}; "
                           f"editable: {', '.join(sorted(allowed))}")
    return tuple(dict.fromkeys(paths))


# --- sessions ----------------------------------------------------------------------------


@dataclass(frozen=True)
class UpdateSession:
    name: str
    paths: tuple[str, ...]
    start_time: datetime | None
    capacity: int
    request_id: str
    fingerprint: str


async def update_session(command: UpdateSession, uow_factory: UnitOfWorkFactory, now: datetime) -> Session:
    session_id = _name(command.name, "sessions", "session.name")
    paths = _mask(command.paths, SESSION_PATHS)
    check = Validator()
    if "capacity" in paths:
        check.check(1 <= command.capacity <= MAX_CAPACITY, "session.capacity",
                    f"must be between 1 and {MAX_CAPACITY}")
    if "start_time" in paths:
        if command.start_time is None:
            check.add("session.start_time", "is required when the mask names it")
        else:
            check.check(command.start_time > now, "session.start_time", "must be in the future")
    check.raise_if_any()

    async def work(uow: UnitOfWork) -> dict:
        row = await edits.session_for_edit(uow.connection, session_id)
        if row is None:
            raise _missing_session(session_id)
        capacity = command.capacity if "capacity" in paths else row.capacity
        if "capacity" in paths and capacity > row.event_capacity:
            raise InvalidArgument.single("session.capacity",
                                         f"must not exceed the event capacity ({row.event_capacity})")
        starts_at, ends_at = row.starts_at, row.ends_at
        if "start_time" in paths:
            assert command.start_time is not None
            starts_at, ends_at = command.start_time, command.start_time + (row.ends_at - row.starts_at)
        if not await edits.update_session(uow.connection, session_id, capacity=capacity, starts_at=starts_at,
                                          ends_at=ends_at):
            raise FailedPrecondition(
                f"session {session_id} has more live registrations than {capacity}; cancel some first",
                reason="CAPACITY_BELOW_REGISTRATIONS",
                metadata={"resource": f"sessions/{session_id}", "field": "session.capacity"})
        if "start_time" in paths:  # the occurrence's start or end may have moved: its timetable too
            await lifecycle_repository.recheck(uow.connection, [row.occurrence_id])
        session = await repo.get_session(uow.connection, session_id)
        assert session is not None
        uow.record(SessionUpdated(session, paths))
        return {"session_id": session_id}

    await execute_once(uow_factory, idempotency_keys, request_id=command.request_id, method="UpdateSession",
                       request_fingerprint=command.fingerprint, work=work)
    return await get_session(session_id, uow_factory)


@dataclass(frozen=True)
class DeleteSession:
    name: str
    request_id: str
    fingerprint: str


async def delete_session(command: DeleteSession, uow_factory: UnitOfWorkFactory) -> None:
    session_id = _name(command.name, "sessions", "name")

    async def work(uow: UnitOfWork) -> dict:
        deleted = await edits.delete_session_if_empty(uow.connection, session_id)
        if deleted is None:
            if not await edits.session_exists(uow.connection, session_id):
                raise _missing_session(session_id)
            raise FailedPrecondition(
                f"session {session_id} has live registrations; cancel them first",
                reason="SESSION_HAS_REGISTRATIONS", metadata={"resource": f"sessions/{session_id}"})
        await lifecycle_repository.recheck(uow.connection, [deleted.occurrence_id])
        uow.record(SessionDeleted(session_id, deleted.event_id, deleted.occurrence_id, deleted.version + 1))
        return {"session_id": session_id}

    await execute_once(uow_factory, idempotency_keys, request_id=command.request_id, method="DeleteSession",
                       request_fingerprint=command.fingerprint, work=work)


# --- archive and activate ----------------------------------------------------------------


@dataclass(frozen=True)
class ArchiveEvent:
    name: str
    confirm: bool
    request_id: str
    fingerprint: str


async def _locked_event(uow: UnitOfWork, event_id: str) -> Event:
    event = await repo.get_event(uow.connection, event_id, lock=True)
    if event is None:
        raise _missing_event(event_id)
    return event


async def archive_event(command: ArchiveEvent, uow_factory: UnitOfWorkFactory, now: datetime) -> Event:
    """Archiving an archived event answers it unchanged. Live seats of future occurrences are
    kept; with any, the caller must confirm."""
    event_id = _name(command.name, "events", "name")

    async def work(uow: UnitOfWork) -> dict:
        event = await _locked_event(uow, event_id)
        if event.status is EventStatus.ARCHIVED:
            return {"event_id": event_id}
        live = await edits.live_seats(uow.connection, event_id, from_date=event.today(now))
        if live and not command.confirm:
            raise FailedPrecondition(
                f"event {event_id} has {live} live registration{'s' if live != 1 else ''} in future occurrences;"
                " archiving keeps them but stops new bookings: repeat with confirm",
                reason="CONFIRMATION_REQUIRED",
                metadata={"resource": f"events/{event_id}", "live_registrations": str(live), "field": "confirm"})
        await edits.set_status(uow.connection, event_id, EventStatus.ARCHIVED, now)
        archived = await repo.get_event(uow.connection, event_id)
        assert archived is not None
        uow.record(EventArchived(archived, automatic=False, live_registrations=live))
        return {"event_id": event_id}

    await execute_once(uow_factory, idempotency_keys, request_id=command.request_id, method="ArchiveEvent",
                       request_fingerprint=command.fingerprint, work=work)
    return await get_event(event_id, uow_factory)


@dataclass(frozen=True)
class ActivateEvent:
    name: str
    first_date: str
    request_id: str
    fingerprint: str


async def activate_event(command: ActivateEvent, uow_factory: UnitOfWorkFactory, now: datetime) -> Event:
    """An active event is answered unchanged. A one-off event whose date passed needs a new
    `first_date` (today or later): its occurrence moves there (refused while the old one has
    live seats). A recurring event resumes: its occurrences are materialised from today."""
    event_id = _name(command.name, "events", "name")
    wanted = None
    if command.first_date:
        wanted = parse_iso_date(command.first_date)
        if wanted is None:
            raise InvalidArgument.single("first_date", "must be an ISO 8601 date like 2026-12-01")

    async def work(uow: UnitOfWork) -> dict:
        connection = uow.connection
        event = await _locked_event(uow, event_id)
        if event.status is EventStatus.ACTIVE:
            return {"event_id": event_id}
        today = event.today(now)
        if event.kind is EventKind.ONE_OFF and event.first_date < today:
            if wanted is None or not today <= wanted <= _years_from(today, MAX_YEARS_FROM_TODAY):
                raise InvalidArgument.single(
                    "first_date", f"the event's date {event.first_date.isoformat()} has passed: give a new date, "
                                  f"today ({today.isoformat()} in {event.time_zone}) or later, within "
                                  f"{MAX_YEARS_FROM_TODAY} years")
            if await edits.live_seats(connection, event_id, occurrence_date=event.first_date):
                raise FailedPrecondition(
                    f"the occurrence of event {event_id} on {event.first_date.isoformat()} has live registrations;"
                    " it cannot move", reason="OCCURRENCE_HAS_REGISTRATIONS",
                    metadata={"resource": f"events/{event_id}", "dates": event.first_date.isoformat()})
            await edits.delete_occurrences(connection, event_id, [event.first_date])
            await edits.move_one_off(connection, event_id, wanted, now)
        else:
            await edits.set_status(connection, event_id, EventStatus.ACTIVE, now)
        event = await repo.get_event(connection, event_id)
        assert event is not None
        await _materialise(uow, event, today=today, through=max(today, materialisation_target(event, today)))
        event = await repo.get_event(connection, event_id)
        assert event is not None
        uow.record(EventActivated(event))
        return {"event_id": event_id}

    await execute_once(uow_factory, idempotency_keys, request_id=command.request_id, method="ActivateEvent",
                       request_fingerprint=command.fingerprint, work=work)
    return await get_event(event_id, uow_factory)


async def archive_past_one_offs(uow_factory: UnitOfWorkFactory, now: datetime) -> int:
    """Archives active one-off events whose date is before today in their time zone, each in
    its own transaction under FOR UPDATE SKIP LOCKED (replicas split the work; a second pass
    finds nothing). Publishes EventArchived(automatic=True). Returns how many it archived."""
    async with uow_factory() as uow:
        candidates = await edits.one_offs_past(uow.connection, now.astimezone(UTC).date())
    archived = 0
    for event_id in candidates:
        try:
            async with uow_factory() as uow:
                event = await repo.get_event(uow.connection, event_id, lock=True, skip_locked=True)
                if (event is None or event.status is not EventStatus.ACTIVE or event.kind is not EventKind.ONE_OFF
                        or event.first_date >= event.today(now)):
                    continue
                await edits.set_status(uow.connection, event_id, EventStatus.ARCHIVED, now)
                done = await repo.get_event(uow.connection, event_id)
                assert done is not None
                uow.record(EventArchived(done, automatic=True))
                await uow.commit()
                archived += 1
        except Exception:  # one broken event must not stop the others
            log.exception("archiving event %s failed", event_id)
    return archived


# --- delete ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeleteEvent:
    name: str
    force: bool
    request_id: str
    fingerprint: str


class _SeatsAppeared(Exception):
    """A booking slipped in between releasing and deleting: release again."""


async def delete_event(command: DeleteEvent, uow_factory: UnitOfWorkFactory, now: datetime) -> None:
    """Refused with EVENT_HAS_REGISTRATIONS while any seat is live. `force` (admins only)
    releases each live seat through the ledger (reason EVENT_DELETED, so SeatReleased reaches
    its participant), then deletes. The delete itself locks every session row of the event,
    so a booking either committed before (and is seen) or fails after."""
    event_id = _name(command.name, "events", "name")
    if command.force and ADMIN not in context.current().roles:
        raise PermissionDenied("only an admin may delete an event with registrations",
                               metadata={"field": "force"})
    released = 0
    for _ in range(FORCE_DELETE_ROUNDS):
        if command.force:
            released += await _release_all(event_id, uow_factory, now)
        try:
            await _delete(command, event_id, released, uow_factory)
            return
        except _SeatsAppeared:
            continue
    raise FailedPrecondition(f"event {event_id} keeps getting new registrations; archive it first",
                             reason="EVENT_HAS_REGISTRATIONS", metadata={"resource": f"events/{event_id}"})


async def _release_all(event_id: str, uow_factory: UnitOfWorkFactory, now: datetime) -> int:
    async with uow_factory() as uow:
        seat_ids = await edits.live_seat_ids(uow.connection, event_id)
    for seat_id in seat_ids:
        await ledger.release_seat(ledger.ReleaseSeat(name=f"seats/{seat_id}", reason=ReleaseReason.EVENT_DELETED,
                                                     request_id="", fingerprint=""), uow_factory, now)
    return len(seat_ids)


async def _delete(command: DeleteEvent, event_id: str, released: int, uow_factory: UnitOfWorkFactory) -> None:
    async def work(uow: UnitOfWork) -> dict:
        event = await _locked_event(uow, event_id)
        live = await edits.lock_sessions_and_count_live(uow.connection, event_id)
        if live:
            if command.force:
                raise _SeatsAppeared()
            raise FailedPrecondition(
                f"event {event_id} has {live} live registration{'s' if live != 1 else ''}; cancel them, or "
                "delete with force (admins), which releases them and notifies the participants",
                reason="EVENT_HAS_REGISTRATIONS",
                metadata={"resource": f"events/{event_id}", "live_registrations": str(live)})
        await edits.delete_event(uow.connection, event_id)
        uow.record(EventDeleted(event_id, event.version + 1, released))
        return {"event_id": event_id}

    await execute_once(uow_factory, idempotency_keys, request_id=command.request_id, method="DeleteEvent",
                       request_fingerprint=command.fingerprint, work=work)


# --- update ------------------------------------------------------------------------------


@dataclass(frozen=True)
class UpdateEvent:
    name: str
    paths: tuple[str, ...]
    title: str = ""
    venue: str = ""
    capacity: int = 0
    recurrence: RecurrenceSpec | None = None
    max_sessions_per_participant: int = 0
    lifecycle: PolicySpec | None = None  # with the `lifecycle` path: None means the defaults
    rounds: RoundsFormat | None = None  # with the `rounds` path: None means no rounds
    request_id: str = ""
    fingerprint: str = ""


def _refuse_capacity_below(event_id: str, capacity: int, participants: int) -> FailedPrecondition:
    return FailedPrecondition(
        f"a future occurrence of event {event_id} has {participants} participants, more than {capacity}",
        reason="CAPACITY_BELOW_REGISTRATIONS",
        metadata={"resource": f"events/{event_id}", "field": "event.capacity", "participants": str(participants)})


async def update_event(command: UpdateEvent, uow_factory: UnitOfWorkFactory, now: datetime) -> Event:
    """AIP-134. Capacity: never below the participants of a future occurrence (conditional
    UPDATE of the future occurrences' capacity), and refused, naming them, while sessions or
    session templates offer more seats than the new capacity (lower those first). Rule:
    future dates the new rule drops are deleted when they have no live seats and refused
    (naming the dates) when they do; dates it adds are materialised. Lifecycle: the whole
    policy is replaced; when it changes, every occurrence not finished or cancelled is queued
    for the scheduler, which works its timetable out again under the new policy."""
    event_id = _name(command.name, "events", "event.name")
    paths = _mask(command.paths, EVENT_PATHS)

    async def work(uow: UnitOfWork) -> dict:
        connection = uow.connection
        event = await _locked_event(uow, event_id)
        today = event.today(now)
        check = Validator()
        title = _check_title(check, command.title) if "title" in paths else None
        venue_id = None
        if "venue" in paths:
            if not command.venue:
                check.add("venue", "is required")
            elif (venue_id := resource_id_or_none(command.venue, "venues")) is None:
                check.add("venue", f"must look like venues/{{id}}, got {command.venue[:100]!r}")
            elif await venue_repository.get(connection, venue_id) is None:
                check.add("venue", f"{command.venue[:100]} does not exist")
        if "capacity" in paths:
            check.check(1 <= command.capacity <= MAX_CAPACITY, "capacity", f"must be between 1 and {MAX_CAPACITY}")
        recurrence = None
        if "recurrence" in paths:
            if event.kind is not EventKind.RECURRING:
                check.add("recurrence", "a one-off event has no recurrence")
            else:
                spec = EventSpec(title="", capacity=0, kind=EventKind.RECURRING, first_date="",
                                 recurrence=command.recurrence)
                before = len(check.violations)
                recurrence = _check_recurrence(check, spec, event.first_date)
                if recurrence is not None and len(check.violations) == before and not rec.has_date_between(
                        event.first_date, recurrence, today, None):
                    check.add("recurrence", f"every date of the series would be in the past (today is {today})")
        limit = command.max_sessions_per_participant
        if "max_sessions_per_participant" in paths:
            if limit < 0:
                check.add("max_sessions_per_participant", "must not be negative (0 means no limit)")
            elif limit > len(event.sessions):
                check.add("max_sessions_per_participant",
                          f"must be at most the number of sessions ({len(event.sessions)}); 0 means no limit")
        policy = check_lifecycle(check, command.lifecycle) if "lifecycle" in paths else None
        rounds = check_rounds(check, command.rounds) if "rounds" in paths else None
        if check.violations:
            raise InvalidArgument([type(v)(f"event.{v.field}", v.description) for v in check.violations])

        if "capacity" in paths and command.capacity != event.capacity:
            capacity = command.capacity
            templates = [t.key for t in event.sessions if t.capacity > capacity]
            above = await edits.sessions_above(connection, event_id, today, capacity)
            if templates or above:
                named = [f"templates {', '.join(templates)}"] if templates else []
                if above:
                    shown = ", ".join(f"sessions/{s}" for s in above[:10])
                    named.append(f"{len(above)} sessions ({shown}{', ...' if len(above) > 10 else ''})")
                raise InvalidArgument.single(
                    "event.capacity", f"{' and '.join(named)} offer more than {capacity} seats; lower them first")
            most = await edits.max_future_participants(connection, event_id, today)
            if most > capacity:
                raise _refuse_capacity_below(event_id, capacity, most)
            if not await edits.set_future_occurrence_capacity(connection, event_id, today, capacity):
                raise _refuse_capacity_below(event_id, capacity, capacity + 1)

        if recurrence is not None and recurrence != event.recurrence:
            existing = await edits.occurrence_dates(connection, event_id, from_date=today)
            keep = set(rec.dates_between(event.first_date, recurrence, today, existing[-1])) if existing else set()
            dropped = [d for d in existing if d not in keep]
            busy = [d for d in dropped if await edits.live_seats(connection, event_id, occurrence_date=d)]
            if busy:
                raise FailedPrecondition(
                    f"the new rule drops dates with live registrations: {', '.join(d.isoformat() for d in busy)}",
                    reason="OCCURRENCE_HAS_REGISTRATIONS",
                    metadata={"resource": f"events/{event_id}", "field": "event.recurrence",
                              "dates": ",".join(d.isoformat() for d in busy)})
            await edits.delete_occurrences(connection, event_id, dropped)

        await edits.update_event_fields(
            connection, event_id, now, title=title, title_key=title.casefold() if title else None, venue_id=venue_id,
            capacity=command.capacity if "capacity" in paths else None, recurrence=recurrence,
            set_recurrence=recurrence is not None,
            max_sessions=(limit or None), set_max_sessions="max_sessions_per_participant" in paths,
            lifecycle=lifecycle_repository.policy_to_json(policy) if policy is not None else None,
            set_lifecycle=policy is not None, rounds=lifecycle_repository.rounds_to_json(rounds),
            set_rounds="rounds" in paths)
        if policy is not None and policy != event.lifecycle:
            await lifecycle_repository.requeue_event(connection, event_id, now)
        updated = await repo.get_event(connection, event_id)
        assert updated is not None
        if recurrence is not None and updated.status is EventStatus.ACTIVE:
            await _materialise_missing(uow, updated, today)
            updated = await repo.get_event(connection, event_id)
            assert updated is not None
        uow.record(EventUpdated(updated, paths))
        return {"event_id": event_id}

    await execute_once(uow_factory, idempotency_keys, request_id=command.request_id, method="UpdateEvent",
                       request_fingerprint=command.fingerprint, work=work)
    return await get_event(event_id, uow_factory)


async def _materialise_missing(uow: UnitOfWork, event: Event, today: date) -> None:
    """After a rule change: the new rule's dates from today through the horizon (or what was
    materialised, if further) that have no occurrence yet. Existing occurrences are left as
    they are, so a deleted session is not recreated."""
    connection = uow.connection
    through = materialisation_target(event, today)
    if event.materialized_until is not None:
        through = max(through, event.materialized_until)
        last = event.last_date
        if last is not None:
            through = min(through, max(last, today))
    have = set(await edits.occurrence_dates(connection, event.id, from_date=today))
    dates = [d for d in rec.dates_between(event.first_date, event.recurrence, today, through) if d not in have]
    if dates:
        catalog = await repo.services_by_id(connection, {t.service_id for t in event.sessions})
        plans = plan_occurrences(event, dates, {s.id: s.display_name for s in catalog.values()})
        created = await repo.add_occurrences(connection, plans)
        uow.record(*[SessionScheduled(s, p.occurrence) for p in plans for s in p.sessions if s.id in created])
    await repo.set_materialized_until(connection, event.id, through)
