"""The service catalog, events with their session and pool templates, and the dated
occurrences, sessions and pools they materialise into.

Pure: no I/O, no framework. Validation collects every violation with a field path relative
to the event ("title", "sessions[0].capacity", "recurrence.interval"); the application
prefixes it with where the event sits in the request.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from event_service.domain import recurrence as rec
from event_service.domain.lifecycle import LifecyclePolicy, PolicySpec, policy_from_spec
from event_service.domain.recurrence import Frequency, Recurrence
from event_service.domain.rounds import RoundsFormat
from kernel.errors import InvalidArgument, Validator

# Every derived id (occurrences, sessions, pools, templates) is uuid5 under this namespace,
# so materialising the same date twice produces the same ids and inserts nothing new.
NAMESPACE = uuid.UUID("5d0f6c3e-2b8a-4e61-9c47-7a1e3b9d2f10")

DEFAULT_TIME_ZONE = "Europe/Moscow"
MAX_TITLE = 200
MAX_CAPACITY = 100_000
MAX_DURATION_MINUTES = 24 * 60
MAX_BOOKING_WINDOW_DAYS = 365
MAX_SESSIONS = 100
MAX_POOLS = 100
MAX_KEY = 64
MAX_TIME_ZONE = 64
# The first date may lie at most this far from today (either way): bounds rule expansion.
MAX_YEARS_FROM_TODAY = 10

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_HH_MM = re.compile(r"(\d{2}):(\d{2})")


class EventKind(StrEnum):
    ONE_OFF = "one_off"
    RECURRING = "recurring"


class EventStatus(StrEnum):
    ACTIVE = "active"
    ARCHIVED = "archived"


@dataclass(frozen=True)
class Service:
    """A catalog entry: what can be offered at a session."""

    id: str
    display_name: str
    default_capacity: int
    default_booking_window_days: int
    default_duration_minutes: int
    position: int = 0


@dataclass(frozen=True)
class SessionTemplate:
    id: str
    key: str
    position: int
    service_id: str
    start_time: time  # local, in the event's time zone
    duration_minutes: int
    capacity: int
    booking_window_days: int


@dataclass(frozen=True)
class PoolTemplate:
    id: str
    display_name: str
    limit: int
    template_ids: tuple[str, ...]


@dataclass(frozen=True)
class Event:
    id: str
    title: str
    venue_id: str
    capacity: int
    kind: EventKind
    first_date: date
    recurrence: Recurrence | None
    time_zone: str
    max_sessions_per_participant: int | None  # None: no limit
    sessions: tuple[SessionTemplate, ...]
    pools: tuple[PoolTemplate, ...]
    status: EventStatus
    created_at: datetime
    updated_at: datetime
    materialized_until: date | None = None
    version: int = 1
    venue_display_name: str = ""  # read along for lists and messages, not part of the aggregate
    # None only when the stored policy cannot be read (the scheduler reports it to the admins).
    lifecycle: LifecyclePolicy | None = field(default_factory=LifecyclePolicy)
    rounds: RoundsFormat | None = None  # None: the event does not run in rounds

    @property
    def title_key(self) -> str:
        """Searchable form of the title: casefolded in Python, as the database's lower()
        depends on its locale."""
        return self.title.casefold()

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    @property
    def schedule_text(self) -> str:
        return rec.schedule_text(self.first_date, self.recurrence)

    @property
    def last_date(self) -> date | None:
        return rec.last_date(self.first_date, self.recurrence)

    def today(self, now: datetime) -> date:
        """The date it is now where the event happens."""
        return now.astimezone(self.zone).date()

    def template_key(self, template_id: str) -> str:
        return next(t.key for t in self.sessions if t.id == template_id)


@dataclass(frozen=True)
class EventCreated:
    event: Event


# --- dated instances ---------------------------------------------------------------------


@dataclass(frozen=True)
class Occurrence:
    id: str
    event_id: str
    date: date
    capacity: int
    participants: int = 0


@dataclass(frozen=True)
class Session:
    """A dated session as it is read: its row, counts, and the names lists show."""

    id: str
    event_id: str
    occurrence_id: str
    template_id: str
    template_key: str
    service_id: str
    venue_id: str
    starts_at: datetime
    ends_at: datetime
    capacity: int
    booking_window_days: int
    held: int = 0
    confirmed: int = 0
    version: int = 1
    event_title: str = ""
    service_display_name: str = ""
    venue_display_name: str = ""
    pool_ids: tuple[str, ...] = ()

    @property
    def available(self) -> int:
        """Seats left; never negative, even when an admin override booked beyond capacity."""
        return max(0, self.capacity - self.held - self.confirmed)


@dataclass(frozen=True)
class Pool:
    id: str
    occurrence_id: str
    template_id: str
    display_name: str
    limit: int
    session_ids: tuple[str, ...]


@dataclass(frozen=True)
class OccurrencePlan:
    """One date of an event with everything to create for it."""

    occurrence: Occurrence
    sessions: tuple[Session, ...]
    pools: tuple[Pool, ...]


@dataclass(frozen=True)
class SessionScheduled:
    session: Session
    occurrence: Occurrence


def occurrence_id(event_id: str, day: date) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{event_id}/{day.isoformat()}"))


def session_id(occurrence: str, template_id: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{occurrence}/{template_id}"))


def pool_id(occurrence: str, pool_template_id: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{occurrence}/{pool_template_id}"))


def session_template_id(event_id: str, key: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{event_id}/sessions/{key}"))


def pool_template_id(event_id: str, position: int) -> str:
    """Pool templates have no position column: their ids encode it, see `pool_positions`."""
    return str(uuid.uuid5(NAMESPACE, f"{event_id}/pools/{position}"))


def pool_positions(event_id: str, count: int) -> dict[str, int]:
    """Position in the request of each of an event's `count` pool templates, by id."""
    return {pool_template_id(event_id, position): position for position in range(count)}


