import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

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
    __slots__ = ("held", "confirmed", "waitlisted", "offered", "cancelled", "declined", "expired", "expected", "attended", "no_show", "registered")
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
    def __init__(self, held: _Optional[int] = ..., confirmed: _Optional[int] = ..., waitlisted: _Optional[int] = ..., offered: _Optional[int] = ..., cancelled: _Optional[int] = ..., declined: _Optional[int] = ..., expired: _Optional[int] = ..., expected: _Optional[int] = ..., attended: _Optional[int] = ..., no_show: _Optional[int] = ..., registered: _Optional[int] = ...) -> None: ...

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
