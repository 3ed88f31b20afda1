"""Stats read models (reporting_service): an event's and a session's registrations, a
participant's metrics and their view (upcoming and past registrations)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from gateway import problems
from gateway.backends import ReportingBackend
from gateway.routes import PageSize, PageToken, resource_id, resource_name, to_datetime
from gateway.security import CurrentPrincipal, require_roles
from kernel.roles import READERS
from turnout.reporting.v1 import reporting_service_pb2

router = APIRouter(tags=["read models"])


class CountsOut(BaseModel):
    registered: int
    held: int
    confirmed: int
    waitlisted: int
    offered: int
    cancelled: int
    declined: int
    expired: int
    expected: int
    attended: int
    no_show: int
    reconfirmation_confirmed: int = Field(
        description="Registrations whose participant, asked once the occurrence entered confirming, said "
                    "they are coming.")
    reconfirmation_declined: int = Field(
        description="Registrations whose participant answered they are not coming (cancelled, seat offered "
                    "to the waitlist).")
    reconfirmation_no_answer: int = Field(
        description="Registrations asked to reconfirm without an answer: still awaited, or none by the "
                    "deadline, whether the seat was kept or released (a released one is also cancelled).")


class SessionStatsOut(BaseModel):
    session_id: str
    event_id: str
    service_id: str
    venue_id: str
    counts: CountsOut
    capacity: int
    seats_left: int
    waitlist_length: int


class GroupStatsOut(BaseModel):
    id: str
    counts: CountsOut
    capacity: int
    seats_left: int
    waitlist_length: int


class EventStatsOut(BaseModel):
    event_id: str
    totals: GroupStatsOut
    sessions: list[SessionStatsOut]
    by_service: list[GroupStatsOut]
    by_venue: list[GroupStatsOut]


class ParticipantMetricsOut(BaseModel):
    participant_id: str
    registrations: int
    cancellations: int
    attended: int
    no_shows: int
    upcoming: int
    no_show_rate: float


def _counts(c: reporting_service_pb2.RegistrationCounts) -> CountsOut:
    return CountsOut(**{name: getattr(c, name) for name in CountsOut.model_fields})


def _session(s: reporting_service_pb2.SessionStats) -> SessionStatsOut:
    return SessionStatsOut(
        session_id=resource_id(s.name, "sessions"), event_id=resource_id(s.event, "events"),
        service_id=resource_id(s.service, "services"), venue_id=resource_id(s.venue, "venues"),
        counts=_counts(s.counts), capacity=s.capacity, seats_left=s.seats_left, waitlist_length=s.waitlist_length)


def _group(g: reporting_service_pb2.GroupStats) -> GroupStatsOut:
    return GroupStatsOut(id=g.key.rsplit("/", 1)[-1], counts=_counts(g.counts), capacity=g.capacity,
                         seats_left=g.seats_left, waitlist_length=g.waitlist_length)


@router.get("/v1/events/{event_id}/stats", response_model=EventStatsOut,
            dependencies=[Depends(require_roles(*READERS))])
async def event_stats(event_id: str, reporting: ReportingBackend) -> EventStatsOut:
    """Registrations by session, service and venue, attendance, waitlists and seats left."""
    request = reporting_service_pb2.GetEventStatsRequest(name=resource_name("events", event_id) + "/stats")
    e = await reporting.call(reporting.stub.GetEventStats, request)
    return EventStatsOut(event_id=event_id, totals=_group(e.totals), sessions=[_session(s) for s in e.sessions],
                         by_service=[_group(g) for g in e.by_service], by_venue=[_group(g) for g in e.by_venue])


@router.get("/v1/sessions/{session_id}/stats", response_model=SessionStatsOut,
            dependencies=[Depends(require_roles(*READERS))])
async def session_stats(session_id: str, reporting: ReportingBackend) -> SessionStatsOut:
    request = reporting_service_pb2.GetSessionStatsRequest(name=resource_name("sessions", session_id) + "/stats")
    return _session(await reporting.call(reporting.stub.GetSessionStats, request))


@router.get("/v1/participants/{participant_id}/metrics", response_model=ParticipantMetricsOut)
async def participant_metrics(participant_id: str, reporting: ReportingBackend,
                              principal: CurrentPrincipal) -> ParticipantMetricsOut:
    """Staff and analysts see anyone's; a participant sees their own."""
    if not (principal.has_any(*READERS) or principal.participant_id == participant_id):
        raise problems.forbidden("a participant may see only their own metrics")
    request = reporting_service_pb2.GetParticipantMetricsRequest(
        name=resource_name("participants", participant_id) + "/metrics")
    m = await reporting.call(reporting.stub.GetParticipantMetrics, request)
    return ParticipantMetricsOut(participant_id=participant_id, registrations=m.registrations,
                                 cancellations=m.cancellations, attended=m.attended, no_shows=m.no_shows,
                                 upcoming=m.upcoming, no_show_rate=m.no_show_rate)


