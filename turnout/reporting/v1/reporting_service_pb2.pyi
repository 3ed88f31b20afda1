import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
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
