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