def starts_at(day: date, start_time: time, zone: ZoneInfo) -> datetime:
    """A local date and wall-clock time in the event's zone, as an aware UTC instant. Through
    zoneinfo, so a DST zone keeps the local time across its changes (a time inside a spring-
    forward gap lands after it; an ambiguous autumn time is its first instance)."""
    return datetime.combine(day, start_time, tzinfo=zone).astimezone(UTC)


def materialisation_target(event: Event, today: date) -> date:
    """The last date whose occurrences must exist so every booking window is covered:
    today + the longest booking window + 1, never past the end of the series."""
    horizon = today + timedelta(days=max(t.booking_window_days for t in event.sessions) + 1)
    end = event.last_date
    return horizon if end is None else min(horizon, end)


def dates_to_materialise(event: Event, *, today: date, through: date) -> list[date]:
    """Dates from today (past dates are never materialised) or the day after what exists,
    through `through`, inclusive."""
    start = today
    if event.materialized_until is not None:
        start = max(start, event.materialized_until + timedelta(days=1))
    return rec.dates_between(event.first_date, event.recurrence, start, through)


def plan_occurrences(event: Event, dates: Iterable[date], service_names: Mapping[str, str]) -> list[OccurrencePlan]:
    """The occurrences, sessions and pools of `event` on `dates`, with their stable ids."""
    zone = event.zone
    plans = []
    for day in dates:
        occurrence = Occurrence(id=occurrence_id(event.id, day), event_id=event.id, date=day, capacity=event.capacity)
        by_template = {t.id: session_id(occurrence.id, t.id) for t in event.sessions}
        pools = tuple(
            Pool(id=pool_id(occurrence.id, p.id), occurrence_id=occurrence.id, template_id=p.id,
                 display_name=p.display_name, limit=p.limit, session_ids=tuple(by_template[t] for t in p.template_ids))
            for p in event.pools
        )
        sessions = []
        for template in event.sessions:
            begin = starts_at(day, template.start_time, zone)
            sid = by_template[template.id]
            sessions.append(Session(
                id=sid, event_id=event.id, occurrence_id=occurrence.id, template_id=template.id,
                template_key=template.key, service_id=template.service_id, venue_id=event.venue_id,
                starts_at=begin, ends_at=begin + timedelta(minutes=template.duration_minutes),
                capacity=template.capacity, booking_window_days=template.booking_window_days,
                event_title=event.title, service_display_name=service_names.get(template.service_id, ""),
                venue_display_name=event.venue_display_name,
                pool_ids=tuple(p.id for p in pools if sid in p.session_ids),
            ))
        plans.append(OccurrencePlan(occurrence, tuple(sessions), pools))
    return plans


# --- creating an event -------------------------------------------------------------------


@dataclass(frozen=True)
class RecurrenceSpec:
    frequency: Frequency | None
    interval: int = 0
    until_date: str = ""
    count: int = 0


@dataclass(frozen=True)
class SessionSpec:
    service: str  # "services/{service}"
    start_time: str  # "HH:MM"
    key: str = ""
    duration_minutes: int = 0
    capacity: int = 0
    booking_window_days: int = 0


