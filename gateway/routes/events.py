"""`/v1/events`: events with their session templates, recurrence, pools and rules."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response
from google.protobuf import duration_pb2
from pydantic import BaseModel, ConfigDict, Field

from gateway import problems
from gateway.backends import EventBackend, ParticipantBackend
from gateway.routes import (
    IdempotencyKey,
    PageSize,
    PageToken,
    enum_from_rest,
    enum_to_rest,
    idempotency_request_id,
    resource_id,
    resource_name,
    to_datetime,
)
from gateway.routes.participant_filter import ParticipantQuery, participant_names
from gateway.security import CurrentPrincipal, require_roles
from turnout.event.v1 import event_pb2, event_service_pb2, venue_pb2

router = APIRouter(prefix="/v1/events", tags=["events"])

_SEGMENT_NAMES = {"venue": "venue_id", "service": "service_id", "display_name": "name",
                  "confirming_before": "confirming_before_minutes",
                  "reconfirmation_deadline_before": "reconfirmation_deadline_before_minutes",
                  "reminders": "reminders_minutes"}


def event_field(path: str) -> str:
    """`event.sessions[2].service` -> `sessions[2].service_id`: the names of the REST body."""
    path = path.removeprefix("event.")
    return ".".join(
        re.sub(r"^[a-z_]+", lambda m: _SEGMENT_NAMES.get(m.group(0), m.group(0)), segment)
        for segment in path.split(".")
    )


class RecurrenceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    frequency: Literal["daily", "weekly", "monthly"]
    interval: int = Field(default=1, ge=-(2**31), le=2**31 - 1)
    until_date: date | None = None
    count: int | None = Field(default=None, ge=-(2**31), le=2**31 - 1)


class SessionTemplateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(default="", max_length=100)
    service_id: str = Field(max_length=200)
    start_time: str = Field(max_length=10, description="Local time HH:MM")
    duration_minutes: int = Field(default=0, ge=-(2**31), le=2**31 - 1, description="0: the service's default")
    capacity: int = Field(default=0, ge=-(2**31), le=2**31 - 1, description="0: the service's default")
    booking_window_days: int = Field(default=0, ge=-(2**31), le=2**31 - 1, description="0: the service's default")


class PoolIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=200)
    limit: int = Field(ge=-(2**31), le=2**31 - 1)
    session_keys: list[str] = Field(max_length=1000)


class NewVenueIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=200)
    address: str | None = Field(default=None, max_length=500)


class LifecycleIn(BaseModel):
    """The occurrence timetable, in minutes before the start of an occurrence. A field left
    out (or null) takes its default."""

    model_config = ConfigDict(extra="forbid")

    confirming_before_minutes: int | None = Field(
        default=None, ge=-(2**31), le=2**31 - 1,
        description="When confirmation requests go out; default 1440 (24 hours), at most 30 days")
    reconfirmation_deadline_before_minutes: int | None = Field(
        default=None, ge=-(2**31), le=2**31 - 1,
        description="The reconfirmation deadline, when the occurrence becomes ready; default 120 (2 hours), "
                    "less than confirming_before_minutes")
    release_unanswered: bool = Field(
        default=True, description="At the deadline, release registrations nobody answered for (true) or keep them")
    reminders_minutes: list[Annotated[int, Field(ge=-(2**31), le=2**31 - 1)]] | None = Field(
        default=None, max_length=100,
        description="Reminders before the start; omitted or null: the defaults (1440 and 5), []: none")


class LifecycleOut(BaseModel):
    confirming_before_minutes: int
    reconfirmation_deadline_before_minutes: int
    release_unanswered: bool
    reminders_minutes: list[int] = Field(description="Earliest reminder first")


class RoundsIn(BaseModel):
    """Speed-dating rounds: each occurrence's participants split into balanced groups of at
    most `group_size`, every pair of a group meeting once."""

    model_config = ConfigDict(extra="forbid")

    round_minutes: int = Field(ge=-(2**31), le=2**31 - 1, description="1..240")
    break_minutes: int = Field(default=0, ge=-(2**31), le=2**31 - 1, description="0..120")
    group_size: int = Field(ge=-(2**31), le=2**31 - 1, description="2..100")


class RoundsOut(BaseModel):
    round_minutes: int
    break_minutes: int
    group_size: int


class EventIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(max_length=20_000)
    venue_id: str | None = Field(default=None, max_length=200)
    new_venue: NewVenueIn | None = None
    capacity: int = Field(ge=-(2**31), le=2**31 - 1)
    kind: Literal["one_off", "recurring"]
    first_date: date
    recurrence: RecurrenceIn | None = None
    sessions: list[SessionTemplateIn] = Field(max_length=1000)
    pools: list[PoolIn] = Field(default_factory=list, max_length=1000)
    max_sessions_per_participant: int | None = Field(default=None, ge=-(2**31), le=2**31 - 1)
    time_zone: str = Field(default="", max_length=100)
    lifecycle: LifecycleIn | None = Field(default=None, description="Omitted or null: the default timetable")
    rounds: RoundsIn | None = Field(default=None, description="Omitted or null: the event does not run in rounds")


class RecurrenceOut(BaseModel):
    frequency: str
    interval: int
    until_date: date | None
    count: int | None


class SessionTemplateOut(BaseModel):
    key: str
    service_id: str
    start_time: str
    duration_minutes: int
    capacity: int
    booking_window_days: int


class PoolOut(BaseModel):
    name: str
    limit: int
    session_keys: list[str]


class EventOut(BaseModel):
    id: str
    title: str
    venue_id: str
    venue_name: str
    capacity: int
    kind: str
    status: str
    first_date: date | None
    recurrence: RecurrenceOut | None
    schedule: str
    sessions: list[SessionTemplateOut]
    pools: list[PoolOut]
    max_sessions_per_participant: int | None
    time_zone: str
    lifecycle: LifecycleOut | None = Field(description="The timetable in force; null only if the stored one is broken")
    rounds: RoundsOut | None
    created_at: datetime | None
    updated_at: datetime | None


class EventList(BaseModel):
    events: list[EventOut]
    next_page_token: str | None
    active_count: int
    archived_count: int


def _minutes(minutes: int) -> duration_pb2.Duration:
    return duration_pb2.Duration(seconds=minutes * 60)


def lifecycle_proto(body: LifecycleIn | None) -> event_pb2.LifecyclePolicy:
    """Null takes every default, as an unset policy does."""
    policy = event_pb2.LifecyclePolicy(reminders_default=True)
    if body is None:
        return policy
    if body.confirming_before_minutes is not None:
        policy.confirming_before.CopyFrom(_minutes(body.confirming_before_minutes))
    if body.reconfirmation_deadline_before_minutes is not None:
        policy.reconfirmation_deadline_before.CopyFrom(_minutes(body.reconfirmation_deadline_before_minutes))
    policy.keep_unanswered = not body.release_unanswered
    if body.reminders_minutes is not None:
        policy.reminders_default = False
        policy.reminders.extend(_minutes(m) for m in body.reminders_minutes)
    return policy


def rounds_proto(body: RoundsIn) -> event_pb2.RoundsFormat:
    return event_pb2.RoundsFormat(round_minutes=body.round_minutes, break_minutes=body.break_minutes,
                                  group_size=body.group_size)


def _whole_minutes(span: duration_pb2.Duration) -> int:
    return span.seconds // 60


def lifecycle_out(policy: event_pb2.LifecyclePolicy) -> LifecycleOut:
    return LifecycleOut(
        confirming_before_minutes=_whole_minutes(policy.confirming_before),
        reconfirmation_deadline_before_minutes=_whole_minutes(policy.reconfirmation_deadline_before),
        release_unanswered=not policy.keep_unanswered,
        reminders_minutes=[_whole_minutes(r) for r in policy.reminders])


def _event_proto(body: EventIn) -> event_pb2.Event:
    event = event_pb2.Event(
        title=body.title,
        venue=resource_name("venues", body.venue_id) if body.venue_id else "",
        capacity=body.capacity,
        kind=enum_from_rest(event_pb2.EventKind, body.kind),
        first_date=body.first_date.isoformat(),
        max_sessions_per_participant=body.max_sessions_per_participant or 0,
        time_zone=body.time_zone,
        sessions=[
            event_pb2.SessionTemplate(
                key=s.key, service=resource_name("services", s.service_id), start_time=s.start_time,
                duration_minutes=s.duration_minutes, capacity=s.capacity, booking_window_days=s.booking_window_days,
            )
            for s in body.sessions
        ],
        pools=[event_pb2.PoolTemplate(display_name=p.name, limit=p.limit, session_keys=p.session_keys) for p in body.pools],
    )
    if body.recurrence is not None:
        event.recurrence.CopyFrom(event_pb2.Recurrence(
            frequency=enum_from_rest(event_pb2.Frequency, body.recurrence.frequency),
            interval=body.recurrence.interval,
            until_date=body.recurrence.until_date.isoformat() if body.recurrence.until_date else "",
            count=body.recurrence.count or 0,
        ))
    if body.lifecycle is not None:
        event.lifecycle.CopyFrom(lifecycle_proto(body.lifecycle))
    if body.rounds is not None:
        event.rounds.CopyFrom(rounds_proto(body.rounds))
    return event


def _date(text: str) -> date | None:
    return date.fromisoformat(text) if text else None


def event_out(event: event_pb2.Event) -> EventOut:
    recurrence = None
    if event.HasField("recurrence") and event.kind == event_pb2.EVENT_KIND_RECURRING:
        recurrence = RecurrenceOut(
            frequency=enum_to_rest(event_pb2.Frequency, event.recurrence.frequency),
            interval=event.recurrence.interval,
            until_date=_date(event.recurrence.until_date),
            count=event.recurrence.count or None,
        )
    return EventOut(
        id=resource_id(event.name, "events"),
        title=event.title,
        venue_id=resource_id(event.venue, "venues"),
        venue_name=event.venue_display_name,
        capacity=event.capacity,
        kind=enum_to_rest(event_pb2.EventKind, event.kind),
        status=enum_to_rest(event_pb2.EventStatus, event.status),
        first_date=_date(event.first_date),
        recurrence=recurrence,
        schedule=event.schedule_text,
        sessions=[
            SessionTemplateOut(key=s.key, service_id=resource_id(s.service, "services"), start_time=s.start_time,
                               duration_minutes=s.duration_minutes, capacity=s.capacity,
                               booking_window_days=s.booking_window_days)
            for s in event.sessions
        ],
        pools=[PoolOut(name=p.display_name, limit=p.limit, session_keys=list(p.session_keys)) for p in event.pools],
        max_sessions_per_participant=event.max_sessions_per_participant or None,
        time_zone=event.time_zone,
        lifecycle=lifecycle_out(event.lifecycle) if event.HasField("lifecycle") else None,
        rounds=RoundsOut(round_minutes=event.rounds.round_minutes, break_minutes=event.rounds.break_minutes,
                         group_size=event.rounds.group_size) if event.HasField("rounds") else None,
        created_at=to_datetime(event.create_time),
        updated_at=to_datetime(event.update_time),
    )


@router.post(
    "",
    status_code=201,
    response_model=EventOut,
    dependencies=[Depends(require_roles("admin"))],
    responses={201: {"headers": {"Location": {"description": "URL of the new event"}}}},
)
async def create_event(
    body: EventIn, response: Response, event: EventBackend, idempotency_key: IdempotencyKey = None
) -> EventOut:
    request = event_service_pb2.CreateEventRequest(event=_event_proto(body),
                                                   request_id=idempotency_request_id(idempotency_key))
    if body.new_venue is not None:
        request.new_venue.CopyFrom(venue_pb2.Venue(display_name=body.new_venue.name, address=body.new_venue.address or ""))
    created = event_out(await event.call(event.stub.CreateEvent, request, fields=event_field))
    response.headers["Location"] = f"/v1/events/{created.id}"
    return created


def check_participant_filter(principal: CurrentPrincipal, participant: str | None) -> None:
    """Filtering by a participant tells whom they booked with: staff and analysts may filter
    by anyone, a participant only by themself (by their id)."""
    if participant and not principal.has_any("admin", "volunteer", "service", "analyst") \
            and participant != principal.participant_id:
        raise problems.Problem(403, "forbidden", "a participant may filter only by their own participant id",
                               errors=[problems.FieldError("participant", "must be your own participant id")])


@router.get("", response_model=EventList)
async def list_events(
    event: EventBackend,
    participants_backend: ParticipantBackend,
    principal: CurrentPrincipal,
    page_size: PageSize = 0,
    page_token: PageToken = "",
    status: Literal["active", "archived"] = "active",
    kind: Literal["one_off", "recurring"] | None = None,
    date_from: Annotated[date | None, Query(alias="from")] = None,
    date_to: Annotated[date | None, Query(alias="to")] = None,
    venue_id: str | None = Query(default=None, max_length=200),
    service_id: str | None = Query(default=None, max_length=200),
    q: str | None = Query(default=None, max_length=200, description="Text in the title or the venue name"),
    participant: ParticipantQuery = None,
) -> EventList:
    check_participant_filter(principal, participant)
    names = await participant_names(participants_backend, participant)
    if names == []:
        return EventList(events=[], next_page_token=None, active_count=0, archived_count=0)
    request = event_service_pb2.ListEventsRequest(
        page_size=page_size, page_token=page_token,
        status=enum_from_rest(event_pb2.EventStatus, status),
        kind=enum_from_rest(event_pb2.EventKind, kind) if kind else 0,
        from_date=date_from.isoformat() if date_from else "",
        to_date=date_to.isoformat() if date_to else "",
        venue=resource_name("venues", venue_id) if venue_id else "",
        service=resource_name("services", service_id) if service_id else "",
        query=q or "",
        participants=names or [],
    )
    reply = await event.call(event.stub.ListEvents, request, fields=_LIST_FIELDS)
    return EventList(events=[event_out(e) for e in reply.events], next_page_token=reply.next_page_token or None,
                     active_count=reply.active_count, archived_count=reply.archived_count)


_LIST_FIELDS = {"from_date": "from", "to_date": "to", "venue": "venue_id", "service": "service_id", "query": "q",
                "participants": "participant", "page_size": "page_size", "page_token": "page_token"}


@router.get("/{event_id}", response_model=EventOut)
async def get_event(event_id: str, event: EventBackend) -> EventOut:
    request = event_service_pb2.GetEventRequest(name=resource_name("events", event_id))
    return event_out(await event.call(event.stub.GetEvent, request))


class EventPatch(BaseModel):
    """Only the fields present are changed (JSON merge patch style)."""

    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(default=None, max_length=20_000)
    venue_id: str | None = Field(default=None, max_length=200)
    capacity: int | None = Field(default=None, ge=-(2**31), le=2**31 - 1)
    recurrence: RecurrenceIn | None = None
    max_sessions_per_participant: int | None = Field(default=None, ge=-(2**31), le=2**31 - 1,
                                                     description="null or 0: no limit")
    lifecycle: LifecycleIn | None = Field(
        default=None, description="Replaces the whole timetable; null: the defaults. A change reschedules every "
                                  "occurrence that is not finished or cancelled")
    rounds: RoundsIn | None = Field(default=None, description="null: the event no longer runs in rounds")


_PATCH_PATHS = {"title": "title", "venue_id": "venue", "capacity": "capacity", "recurrence": "recurrence",
                "max_sessions_per_participant": "max_sessions_per_participant", "lifecycle": "lifecycle",
                "rounds": "rounds"}


@router.patch("/{event_id}", response_model=EventOut, dependencies=[Depends(require_roles("admin"))])
async def update_event(event_id: str, body: EventPatch, event: EventBackend,
                       idempotency_key: IdempotencyKey = None) -> EventOut:
    present = [f for f in _PATCH_PATHS if f in body.model_fields_set]
    proto = event_pb2.Event(
        name=resource_name("events", event_id), title=body.title or "",
        venue=resource_name("venues", body.venue_id) if body.venue_id else "",
        capacity=body.capacity or 0, max_sessions_per_participant=body.max_sessions_per_participant or 0)
    if body.recurrence is not None:
        proto.recurrence.CopyFrom(event_pb2.Recurrence(
            frequency=enum_from_rest(event_pb2.Frequency, body.recurrence.frequency),
            interval=body.recurrence.interval,
            until_date=body.recurrence.until_date.isoformat() if body.recurrence.until_date else "",
            count=body.recurrence.count or 0))
    if "lifecycle" in present:
        proto.lifecycle.CopyFrom(lifecycle_proto(body.lifecycle))
    if body.rounds is not None:
        proto.rounds.CopyFrom(rounds_proto(body.rounds))
    request = event_service_pb2.UpdateEventRequest(event=proto, request_id=idempotency_key or "")
    request.update_mask.paths.extend(_PATCH_PATHS[f] for f in present)
    return event_out(await event.call(event.stub.UpdateEvent, request, fields=event_field))


@router.delete("/{event_id}", status_code=204, response_class=Response,
               dependencies=[Depends(require_roles("admin"))])
async def delete_event(event_id: str, event: EventBackend,
                       force: bool = Query(default=False, description="Release every live seat and delete anyway"),
                       idempotency_key: IdempotencyKey = None) -> Response:
    request = event_service_pb2.DeleteEventRequest(name=resource_name("events", event_id), force=force,
                                                   request_id=idempotency_key or "")
    await event.call(event.stub.DeleteEvent, request)
    return Response(status_code=204)


class ArchiveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    confirm: bool = False


class ActivateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    first_date: date | None = None


@router.post("/{event_id}/archive", response_model=EventOut, dependencies=[Depends(require_roles("admin"))])
async def archive_event(event_id: str, event: EventBackend, body: ArchiveIn | None = None,
                        idempotency_key: IdempotencyKey = None) -> EventOut:
    request = event_service_pb2.ArchiveEventRequest(name=resource_name("events", event_id),
                                                    confirm=bool(body and body.confirm),
                                                    request_id=idempotency_key or "")
    return event_out(await event.call(event.stub.ArchiveEvent, request))


@router.post("/{event_id}/activate", response_model=EventOut, dependencies=[Depends(require_roles("admin"))])
async def activate_event(event_id: str, event: EventBackend, body: ActivateIn | None = None,
                         idempotency_key: IdempotencyKey = None) -> EventOut:
    first = body.first_date.isoformat() if body and body.first_date else ""
    request = event_service_pb2.ActivateEventRequest(name=resource_name("events", event_id), first_date=first,
                                                     request_id=idempotency_key or "")
    return event_out(await event.call(event.stub.ActivateEvent, request))
