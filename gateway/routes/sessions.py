"""`/v1/sessions`: dated, bookable sessions with their seat counts."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from gateway.backends import EventBackend, ParticipantBackend
from gateway.routes import (
    IdempotencyKey,
    PageSize,
    PageToken,
    from_datetime,
    resource_id,
    resource_name,
    to_datetime,
)
from gateway.security import CurrentPrincipal, require_roles
from gateway.routes.events import check_participant_filter
from gateway.routes.participant_filter import ParticipantQuery, participant_names
from turnout.event.v1 import event_service_pb2, session_pb2

router = APIRouter(prefix="/v1/sessions", tags=["sessions"])

_LIST_FIELDS = {"start_time_from": "from", "start_time_to": "to", "event": "event_id", "venue": "venue_id",
                "service": "service_id", "participants": "participant", "page_size": "page_size",
                "page_token": "page_token"}


class SessionOut(BaseModel):
    id: str
    event_id: str
    occurrence_id: str
    service_id: str
    venue_id: str
    event_title: str
    service_name: str
    venue_name: str
    starts_at: datetime | None
    ends_at: datetime | None
    capacity: int
    booking_window_days: int
    held: int
    confirmed: int
    registered: int
    available: int
    pool_ids: list[str]


class SessionList(BaseModel):
    sessions: list[SessionOut]
    next_page_token: str | None


def session_out(session: session_pb2.Session) -> SessionOut:
    return SessionOut(
        id=resource_id(session.name, "sessions"),
        event_id=resource_id(session.event, "events"),
        occurrence_id=resource_id(session.occurrence, "occurrences"),
        service_id=resource_id(session.service, "services"),
        venue_id=resource_id(session.venue, "venues"),
        event_title=session.event_title,
        service_name=session.service_display_name,
        venue_name=session.venue_display_name,
        starts_at=to_datetime(session.start_time),
        ends_at=to_datetime(session.end_time),
        capacity=session.capacity,
        booking_window_days=session.booking_window_days,
        held=session.held,
        confirmed=session.confirmed,
        registered=session.held + session.confirmed,
        available=session.available,
        pool_ids=[resource_id(p, "pools") for p in session.pools],
    )


@router.get("", response_model=SessionList)
async def list_sessions(
    event: EventBackend,
    participants_backend: ParticipantBackend,
    principal: CurrentPrincipal,
    page_size: PageSize = 0,
    page_token: PageToken = "",
    event_id: str | None = Query(default=None, max_length=200),
    starts_from: datetime | None = Query(default=None, alias="from"),
    starts_to: datetime | None = Query(default=None, alias="to"),
    upcoming: bool | None = Query(default=None, description="true: not started yet; false: started"),
    venue_id: str | None = Query(default=None, max_length=200),
    service_id: str | None = Query(default=None, max_length=200),
    participant: ParticipantQuery = None,
) -> SessionList:
    check_participant_filter(principal, participant)
    names = await participant_names(participants_backend, participant)
    if names == []:
        return SessionList(sessions=[], next_page_token=None)
    timing = {None: event_service_pb2.SESSION_TIMING_UNSPECIFIED, True: event_service_pb2.SESSION_TIMING_UPCOMING,
              False: event_service_pb2.SESSION_TIMING_PAST}[upcoming]
    request = event_service_pb2.ListSessionsRequest(
        page_size=page_size, page_token=page_token,
        event=resource_name("events", event_id) if event_id else "",
        start_time_from=from_datetime(starts_from), start_time_to=from_datetime(starts_to), timing=timing,
        venue=resource_name("venues", venue_id) if venue_id else "",
        service=resource_name("services", service_id) if service_id else "",
        participants=names or [],
    )
    reply = await event.call(event.stub.ListSessions, request, fields=_LIST_FIELDS)
    return SessionList(sessions=[session_out(s) for s in reply.sessions], next_page_token=reply.next_page_token or None)


@router.get("/{session_id}", response_model=SessionOut)
async def get_session(session_id: str, event: EventBackend) -> SessionOut:
    request = event_service_pb2.GetSessionRequest(name=resource_name("sessions", session_id))
    return session_out(await event.call(event.stub.GetSession, request))


class SessionPatch(BaseModel):
    """Only the fields present are changed; the end moves with the start."""

    model_config = ConfigDict(extra="forbid")

    starts_at: datetime | None = None
    capacity: int | None = Field(default=None, ge=-(2**31), le=2**31 - 1)


_PATCH_FIELDS = {"session.start_time": "starts_at", "session.capacity": "capacity", "session.name": "id"}


@router.patch("/{session_id}", response_model=SessionOut, dependencies=[Depends(require_roles("admin"))])
async def update_session(session_id: str, body: SessionPatch, event: EventBackend,
                         idempotency_key: IdempotencyKey = None) -> SessionOut:
    request = event_service_pb2.UpdateSessionRequest(request_id=idempotency_key or "")
    request.session.name = resource_name("sessions", session_id)
    if "starts_at" in body.model_fields_set:
        request.update_mask.paths.append("start_time")
        if body.starts_at is not None:
            request.session.start_time.CopyFrom(from_datetime(body.starts_at))
    if "capacity" in body.model_fields_set:
        request.update_mask.paths.append("capacity")
        request.session.capacity = body.capacity or 0
    return session_out(await event.call(event.stub.UpdateSession, request, fields=_PATCH_FIELDS))


@router.delete("/{session_id}", status_code=204, response_class=Response,
               dependencies=[Depends(require_roles("admin"))])
async def delete_session(session_id: str, event: EventBackend, idempotency_key: IdempotencyKey = None) -> Response:
    request = event_service_pb2.DeleteSessionRequest(name=resource_name("sessions", session_id),
                                                     request_id=idempotency_key or "")
    await event.call(event.stub.DeleteSession, request)
    return Response(status_code=204)