@dataclass(frozen=True)
class PoolSpec:
    display_name: str
    limit: int
    session_keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class EventSpec:
    """An event as a client asked for it, before any check."""

    title: str
    capacity: int
    kind: EventKind | None
    first_date: str
    recurrence: RecurrenceSpec | None = None
    sessions: tuple[SessionSpec, ...] = ()
    pools: tuple[PoolSpec, ...] = ()
    max_sessions_per_participant: int = 0
    time_zone: str = ""
    lifecycle: PolicySpec | None = None  # None: the default policy
    rounds: RoundsFormat | None = None  # as asked for, not yet validated; None: no rounds


def check_lifecycle(check: Validator, spec: PolicySpec | None) -> LifecyclePolicy | None:
    """The policy, or None with its violations ("lifecycle.*") added to `check`."""
    try:
        return policy_from_spec(spec)
    except InvalidArgument as error:
        check.violations.extend(error.violations)
        return None


def check_rounds(check: Validator, spec: RoundsFormat | None) -> RoundsFormat | None:
    """The format (None stays None: no rounds), or None with its violations ("rounds.*")."""
    if spec is None:
        return None
    try:
        return spec.validate()
    except InvalidArgument as error:
        check.violations.extend(error.violations)
        return None


def clean_text(value: str) -> str:
    """Trimmed, inner whitespace collapsed to single spaces."""
    return " ".join(value.split())


