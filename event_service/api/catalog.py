"""EventService catalog methods: translate the request, call one handler, translate the result."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from google.protobuf import empty_pb2, timestamp_pb2

from event_service.api.convert import (
    FREQUENCY_FROM_PROTO,
    KIND_FROM_PROTO,
    STATUS_FROM_PROTO,
    event_to_proto,
    policy_spec_from_proto,
    rounds_format_from_proto,
    service_to_proto,
    session_to_proto,
)
from event_service.application import access, catalog, catalog_edits
from event_service.domain.events import EventSpec, PoolSpec, RecurrenceSpec, SessionSpec
from kernel.errors import InvalidArgument
from kernel.idempotency import fingerprint
from kernel.resources import resource_id
from kernel.unit_of_work import UnitOfWorkFactory
from turnout.event.v1 import event_pb2, event_service_pb2, session_pb2

_TIMING = {event_service_pb2.SESSION_TIMING_UPCOMING: catalog.SessionTiming.UPCOMING,
           event_service_pb2.SESSION_TIMING_PAST: catalog.SessionTiming.PAST}


def _event_spec(event: event_pb2.Event) -> EventSpec:
    recurrence = None
    if event.HasField("recurrence"):
        r = event.recurrence
        recurrence = RecurrenceSpec(frequency=FREQUENCY_FROM_PROTO.get(r.frequency), interval=r.interval,
                                    until_date=r.until_date, count=r.count)
    return EventSpec(
        title=event.title, capacity=event.capacity, kind=KIND_FROM_PROTO.get(event.kind), first_date=event.first_date,
        recurrence=recurrence,
        sessions=tuple(SessionSpec(key=s.key, service=s.service, start_time=s.start_time,
                                   duration_minutes=s.duration_minutes, capacity=s.capacity,
                                   booking_window_days=s.booking_window_days) for s in event.sessions),
        pools=tuple(PoolSpec(display_name=p.display_name, limit=p.limit, session_keys=tuple(p.session_keys))
                    for p in event.pools),
        max_sessions_per_participant=event.max_sessions_per_participant, time_zone=event.time_zone,
        lifecycle=policy_spec_from_proto(event.lifecycle) if event.HasField("lifecycle") else None,
        rounds=rounds_format_from_proto(event.rounds) if event.HasField("rounds") else None,
    )


def _filter_enum(mapping: dict, value: int, field: str):
    """A filter's enum value: None when unspecified; an unknown number is the caller's mistake."""
    if value == 0:
        return None
    if value not in mapping:
        raise InvalidArgument.single(field, f"unknown value {value}")
    return mapping[value]


def _id(name: str, collection: str) -> str:
    identifier = resource_id(name, collection)
    if "\x00" in identifier:
        raise InvalidArgument.single("name", "must not contain NUL characters")
    return identifier


def _instant(request, field: str) -> datetime | None:
    if not request.HasField(field):
        return None
    value: timestamp_pb2.Timestamp = getattr(request, field)
    try:
        return value.ToDatetime(tzinfo=UTC)
    except (ValueError, OverflowError):
        raise InvalidArgument.single(field, "is not a valid timestamp") from None


class CatalogMethods:
    _uow: UnitOfWorkFactory
    _clock: Callable[[], datetime]

    async def ListServices(self, request: event_service_pb2.ListServicesRequest,
                           context) -> event_service_pb2.ListServicesResponse:
        page = await catalog.list_services(request.page_size, request.page_token, self._uow)
        return event_service_pb2.ListServicesResponse(services=[service_to_proto(s) for s in page.services],
                                                      next_page_token=page.next_page_token)

    async def CreateEvent(self, request: event_service_pb2.CreateEventRequest, context) -> event_pb2.Event:
        access.check_catalog_write("CreateEvent")
        new_venue = None
        if request.HasField("new_venue"):
            new_venue = catalog.NewVenue(display_name=request.new_venue.display_name,
                                         address=request.new_venue.address)
        command = catalog.CreateEvent(event=_event_spec(request.event), venue=request.event.venue,
                                      new_venue=new_venue, request_id=request.request_id,
                                      fingerprint=fingerprint(request))
        return event_to_proto(await catalog.create_event(command, self._uow, self._clock()))

    async def GetEvent(self, request: event_service_pb2.GetEventRequest, context) -> event_pb2.Event:
        return event_to_proto(await catalog.get_event(_id(request.name, "events"), self._uow))

    async def ListEvents(self, request: event_service_pb2.ListEventsRequest,
                         context) -> event_service_pb2.ListEventsResponse:
        query = catalog.ListEvents(
            page_size=request.page_size, page_token=request.page_token,
            status=_filter_enum(STATUS_FROM_PROTO, request.status, "status"),
            kind=_filter_enum(KIND_FROM_PROTO, request.kind, "kind"),
            from_date=request.from_date, to_date=request.to_date, venue=request.venue, service=request.service,
            query=request.query,
            participants=tuple(request.participants),
        )
        page = await catalog.list_events(query, self._uow)
        return event_service_pb2.ListEventsResponse(
            events=[event_to_proto(e) for e in page.events], next_page_token=page.next_page_token,
            active_count=page.active_count, archived_count=page.archived_count)

    async def GetSession(self, request: event_service_pb2.GetSessionRequest, context) -> session_pb2.Session:
        return session_to_proto(await catalog.get_session(_id(request.name, "sessions"), self._uow))

    async def ListSessions(self, request: event_service_pb2.ListSessionsRequest,
                           context) -> event_service_pb2.ListSessionsResponse:
        query = catalog.ListSessions(
            page_size=request.page_size, page_token=request.page_token, event=request.event,
            start_time_from=_instant(request, "start_time_from"), start_time_to=_instant(request, "start_time_to"),
            timing=_filter_enum(_TIMING, request.timing, "timing"), venue=request.venue, service=request.service,
            participants=tuple(request.participants),
        )
        page = await catalog.list_sessions(query, self._uow, self._clock())
        return event_service_pb2.ListSessionsResponse(sessions=[session_to_proto(s) for s in page.sessions],
                                                      next_page_token=page.next_page_token)


    # --- edits ---------------------------------------------------------------------------

    async def UpdateEvent(self, request: event_service_pb2.UpdateEventRequest, context) -> event_pb2.Event:
        access.check_catalog_write("UpdateEvent")
        e = request.event
        recurrence = None
        if e.HasField("recurrence"):
            r = e.recurrence
            recurrence = RecurrenceSpec(frequency=FREQUENCY_FROM_PROTO.get(r.frequency), interval=r.interval,
                                        until_date=r.until_date, count=r.count)
        command = catalog_edits.UpdateEvent(
            name=e.name, paths=tuple(request.update_mask.paths), title=e.title, venue=e.venue, capacity=e.capacity,
            recurrence=recurrence, max_sessions_per_participant=e.max_sessions_per_participant,
            lifecycle=policy_spec_from_proto(e.lifecycle) if e.HasField("lifecycle") else None,
            rounds=rounds_format_from_proto(e.rounds) if e.HasField("rounds") else None,
            request_id=request.request_id, fingerprint=fingerprint(request))
        return event_to_proto(await catalog_edits.update_event(command, self._uow, self._clock()))

    async def DeleteEvent(self, request: event_service_pb2.DeleteEventRequest, context) -> empty_pb2.Empty:
        access.check_catalog_write("DeleteEvent")
        command = catalog_edits.DeleteEvent(name=request.name, force=request.force, request_id=request.request_id,
                                            fingerprint=fingerprint(request))
        await catalog_edits.delete_event(command, self._uow, self._clock())
        return empty_pb2.Empty()

    async def ArchiveEvent(self, request: event_service_pb2.ArchiveEventRequest, context) -> event_pb2.Event:
        access.check_catalog_write("ArchiveEvent")
        command = catalog_edits.ArchiveEvent(name=request.name, confirm=request.confirm,
                                             request_id=request.request_id, fingerprint=fingerprint(request))
        return event_to_proto(await catalog_edits.archive_event(command, self._uow, self._clock()))

    async def ActivateEvent(self, request: event_service_pb2.ActivateEventRequest, context) -> event_pb2.Event:
        access.check_catalog_write("ActivateEvent")
        command = catalog_edits.ActivateEvent(name=request.name, first_date=request.first_date,
                                              request_id=request.request_id, fingerprint=fingerprint(request))
        return event_to_proto(await catalog_edits.activate_event(command, self._uow, self._clock()))

    async def UpdateSession(self, request: event_service_pb2.UpdateSessionRequest, context) -> session_pb2.Session:
        access.check_catalog_write("UpdateSession")
        paths = tuple(request.update_mask.paths)
        start = None
        if "start_time" in paths and request.session.HasField("start_time"):
            try:
                start = request.session.start_time.ToDatetime(tzinfo=UTC)
            except (ValueError, OverflowError):
                raise InvalidArgument.single("session.start_time", "is not a valid timestamp") from None
        command = catalog_edits.UpdateSession(
            name=request.session.name, paths=paths, start_time=start, capacity=request.session.capacity,
            request_id=request.request_id, fingerprint=fingerprint(request))
        return session_to_proto(await catalog_edits.update_session(command, self._uow, self._clock()))

    async def DeleteSession(self, request: event_service_pb2.DeleteSessionRequest, context) -> empty_pb2.Empty:
        access.check_catalog_write("DeleteSession")
        command = catalog_edits.DeleteSession(name=request.name, request_id=request.request_id,
                                              fingerprint=fingerprint(request))
        await catalog_edits.delete_session(command, self._uow)
        return empty_pb2.Empty()
