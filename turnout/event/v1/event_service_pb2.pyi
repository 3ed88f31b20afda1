import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import empty_pb2 as _empty_pb2
from google.protobuf import field_mask_pb2 as _field_mask_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from turnout.event.v1 import event_pb2 as _event_pb2
from turnout.event.v1 import ledger_events_pb2 as _ledger_events_pb2
from turnout.event.v1 import seat_pb2 as _seat_pb2
from turnout.event.v1 import service_pb2 as _service_pb2
from turnout.event.v1 import session_pb2 as _session_pb2
from turnout.event.v1 import venue_pb2 as _venue_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SessionTiming(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SESSION_TIMING_UNSPECIFIED: _ClassVar[SessionTiming]
    SESSION_TIMING_UPCOMING: _ClassVar[SessionTiming]
    SESSION_TIMING_PAST: _ClassVar[SessionTiming]
SESSION_TIMING_UNSPECIFIED: SessionTiming
SESSION_TIMING_UPCOMING: SessionTiming
SESSION_TIMING_PAST: SessionTiming

class CreateVenueRequest(_message.Message):
    __slots__ = ("venue", "request_id")
    VENUE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    venue: _venue_pb2.Venue
    request_id: str
    def __init__(self, venue: _Optional[_Union[_venue_pb2.Venue, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class GetVenueRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class ListVenuesRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListVenuesResponse(_message.Message):
    __slots__ = ("venues", "next_page_token")
    VENUES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    venues: _containers.RepeatedCompositeFieldContainer[_venue_pb2.Venue]
    next_page_token: str
    def __init__(self, venues: _Optional[_Iterable[_Union[_venue_pb2.Venue, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListServicesRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListServicesResponse(_message.Message):
    __slots__ = ("services", "next_page_token")
    SERVICES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    services: _containers.RepeatedCompositeFieldContainer[_service_pb2.Service]
    next_page_token: str
    def __init__(self, services: _Optional[_Iterable[_Union[_service_pb2.Service, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class CreateEventRequest(_message.Message):
    __slots__ = ("event", "request_id", "new_venue")
    EVENT_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    NEW_VENUE_FIELD_NUMBER: _ClassVar[int]
    event: _event_pb2.Event
    request_id: str
    new_venue: _venue_pb2.Venue
    def __init__(self, event: _Optional[_Union[_event_pb2.Event, _Mapping]] = ..., request_id: _Optional[str] = ..., new_venue: _Optional[_Union[_venue_pb2.Venue, _Mapping]] = ...) -> None: ...

class GetEventRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class ListEventsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "status", "kind", "from_date", "to_date", "venue", "service", "query", "participants")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    FROM_DATE_FIELD_NUMBER: _ClassVar[int]
    TO_DATE_FIELD_NUMBER: _ClassVar[int]
    VENUE_FIELD_NUMBER: _ClassVar[int]
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    QUERY_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANTS_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    status: _event_pb2.EventStatus
    kind: _event_pb2.EventKind
    from_date: str
    to_date: str
    venue: str
    service: str
    query: str
    participants: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., status: _Optional[_Union[_event_pb2.EventStatus, str]] = ..., kind: _Optional[_Union[_event_pb2.EventKind, str]] = ..., from_date: _Optional[str] = ..., to_date: _Optional[str] = ..., venue: _Optional[str] = ..., service: _Optional[str] = ..., query: _Optional[str] = ..., participants: _Optional[_Iterable[str]] = ...) -> None: ...

class ListEventsResponse(_message.Message):
    __slots__ = ("events", "next_page_token", "active_count", "archived_count")
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_COUNT_FIELD_NUMBER: _ClassVar[int]
    ARCHIVED_COUNT_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[_event_pb2.Event]
    next_page_token: str
    active_count: int
    archived_count: int
    def __init__(self, events: _Optional[_Iterable[_Union[_event_pb2.Event, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., active_count: _Optional[int] = ..., archived_count: _Optional[int] = ...) -> None: ...

class UpdateEventRequest(_message.Message):
    __slots__ = ("event", "update_mask", "request_id")
    EVENT_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    event: _event_pb2.Event
    update_mask: _field_mask_pb2.FieldMask
    request_id: str
    def __init__(self, event: _Optional[_Union[_event_pb2.Event, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class DeleteEventRequest(_message.Message):
    __slots__ = ("name", "force", "request_id")
    NAME_FIELD_NUMBER: _ClassVar[int]
    FORCE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    name: str
    force: bool
    request_id: str
    def __init__(self, name: _Optional[str] = ..., force: _Optional[bool] = ..., request_id: _Optional[str] = ...) -> None: ...

class ArchiveEventRequest(_message.Message):
    __slots__ = ("name", "confirm", "request_id")
    NAME_FIELD_NUMBER: _ClassVar[int]
    CONFIRM_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    name: str
    confirm: bool
    request_id: str
    def __init__(self, name: _Optional[str] = ..., confirm: _Optional[bool] = ..., request_id: _Optional[str] = ...) -> None: ...

class ActivateEventRequest(_message.Message):
    __slots__ = ("name", "first_date", "request_id")
    NAME_FIELD_NUMBER: _ClassVar[int]
    FIRST_DATE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    name: str
    first_date: str
    request_id: str
    def __init__(self, name: _Optional[str] = ..., first_date: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class UpdateSessionRequest(_message.Message):
    __slots__ = ("session", "update_mask", "request_id")
    SESSION_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    session: _session_pb2.Session
    update_mask: _field_mask_pb2.FieldMask
    request_id: str
    def __init__(self, session: _Optional[_Union[_session_pb2.Session, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class DeleteSessionRequest(_message.Message):
    __slots__ = ("name", "request_id")
    NAME_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    name: str
    request_id: str
    def __init__(self, name: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class GetSessionRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class ListSessionsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "event", "start_time_from", "start_time_to", "timing", "venue", "service", "participants")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FROM_FIELD_NUMBER: _ClassVar[int]
    START_TIME_TO_FIELD_NUMBER: _ClassVar[int]
    TIMING_FIELD_NUMBER: _ClassVar[int]
    VENUE_FIELD_NUMBER: _ClassVar[int]
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANTS_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    event: str
    start_time_from: _timestamp_pb2.Timestamp
    start_time_to: _timestamp_pb2.Timestamp
    timing: SessionTiming
    venue: str
    service: str
    participants: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., event: _Optional[str] = ..., start_time_from: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., start_time_to: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., timing: _Optional[_Union[SessionTiming, str]] = ..., venue: _Optional[str] = ..., service: _Optional[str] = ..., participants: _Optional[_Iterable[str]] = ...) -> None: ...

class ListSessionsResponse(_message.Message):
    __slots__ = ("sessions", "next_page_token")
    SESSIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    sessions: _containers.RepeatedCompositeFieldContainer[_session_pb2.Session]
    next_page_token: str
    def __init__(self, sessions: _Optional[_Iterable[_Union[_session_pb2.Session, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class HoldSeatRequest(_message.Message):
    __slots__ = ("session", "participant", "request_id", "ttl", "override_capacity")
    SESSION_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANT_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    TTL_FIELD_NUMBER: _ClassVar[int]
    OVERRIDE_CAPACITY_FIELD_NUMBER: _ClassVar[int]
    session: str
    participant: str
    request_id: str
    ttl: _duration_pb2.Duration
    override_capacity: bool
    def __init__(self, session: _Optional[str] = ..., participant: _Optional[str] = ..., request_id: _Optional[str] = ..., ttl: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., override_capacity: _Optional[bool] = ...) -> None: ...

class BookSeatRequest(_message.Message):
    __slots__ = ("session", "participant", "request_id", "override_capacity")
    SESSION_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANT_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    OVERRIDE_CAPACITY_FIELD_NUMBER: _ClassVar[int]
    session: str
    participant: str
    request_id: str
    override_capacity: bool
    def __init__(self, session: _Optional[str] = ..., participant: _Optional[str] = ..., request_id: _Optional[str] = ..., override_capacity: _Optional[bool] = ...) -> None: ...

class ConfirmSeatRequest(_message.Message):
    __slots__ = ("name", "request_id")
    NAME_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    name: str
    request_id: str
    def __init__(self, name: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class ReleaseSeatRequest(_message.Message):
    __slots__ = ("name", "request_id", "reason")
    NAME_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    name: str
    request_id: str
    reason: _ledger_events_pb2.ReleaseReason
    def __init__(self, name: _Optional[str] = ..., request_id: _Optional[str] = ..., reason: _Optional[_Union[_ledger_events_pb2.ReleaseReason, str]] = ...) -> None: ...

class GetSeatRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetOccurrenceRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class TransitionOccurrenceRequest(_message.Message):
    __slots__ = ("name", "target_state", "request_id")
    NAME_FIELD_NUMBER: _ClassVar[int]
    TARGET_STATE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    name: str
    target_state: _session_pb2.OccurrenceState
    request_id: str
    def __init__(self, name: _Optional[str] = ..., target_state: _Optional[_Union[_session_pb2.OccurrenceState, str]] = ..., request_id: _Optional[str] = ...) -> None: ...

class GetOccurrenceRoundsRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class ScheduleOccurrenceRoundsRequest(_message.Message):
    __slots__ = ("occurrence",)
    OCCURRENCE_FIELD_NUMBER: _ClassVar[int]
    occurrence: str
    def __init__(self, occurrence: _Optional[str] = ...) -> None: ...