def parse_iso_date(value: str) -> date | None:
    """A strict ISO 8601 calendar date ("2026-12-01"); None for anything else."""
    if not _ISO_DATE.fullmatch(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def parse_hh_mm(value: str) -> time | None:
    match = _HH_MM.fullmatch(value)
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        return None
    return time(int(match[1]), int(match[2]))


def resource_id_or_none(name: str, collection: str) -> str | None:
    prefix, _, identifier = name.partition("/")
    if prefix != collection or not identifier or "/" in identifier or "\x00" in identifier:
        return None
    return identifier


def _zone(check: Validator, name: str) -> ZoneInfo | None:
    try:
        if len(name) > MAX_TIME_ZONE or "\x00" in name:
            raise ValueError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        check.add("time_zone", f"must be an IANA time zone such as {DEFAULT_TIME_ZONE!r}, got {name[:MAX_TIME_ZONE]!r}")
        return None


def _years_from(today: date, years: int) -> date:
    try:
        return today.replace(year=today.year + years)
    except ValueError:  # February 29th
        return today.replace(year=today.year + years, day=28)


def _check_title(check: Validator, raw: str) -> str:
    title = clean_text(raw)
    if check.check(bool(title), "title", "is required"):
        check.check(len(title) <= MAX_TITLE, "title", f"must be at most {MAX_TITLE} characters")
        check.check("\x00" not in title, "title", "must not contain NUL characters")
    return title


def _check_recurrence(check: Validator, spec: EventSpec, first: date | None) -> Recurrence | None:
    if spec.kind is EventKind.ONE_OFF:
        check.check(spec.recurrence is None, "recurrence", "must be empty for a one-off event")
        return None
    if spec.kind is not EventKind.RECURRING:
        return None
    if not check.check(spec.recurrence is not None, "recurrence", "is required for a recurring event"):
        return None
    raw = spec.recurrence
    assert raw is not None
    check.check(raw.frequency is not None, "recurrence.frequency", "is required: DAILY, WEEKLY or MONTHLY")
    check.check(1 <= raw.interval <= rec.MAX_INTERVAL, "recurrence.interval",
                f"must be between 1 and {rec.MAX_INTERVAL}")
    until = None
    if raw.until_date:
        until = parse_iso_date(raw.until_date)
        valid = check.check(until is not None, "recurrence.until_date", "must be an ISO 8601 date like 2027-03-01")
        if valid and first is not None:
            check.check(until >= first, "recurrence.until_date", "must not be before first_date")
    if raw.count:
        check.check(not raw.until_date, "recurrence.count", "must be empty when until_date is set")
        check.check(1 <= raw.count <= rec.MAX_COUNT, "recurrence.count", f"must be between 1 and {rec.MAX_COUNT}")
    if raw.frequency is None or not 1 <= raw.interval <= rec.MAX_INTERVAL:
        return None
    return Recurrence(frequency=raw.frequency, interval=raw.interval, until=until, count=raw.count or None)


def _check_sessions(check: Validator, specs: tuple[SessionSpec, ...], services: Mapping[str, Service],
                    event_id: str, event_capacity: int | None) -> list[SessionTemplate]:
    if not check.check(bool(specs), "sessions", "at least one session is required"):
        return []
    if not check.check(len(specs) <= MAX_SESSIONS, "sessions", f"at most {MAX_SESSIONS} sessions"):
        return []
    templates: list[SessionTemplate] = []
    seen: set[str] = set()
    for position, spec in enumerate(specs):
        at = f"sessions[{position}]"
        valid = True
        key = spec.key.strip() or f"s{position + 1}"
        if len(key) > MAX_KEY or "\x00" in key:
            valid = check.check(False, f"{at}.key", f"must be at most {MAX_KEY} characters, without NUL")
        elif key in seen:
            valid = check.check(False, f"{at}.key", f"{key!r} is used by another session")
        seen.add(key)

        service = None
        if not spec.service:
            valid = check.check(False, f"{at}.service", "is required")
        elif (service_key := resource_id_or_none(spec.service, "services")) is None:
            valid = check.check(False, f"{at}.service", f"must look like services/{{id}}, got {spec.service[:100]!r}")
        elif (service := services.get(service_key)) is None:
            valid = check.check(False, f"{at}.service", f"{spec.service[:100]!r} is not in the service catalog")

        start = parse_hh_mm(spec.start_time)
        if start is None:
            valid = check.check(False, f"{at}.start_time", "must be a local time HH:MM, e.g. 09:30")

        duration = spec.duration_minutes or (service.default_duration_minutes if service else 0)
        if spec.duration_minutes and not 1 <= spec.duration_minutes <= MAX_DURATION_MINUTES:
            valid = check.check(False, f"{at}.duration_minutes", f"must be between 1 and {MAX_DURATION_MINUTES}")

        window = spec.booking_window_days or (service.default_booking_window_days if service else 0)
        if spec.booking_window_days and not 1 <= spec.booking_window_days <= MAX_BOOKING_WINDOW_DAYS:
            valid = check.check(False, f"{at}.booking_window_days",
                                f"must be between 1 and {MAX_BOOKING_WINDOW_DAYS}")

        capacity = spec.capacity
        if capacity < 0:
            valid = check.check(False, f"{at}.capacity", "must be at least 1 (0 means the service's default)")
        elif capacity and event_capacity is not None and capacity > event_capacity:
            valid = check.check(False, f"{at}.capacity", f"must not exceed the event capacity ({event_capacity})")
        elif capacity > MAX_CAPACITY:
            valid = check.check(False, f"{at}.capacity", f"must be at most {MAX_CAPACITY}")
        if capacity == 0 and service is not None and event_capacity is not None:
            capacity = min(service.default_capacity, event_capacity)

        if valid and service is not None and start is not None and event_capacity is not None:
            templates.append(SessionTemplate(
                id=session_template_id(event_id, key), key=key, position=position, service_id=service.id,
                start_time=start, duration_minutes=duration, capacity=capacity, booking_window_days=window))
    return templates


def _check_pools(check: Validator, specs: tuple[PoolSpec, ...], keys: Mapping[str, str],
                 event_id: str) -> list[PoolTemplate]:
    """`keys` maps every session key the request gave (valid or not) to its template id."""
    if not check.check(len(specs) <= MAX_POOLS, "pools", f"at most {MAX_POOLS} pools"):
        return []
    pools: list[PoolTemplate] = []
    names: set[str] = set()
    for position, spec in enumerate(specs):
        at = f"pools[{position}]"
        valid = True
        name = clean_text(spec.display_name)
        if not name:
            valid = check.check(False, f"{at}.display_name", "is required")
        elif len(name) > MAX_TITLE or "\x00" in name:
            valid = check.check(False, f"{at}.display_name", f"must be at most {MAX_TITLE} characters, without NUL")
        elif name.casefold() in names:
            valid = check.check(False, f"{at}.display_name", f"{name!r} names another pool of this event")
        names.add(name.casefold())
        if not 1 <= spec.limit <= MAX_CAPACITY:
            valid = check.check(False, f"{at}.limit", f"must be between 1 and {MAX_CAPACITY}")
        members = [k.strip() for k in spec.session_keys]
        unknown = [k for k in members if k not in keys]
        repeated = sorted({k for k in members if members.count(k) > 1})
        if len(members) < 2:
            valid = check.check(False, f"{at}.session_keys", "needs at least two session keys")
        elif unknown:
            valid = check.check(False, f"{at}.session_keys",
                                f"unknown session keys {', '.join(repr(k[:MAX_KEY]) for k in unknown)}")
        elif repeated:
            valid = check.check(False, f"{at}.session_keys", f"lists {', '.join(map(repr, repeated))} twice")
        if valid:
            pools.append(PoolTemplate(id=pool_template_id(event_id, position), display_name=name, limit=spec.limit,
                                      template_ids=tuple(keys[k] for k in members)))
    return pools


def new_event(spec: EventSpec, *, event_id: str, venue_id: str, services: Mapping[str, Service],
              now: datetime, venue_display_name: str = "") -> Event:
    """A validated event. Every violation is collected before refusing.

    A session may belong to several pools (each of its pools is charged on booking). A
    one-off event must not lie in the past, nor may every date of a series; a series that
    began before today materialises only from today.
    """
    check = Validator()
    title = _check_title(check, spec.title)

    capacity: int | None = spec.capacity
    if not check.check(1 <= spec.capacity <= MAX_CAPACITY, "capacity", f"must be between 1 and {MAX_CAPACITY}"):
        capacity = None
    check.check(spec.kind is not None, "kind", "is required: ONE_OFF or RECURRING")

    time_zone = spec.time_zone.strip() or DEFAULT_TIME_ZONE
    zone = _zone(check, time_zone)
    today = now.astimezone(zone or UTC).date()

    first = None
    if not spec.first_date:
        check.add("first_date", "is required")
    elif (first := parse_iso_date(spec.first_date)) is None:
        check.add("first_date", "must be an ISO 8601 date like 2026-12-01")
    elif not _years_from(today, -MAX_YEARS_FROM_TODAY) <= first <= _years_from(today, MAX_YEARS_FROM_TODAY):
        check.add("first_date", f"must be within {MAX_YEARS_FROM_TODAY} years of today")
        first = None
    elif spec.kind is EventKind.ONE_OFF and first < today:
        check.add("first_date", f"must not be in the past (today is {today.isoformat()} in {time_zone})")

    before = len(check.violations)
    recurrence = _check_recurrence(check, spec, first)
    if (first is not None and recurrence is not None and len(check.violations) == before
            and not rec.has_date_between(first, recurrence, today, None)):
        at = "recurrence.until_date" if recurrence.until else "recurrence.count"
        check.add(at, f"every date of the series is in the past (today is {today.isoformat()} in {time_zone})")

    templates = _check_sessions(check, spec.sessions, services, event_id, capacity)
    keys = {}
    for position, s in enumerate(spec.sessions):
        key = s.key.strip() or f"s{position + 1}"
        keys.setdefault(key, session_template_id(event_id, key))
    pools = _check_pools(check, spec.pools, keys, event_id)

    limit = spec.max_sessions_per_participant
    if limit < 0:
        check.add("max_sessions_per_participant", "must not be negative (0 means no limit)")
    elif spec.sessions and limit > len(spec.sessions):
        check.add("max_sessions_per_participant",
                  f"must be at most the number of sessions ({len(spec.sessions)}); 0 means no limit")
    lifecycle = check_lifecycle(check, spec.lifecycle)
    rounds = check_rounds(check, spec.rounds)

    check.raise_if_any()
    assert first is not None and capacity is not None and spec.kind is not None
    return Event(
        id=event_id, title=title, venue_id=venue_id, capacity=capacity, kind=spec.kind, first_date=first,
        recurrence=recurrence, time_zone=time_zone, max_sessions_per_participant=limit or None,
        sessions=tuple(templates), pools=tuple(pools), status=EventStatus.ACTIVE, created_at=now, updated_at=now,
        venue_display_name=venue_display_name, lifecycle=lifecycle, rounds=rounds,
    )



# --- editing the catalog -----------------------------------------------------------------


@dataclass(frozen=True)
class EventUpdated:
    event: Event
    changed_fields: tuple[str, ...]


@dataclass(frozen=True)
class EventArchived:
    event: Event
    automatic: bool = False
    live_registrations: int = 0


@dataclass(frozen=True)
class EventActivated:
    event: Event


@dataclass(frozen=True)
class EventDeleted:
    event_id: str
    version: int  # the event's version after deletion
    released_seats: int = 0


@dataclass(frozen=True)
class SessionUpdated:
    session: Session
    changed_fields: tuple[str, ...]


@dataclass(frozen=True)
class SessionDeleted:
    session_id: str
    event_id: str
    occurrence_id: str
    version: int  # the session's version after deletion