class ParticipantViewRegistrationOut(BaseModel):
    id: str
    session_id: str
    event_id: str | None
    event_title: str | None
    service_id: str | None
    service: str | None
    venue_id: str | None
    venue: str | None
    starts_at: datetime | None
    ends_at: datetime | None
    state: str
    attendance: str
    registered_at: datetime | None
    registered_by: str
    expires_at: datetime | None
    waitlist_position: int | None
    end_reason: str | None
    missed: bool


class ParticipantViewOut(BaseModel):
    participant_id: str
    metrics: ParticipantMetricsOut
    registrations: list[ParticipantViewRegistrationOut]
    next_page_token: str | None


_VIEW_TIMING = {"upcoming": reporting_service_pb2.PARTICIPANT_VIEW_TIMING_UPCOMING,
                "past": reporting_service_pb2.PARTICIPANT_VIEW_TIMING_PAST,
                "all": reporting_service_pb2.PARTICIPANT_VIEW_TIMING_ALL}


def _view_registration(r: reporting_service_pb2.ParticipantViewRegistration) -> ParticipantViewRegistrationOut:
    return ParticipantViewRegistrationOut(
        id=resource_id(r.registration, "registrations"), session_id=resource_id(r.session, "sessions"),
        event_id=resource_id(r.event, "events") or None, event_title=r.event_title or None,
        service_id=resource_id(r.service, "services") or None, service=r.service_display_name or None,
        venue_id=resource_id(r.venue, "venues") or None, venue=r.venue_display_name or None,
        starts_at=to_datetime(r.start_time), ends_at=to_datetime(r.end_time), state=r.state,
        attendance=r.attendance, registered_at=to_datetime(r.register_time), registered_by=r.registered_by,
        expires_at=to_datetime(r.expire_time), waitlist_position=r.waitlist_position or None,
        end_reason=r.end_reason or None, missed=r.missed)


@router.get("/v1/participants/{participant_id}/view", response_model=ParticipantViewOut)
async def participant_view(
        participant_id: str, reporting: ReportingBackend, principal: CurrentPrincipal,
        when: str = Query(default="all", description="upcoming: sessions not ended, soonest first; past: ended, "
                                                     "latest first (each with `missed`); all (default): every one, "
                                                     "latest first"),
        page_size: PageSize = 0, page_token: PageToken = "",
) -> ParticipantViewOut:
    """The read model of a participant's page: metrics and registrations. Staff and analysts
    see anyone's; a participant sees their own. An unknown participant has an empty view."""
    if not (principal.has_any(*READERS) or principal.participant_id == participant_id):
        raise problems.forbidden("a participant may see only their own registrations")
    if when not in _VIEW_TIMING:
        raise problems.Problem(400, "validation_failed", f"when: must be upcoming, past or all, got {when!r}",
                               errors=[problems.FieldError("when", "must be upcoming, past or all")])
    request = reporting_service_pb2.GetParticipantViewRequest(
        name=resource_name("participants", participant_id) + "/view", when=_VIEW_TIMING[when], page_size=page_size,
        page_token=page_token)
    v = await reporting.call(reporting.stub.GetParticipantView, request, fields={"name": "participant_id"})
    m = v.metrics
    return ParticipantViewOut(
        participant_id=participant_id,
        metrics=ParticipantMetricsOut(participant_id=participant_id, registrations=m.registrations,
                                      cancellations=m.cancellations, attended=m.attended, no_shows=m.no_shows,
                                      upcoming=m.upcoming, no_show_rate=m.no_show_rate),
        registrations=[_view_registration(r) for r in v.registrations], next_page_token=v.next_page_token or None)
