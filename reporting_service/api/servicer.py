"""ReportingService over gRPC: reads only the Redis read models."""

from __future__ import annotations

from datetime import datetime

from google.protobuf import timestamp_pb2

from kernel import context as request_context
from kernel.errors import InvalidArgument, NotFound, Unavailable
from reporting_service import stats
from reporting_service.api.rebuilds import RebuildMethods
from reporting_service.consistency import ConsistencyChecker
from reporting_service.participant_view import (
    ParticipantViewReader,
    ViewEntry,
    check_may_read,
    narrowed_to,
)
from reporting_service.read_models import ReadModels
from reporting_service.rebuild import Rebuilds
from turnout.reporting.v1 import reporting_service_pb2, reporting_service_pb2_grpc


def _sub_resource_id(name: str, collection: str, singleton: str) -> str:
    """The id in "{collection}/{id}/{singleton}"."""
    parts = name.split("/")
    if len(parts) != 3 or parts[0] != collection or parts[2] != singleton or not parts[1]:
        raise InvalidArgument.single("name", f"must look like {collection}/{{id}}/{singleton}, got {name!r}")
    return parts[1]


def _timestamp(iso: str) -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    if iso:
        stamp.FromDatetime(datetime.fromisoformat(iso))
    return stamp


def _counts(counts: stats.RegistrationCounts) -> reporting_service_pb2.RegistrationCounts:
    return reporting_service_pb2.RegistrationCounts(
        **{state: counts.by_state[state] for state in stats.STATES},
        **{attendance: counts.by_attendance[attendance] for attendance in stats.ATTENDANCE},
        **{f"reconfirmation_{bucket}": counts.by_reconfirmation[bucket] for bucket in stats.RECONFIRMATION},
        registered=counts.registered)


def _group(group: stats.GroupStats) -> reporting_service_pb2.GroupStats:
    return reporting_service_pb2.GroupStats(key=group.key, counts=_counts(group.counts), capacity=group.capacity,
                                            seats_left=group.seats_left,
                                            waitlist_length=group.counts.by_state["waitlisted"])


_VIEW_TIMING = {
    reporting_service_pb2.PARTICIPANT_VIEW_TIMING_UNSPECIFIED: "all",
    reporting_service_pb2.PARTICIPANT_VIEW_TIMING_ALL: "all",
    reporting_service_pb2.PARTICIPANT_VIEW_TIMING_UPCOMING: "upcoming",
    reporting_service_pb2.PARTICIPANT_VIEW_TIMING_PAST: "past",
}


def _metrics(name: str, metrics: stats.ParticipantMetrics) -> reporting_service_pb2.ParticipantMetrics:
    return reporting_service_pb2.ParticipantMetrics(
        name=name, registrations=metrics.registrations, cancellations=metrics.cancellations,
        attended=metrics.attended, no_shows=metrics.no_shows, upcoming=metrics.upcoming,
        no_show_rate=metrics.no_show_rate)


def _view_registration(e: ViewEntry) -> reporting_service_pb2.ParticipantViewRegistration:
    return reporting_service_pb2.ParticipantViewRegistration(
        registration=f"registrations/{e.registration_id}", session=f"sessions/{e.session_id}",
        event=f"events/{e.event_id}" if e.event_id else "", event_title=e.event_title,
        service=f"services/{e.service_id}" if e.service_id else "", service_display_name=e.service,
        venue=f"venues/{e.venue_id}" if e.venue_id else "", venue_display_name=e.venue,
        start_time=_timestamp(e.start_time), end_time=_timestamp(e.end_time), state=e.state,
        attendance=e.attendance, register_time=_timestamp(e.registered_at), registered_by=e.registered_by,
        expire_time=_timestamp(e.expire_time) if e.expire_time else None, waitlist_position=e.waitlist_position,
        end_reason=e.end_reason, missed=e.missed)


def _session_stats(session: stats.SessionStats) -> reporting_service_pb2.SessionStats:
    return reporting_service_pb2.SessionStats(
        name=f"sessions/{session.session_id}/stats", event=f"events/{session.event_id}",
        service=f"services/{session.service_id}", venue=f"venues/{session.venue_id}",
        counts=_counts(session.counts), capacity=session.capacity, seats_left=session.seats_left,
        waitlist_length=session.counts.by_state["waitlisted"])


def _check_reader(participant_id: str) -> None:
    ctx = request_context.current()
    check_may_read(participant_id, roles=ctx.roles, caller_participant_id=ctx.participant_id)


