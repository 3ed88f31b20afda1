import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RebuildSource(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REBUILD_SOURCE_UNSPECIFIED: _ClassVar[RebuildSource]
    REBUILD_SOURCE_AUTO: _ClassVar[RebuildSource]
    REBUILD_SOURCE_TOPICS: _ClassVar[RebuildSource]
    REBUILD_SOURCE_OUTBOX: _ClassVar[RebuildSource]

class RebuildState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REBUILD_STATE_UNSPECIFIED: _ClassVar[RebuildState]
    REBUILD_STATE_RUNNING: _ClassVar[RebuildState]
    REBUILD_STATE_SUCCEEDED: _ClassVar[RebuildState]
    REBUILD_STATE_FAILED: _ClassVar[RebuildState]

class ParticipantViewTiming(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PARTICIPANT_VIEW_TIMING_UNSPECIFIED: _ClassVar[ParticipantViewTiming]
    PARTICIPANT_VIEW_TIMING_UPCOMING: _ClassVar[ParticipantViewTiming]
    PARTICIPANT_VIEW_TIMING_PAST: _ClassVar[ParticipantViewTiming]
    PARTICIPANT_VIEW_TIMING_ALL: _ClassVar[ParticipantViewTiming]
REBUILD_SOURCE_UNSPECIFIED: RebuildSource
REBUILD_SOURCE_AUTO: RebuildSource
REBUILD_SOURCE_TOPICS: RebuildSource
REBUILD_SOURCE_OUTBOX: RebuildSource
REBUILD_STATE_UNSPECIFIED: RebuildState
REBUILD_STATE_RUNNING: RebuildState
REBUILD_STATE_SUCCEEDED: RebuildState
REBUILD_STATE_FAILED: RebuildState
PARTICIPANT_VIEW_TIMING_UNSPECIFIED: ParticipantViewTiming
PARTICIPANT_VIEW_TIMING_UPCOMING: ParticipantViewTiming
PARTICIPANT_VIEW_TIMING_PAST: ParticipantViewTiming
PARTICIPANT_VIEW_TIMING_ALL: ParticipantViewTiming

class GetVenueStatsRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class VenueStats(_message.Message):
    __slots__ = ("name", "display_name", "address", "event_count", "projected_version", "update_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    EVENT_COUNT_FIELD_NUMBER: _ClassVar[int]
    PROJECTED_VERSION_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    display_name: str
    address: str
    event_count: int
    projected_version: int
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., display_name: _Optional[str] = ..., address: _Optional[str] = ..., event_count: _Optional[int] = ..., projected_version: _Optional[int] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetProjectionStatsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ProjectionStats(_message.Message):
    __slots__ = ("applied_events", "skipped_duplicates", "venue_count", "participant_count")
    APPLIED_EVENTS_FIELD_NUMBER: _ClassVar[int]
    SKIPPED_DUPLICATES_FIELD_NUMBER: _ClassVar[int]
    VENUE_COUNT_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANT_COUNT_FIELD_NUMBER: _ClassVar[int]
    applied_events: int
    skipped_duplicates: int
    venue_count: int
    participant_count: int
    def __init__(self, applied_events: _Optional[int] = ..., skipped_duplicates: _Optional[int] = ..., venue_count: _Optional[int] = ..., participant_count: _Optional[int] = ...) -> None: ...

class GetSessionAvailabilityRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class SessionAvailability(_message.Message):
    __slots__ = ("name", "capacity", "held", "confirmed", "available", "occurrence", "pools", "update_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    CAPACITY_FIELD_NUMBER: _ClassVar[int]
    HELD_FIELD_NUMBER: _ClassVar[int]
    CONFIRMED_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_FIELD_NUMBER: _ClassVar[int]
    OCCURRENCE_FIELD_NUMBER: _ClassVar[int]
    POOLS_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    capacity: int
    held: int
    confirmed: int
    available: int
    occurrence: OccurrenceAvailability
    pools: _containers.RepeatedCompositeFieldContainer[PoolAvailability]
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., capacity: _Optional[int] = ..., held: _Optional[int] = ..., confirmed: _Optional[int] = ..., available: _Optional[int] = ..., occurrence: _Optional[_Union[OccurrenceAvailability, _Mapping]] = ..., pools: _Optional[_Iterable[_Union[PoolAvailability, _Mapping]]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class OccurrenceAvailability(_message.Message):
    __slots__ = ("occurrence", "capacity", "participants", "available")
    OCCURRENCE_FIELD_NUMBER: _ClassVar[int]
    CAPACITY_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANTS_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_FIELD_NUMBER: _ClassVar[int]
    occurrence: str
    capacity: int
    participants: int
    available: int
    def __init__(self, occurrence: _Optional[str] = ..., capacity: _Optional[int] = ..., participants: _Optional[int] = ..., available: _Optional[int] = ...) -> None: ...

class PoolAvailability(_message.Message):
    __slots__ = ("pool", "limit", "used", "available")
    POOL_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    USED_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_FIELD_NUMBER: _ClassVar[int]
    pool: str
    limit: int
    used: int
    available: int
    def __init__(self, pool: _Optional[str] = ..., limit: _Optional[int] = ..., used: _Optional[int] = ..., available: _Optional[int] = ...) -> None: ...

class GetSessionStatsRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetEventStatsRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetParticipantMetricsRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class RegistrationCounts(_message.Message):
    __slots__ = ("held", "confirmed", "waitlisted", "offered", "cancelled", "declined", "expired", "expected", "attended", "no_show", "registered", "reconfirmation_confirmed", "reconfirmation_declined", "reconfirmation_no_answer")
    HELD_FIELD_NUMBER: _ClassVar[int]
    CONFIRMED_FIELD_NUMBER: _ClassVar[int]
    WAITLISTED_FIELD_NUMBER: _ClassVar[int]
    OFFERED_FIELD_NUMBER: _ClassVar[int]
    CANCELLED_FIELD_NUMBER: _ClassVar[int]
    DECLINED_FIELD_NUMBER: _ClassVar[int]
    EXPIRED_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_FIELD_NUMBER: _ClassVar[int]
    ATTENDED_FIELD_NUMBER: _ClassVar[int]
    NO_SHOW_FIELD_NUMBER: _ClassVar[int]
    REGISTERED_FIELD_NUMBER: _ClassVar[int]
    RECONFIRMATION_CONFIRMED_FIELD_NUMBER: _ClassVar[int]
    RECONFIRMATION_DECLINED_FIELD_NUMBER: _ClassVar[int]
    RECONFIRMATION_NO_ANSWER_FIELD_NUMBER: _ClassVar[int]
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
    registered: int
    reconfirmation_confirmed: int
    reconfirmation_declined: int
    reconfirmation_no_answer: int
    def __init__(self, held: _Optional[int] = ..., confirmed: _Optional[int] = ..., waitlisted: _Optional[int] = ..., offered: _Optional[int] = ..., cancelled: _Optional[int] = ..., declined: _Optional[int] = ..., expired: _Optional[int] = ..., expected: _Optional[int] = ..., attended: _Optional[int] = ..., no_show: _Optional[int] = ..., registered: _Optional[int] = ..., reconfirmation_confirmed: _Optional[int] = ..., reconfirmation_declined: _Optional[int] = ..., reconfirmation_no_answer: _Optional[int] = ...) -> None: ...

class SessionStats(_message.Message):
    __slots__ = ("name", "event", "service", "venue", "counts", "capacity", "seats_left", "waitlist_length")
    NAME_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    VENUE_FIELD_NUMBER: _ClassVar[int]
    COUNTS_FIELD_NUMBER: _ClassVar[int]
    CAPACITY_FIELD_NUMBER: _ClassVar[int]
    SEATS_LEFT_FIELD_NUMBER: _ClassVar[int]
    WAITLIST_LENGTH_FIELD_NUMBER: _ClassVar[int]
    name: str
    event: str
    service: str
    venue: str
    counts: RegistrationCounts
    capacity: int
    seats_left: int
    waitlist_length: int
    def __init__(self, name: _Optional[str] = ..., event: _Optional[str] = ..., service: _Optional[str] = ..., venue: _Optional[str] = ..., counts: _Optional[_Union[RegistrationCounts, _Mapping]] = ..., capacity: _Optional[int] = ..., seats_left: _Optional[int] = ..., waitlist_length: _Optional[int] = ...) -> None: ...

class GroupStats(_message.Message):
    __slots__ = ("key", "counts", "capacity", "seats_left", "waitlist_length")
    KEY_FIELD_NUMBER: _ClassVar[int]
    COUNTS_FIELD_NUMBER: _ClassVar[int]
    CAPACITY_FIELD_NUMBER: _ClassVar[int]
    SEATS_LEFT_FIELD_NUMBER: _ClassVar[int]
    WAITLIST_LENGTH_FIELD_NUMBER: _ClassVar[int]
    key: str
    counts: RegistrationCounts
    capacity: int
    seats_left: int
    waitlist_length: int
    def __init__(self, key: _Optional[str] = ..., counts: _Optional[_Union[RegistrationCounts, _Mapping]] = ..., capacity: _Optional[int] = ..., seats_left: _Optional[int] = ..., waitlist_length: _Optional[int] = ...) -> None: ...

class EventStats(_message.Message):
    __slots__ = ("name", "totals", "sessions", "by_service", "by_venue")
    NAME_FIELD_NUMBER: _ClassVar[int]
    TOTALS_FIELD_NUMBER: _ClassVar[int]
    SESSIONS_FIELD_NUMBER: _ClassVar[int]
    BY_SERVICE_FIELD_NUMBER: _ClassVar[int]
    BY_VENUE_FIELD_NUMBER: _ClassVar[int]
    name: str
    totals: GroupStats
    sessions: _containers.RepeatedCompositeFieldContainer[SessionStats]
    by_service: _containers.RepeatedCompositeFieldContainer[GroupStats]
    by_venue: _containers.RepeatedCompositeFieldContainer[GroupStats]
    def __init__(self, name: _Optional[str] = ..., totals: _Optional[_Union[GroupStats, _Mapping]] = ..., sessions: _Optional[_Iterable[_Union[SessionStats, _Mapping]]] = ..., by_service: _Optional[_Iterable[_Union[GroupStats, _Mapping]]] = ..., by_venue: _Optional[_Iterable[_Union[GroupStats, _Mapping]]] = ...) -> None: ...

class ParticipantMetrics(_message.Message):
    __slots__ = ("name", "registrations", "cancellations", "attended", "no_shows", "upcoming", "no_show_rate")
    NAME_FIELD_NUMBER: _ClassVar[int]
    REGISTRATIONS_FIELD_NUMBER: _ClassVar[int]
    CANCELLATIONS_FIELD_NUMBER: _ClassVar[int]
    ATTENDED_FIELD_NUMBER: _ClassVar[int]
    NO_SHOWS_FIELD_NUMBER: _ClassVar[int]
    UPCOMING_FIELD_NUMBER: _ClassVar[int]
    NO_SHOW_RATE_FIELD_NUMBER: _ClassVar[int]
    name: str
    registrations: int
    cancellations: int
    attended: int
    no_shows: int
    upcoming: int
    no_show_rate: float
    def __init__(self, name: _Optional[str] = ..., registrations: _Optional[int] = ..., cancellations: _Optional[int] = ..., attended: _Optional[int] = ..., no_shows: _Optional[int] = ..., upcoming: _Optional[int] = ..., no_show_rate: _Optional[float] = ...) -> None: ...

class CheckConsistencyRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ConsistencyReport(_message.Message):
    __slots__ = ("checked", "mismatches")
    CHECKED_FIELD_NUMBER: _ClassVar[int]
    MISMATCHES_FIELD_NUMBER: _ClassVar[int]
    checked: int
    mismatches: _containers.RepeatedCompositeFieldContainer[Mismatch]
    def __init__(self, checked: _Optional[int] = ..., mismatches: _Optional[_Iterable[_Union[Mismatch, _Mapping]]] = ...) -> None: ...

class Mismatch(_message.Message):
    __slots__ = ("key", "field", "read_model", "command_side")
    KEY_FIELD_NUMBER: _ClassVar[int]
    FIELD_FIELD_NUMBER: _ClassVar[int]
    READ_MODEL_FIELD_NUMBER: _ClassVar[int]
    COMMAND_SIDE_FIELD_NUMBER: _ClassVar[int]
    key: str
    field: str
    read_model: int
    command_side: int
    def __init__(self, key: _Optional[str] = ..., field: _Optional[str] = ..., read_model: _Optional[int] = ..., command_side: _Optional[int] = ...) -> None: ...

class StartRebuildRequest(_message.Message):
    __slots__ = ("source",)
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    source: RebuildSource
    def __init__(self, source: _Optional[_Union[RebuildSource, str]] = ...) -> None: ...

class GetRebuildRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class Rebuild(_message.Message):
    __slots__ = ("name", "state", "phase", "source", "used_source", "target", "covered", "replayed", "generation", "previous_generation", "create_time", "update_time", "end_time", "error")
    NAME_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    PHASE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    USED_SOURCE_FIELD_NUMBER: _ClassVar[int]
    TARGET_FIELD_NUMBER: _ClassVar[int]
    COVERED_FIELD_NUMBER: _ClassVar[int]
    REPLAYED_FIELD_NUMBER: _ClassVar[int]
    GENERATION_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_GENERATION_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    name: str
    state: RebuildState
    phase: str
    source: RebuildSource
    used_source: RebuildSource
    target: int
    covered: int
    replayed: int
    generation: str
    previous_generation: str
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    error: str
    def __init__(self, name: _Optional[str] = ..., state: _Optional[_Union[RebuildState, str]] = ..., phase: _Optional[str] = ..., source: _Optional[_Union[RebuildSource, str]] = ..., used_source: _Optional[_Union[RebuildSource, str]] = ..., target: _Optional[int] = ..., covered: _Optional[int] = ..., replayed: _Optional[int] = ..., generation: _Optional[str] = ..., previous_generation: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., error: _Optional[str] = ...) -> None: ...

class GetParticipantViewRequest(_message.Message):
    __slots__ = ("name", "when", "page_size", "page_token")
    NAME_FIELD_NUMBER: _ClassVar[int]
    WHEN_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    name: str
    when: ParticipantViewTiming
    page_size: int
    page_token: str
    def __init__(self, name: _Optional[str] = ..., when: _Optional[_Union[ParticipantViewTiming, str]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ParticipantView(_message.Message):
    __slots__ = ("name", "metrics", "registrations", "next_page_token")
    NAME_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    REGISTRATIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    name: str
    metrics: ParticipantMetrics
    registrations: _containers.RepeatedCompositeFieldContainer[ParticipantViewRegistration]
    next_page_token: str
    def __init__(self, name: _Optional[str] = ..., metrics: _Optional[_Union[ParticipantMetrics, _Mapping]] = ..., registrations: _Optional[_Iterable[_Union[ParticipantViewRegistration, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ParticipantViewRegistration(_message.Message):
    __slots__ = ("registration", "session", "event", "event_title", "service", "service_display_name", "venue", "venue_display_name", "start_time", "end_time", "state", "attendance", "register_time", "registered_by", "expire_time", "waitlist_position", "end_reason", "missed")
    REGISTRATION_FIELD_NUMBER: _ClassVar[int]
    SESSION_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    EVENT_TITLE_FIELD_NUMBER: _ClassVar[int]
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    SERVICE_DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    VENUE_FIELD_NUMBER: _ClassVar[int]
    VENUE_DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    ATTENDANCE_FIELD_NUMBER: _ClassVar[int]
    REGISTER_TIME_FIELD_NUMBER: _ClassVar[int]
    REGISTERED_BY_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    WAITLIST_POSITION_FIELD_NUMBER: _ClassVar[int]
    END_REASON_FIELD_NUMBER: _ClassVar[int]
    MISSED_FIELD_NUMBER: _ClassVar[int]
    registration: str
    session: str
    event: str
    event_title: str
    service: str
    service_display_name: str
    venue: str
    venue_display_name: str
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    state: str
    attendance: str
    register_time: _timestamp_pb2.Timestamp
    registered_by: str
    expire_time: _timestamp_pb2.Timestamp
    waitlist_position: int
    end_reason: str
    missed: bool
    def __init__(self, registration: _Optional[str] = ..., session: _Optional[str] = ..., event: _Optional[str] = ..., event_title: _Optional[str] = ..., service: _Optional[str] = ..., service_display_name: _Optional[str] = ..., venue: _Optional[str] = ..., venue_display_name: _Optional[str] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., state: _Optional[str] = ..., attendance: _Optional[str] = ..., register_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., registered_by: _Optional[str] = ..., expire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., waitlist_position: _Optional[int] = ..., end_reason: _Optional[str] = ..., missed: _Optional[bool] = ...) -> None: ...