class ReportingServicer(RebuildMethods, reporting_service_pb2_grpc.ReportingServiceServicer):
    def __init__(self, read_models: ReadModels, stats_reader: stats.StatsReader,
                 checker: ConsistencyChecker | None = None, participant_view: ParticipantViewReader | None = None,
                 rebuilds: Rebuilds | None = None):
        self._read = read_models
        self._rebuilds = rebuilds
        self._stats = stats_reader
        self._checker = checker
        self._view = participant_view

    async def CheckConsistency(self, request, context) -> reporting_service_pb2.ConsistencyReport:
        if self._checker is None:
            raise Unavailable("this reporting-service has no database to compare with")
        report = await self._checker.check()
        return reporting_service_pb2.ConsistencyReport(checked=report.checked, mismatches=[
            reporting_service_pb2.Mismatch(key=m.key, field=m.field, read_model=m.read_model,
                                           command_side=m.command_side) for m in report.mismatches])

    async def GetSessionStats(self, request, context) -> reporting_service_pb2.SessionStats:
        session_id = _sub_resource_id(request.name, "sessions", "stats")
        session = await self._stats.session(session_id)
        if session is None:
            raise NotFound(f"no stats for session {session_id} (yet)", metadata={"resource": request.name})
        return _session_stats(session)

    async def GetEventStats(self, request, context) -> reporting_service_pb2.EventStats:
        event_id = _sub_resource_id(request.name, "events", "stats")
        event = await self._stats.event(event_id)
        if event is None:
            raise NotFound(f"no stats for event {event_id} (yet)", metadata={"resource": request.name})
        return reporting_service_pb2.EventStats(
            name=request.name, totals=_group(event.totals), sessions=[_session_stats(s) for s in event.sessions],
            by_service=[_group(g) for g in event.by_service], by_venue=[_group(g) for g in event.by_venue])

    async def GetParticipantMetrics(self, request, context) -> reporting_service_pb2.ParticipantMetrics:
        participant_id = _sub_resource_id(request.name, "participants", "metrics")
        _check_reader(participant_id)
        metrics = await self._stats.participant(participant_id)
        if metrics is None:
            raise NotFound(f"no registrations of participant {participant_id} (yet)",
                           metadata={"resource": request.name})
        return reporting_service_pb2.ParticipantMetrics(
            name=request.name, registrations=metrics.registrations, cancellations=metrics.cancellations,
            attended=metrics.attended, no_shows=metrics.no_shows, upcoming=metrics.upcoming,
            no_show_rate=metrics.no_show_rate)

    async def GetVenueStats(self, request, context) -> reporting_service_pb2.VenueStats:
        venue_id = _sub_resource_id(request.name, "venues", "stats")
        view = await self._read.venue(venue_id)
        if view is None:
            raise NotFound(f"no read model for venue {venue_id} (yet)", metadata={"resource": request.name})
        return reporting_service_pb2.VenueStats(
            name=request.name, display_name=view.display_name, address=view.address,
            event_count=view.event_count, projected_version=view.projected_version,
            update_time=_timestamp(view.update_time),
        )

    async def GetSessionAvailability(self, request, context) -> reporting_service_pb2.SessionAvailability:
        session_id = _sub_resource_id(request.name, "sessions", "availability")
        view = await self._read.availability(session_id)
        if view is None:
            raise NotFound(f"no availability for session {session_id} (yet)", metadata={"resource": request.name})
        answer = reporting_service_pb2.SessionAvailability(
            name=request.name, capacity=view.capacity, held=view.held, confirmed=view.confirmed,
            available=view.available, update_time=_timestamp(view.update_time),
            pools=[reporting_service_pb2.PoolAvailability(pool=f"pools/{p.name}", limit=p.capacity, used=p.used,
                                                          available=p.available) for p in view.pools])
        if view.occurrence is not None:
            o = view.occurrence
            answer.occurrence.CopyFrom(reporting_service_pb2.OccurrenceAvailability(
                occurrence=f"occurrences/{o.name}", capacity=o.capacity, participants=o.used, available=o.available))
        return answer

    async def GetProjectionStats(self, request, context) -> reporting_service_pb2.ProjectionStats:
        totals = await self._read.totals()
        return reporting_service_pb2.ProjectionStats(
            applied_events=totals.applied_events, skipped_duplicates=totals.skipped_duplicates,
            venue_count=totals.venue_count, participant_count=totals.participant_count,
        )

    async def GetParticipantView(self, request, context) -> reporting_service_pb2.ParticipantView:
        if self._view is None:
            raise Unavailable("this reporting-service serves no participant view")
        participant_id = _sub_resource_id(request.name, "participants", "view")
        _check_reader(participant_id)
        when = _VIEW_TIMING.get(request.when)
        if when is None:
            raise InvalidArgument.single("when", "must be UPCOMING, PAST or ALL")
        ctx = request_context.current()
        page = await self._view.page(participant_id, when=when, page_size=request.page_size,
                                     page_token=request.page_token, registered_by=narrowed_to(
                                         participant_id, roles=ctx.roles, actor=ctx.actor,
                                         caller_participant_id=ctx.participant_id))
        return reporting_service_pb2.ParticipantView(
            name=request.name, metrics=_metrics(f"participants/{participant_id}/metrics", page.metrics),
            registrations=[_view_registration(e) for e in page.registrations],
            next_page_token=page.next_page_token)
