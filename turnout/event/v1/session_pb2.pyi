import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from turnout.event.v1 import event_pb2 as _event_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class OccurrenceState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    OCCURRENCE_STATE_UNSPECIFIED: _ClassVar[OccurrenceState]
    OCCURRENCE_STATE_SCHEDULED: _ClassVar[OccurrenceState]
    OCCURRENCE_STATE_CONFIRMING: _ClassVar[OccurrenceState]
    OCCURRENCE_STATE_READY: _ClassVar[OccurrenceState]
    OCCURRENCE_STATE_RUNNING: _ClassVar[OccurrenceState]
    OCCURRENCE_STATE_FINISHED: _ClassVar[OccurrenceState]
    OCCURRENCE_STATE_CANCELLED: _ClassVar[OccurrenceState]
OCCURRENCE_STATE_UNSPECIFIED: OccurrenceState
OCCURRENCE_STATE_SCHEDULED: OccurrenceState
OCCURRENCE_STATE_CONFIRMING: OccurrenceState
OCCURRENCE_STATE_READY: OccurrenceState
OCCURRENCE_STATE_RUNNING: OccurrenceState
OCCURRENCE_STATE_FINISHED: OccurrenceState
OCCURRENCE_STATE_CANCELLED: OccurrenceState

class Occurrence(_message.Message):
    __slots__ = ("name", "event", "date", "capacity", "participants", "state", "state_change_time", "start_time", "end_time", "sessions")
    NAME_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    DATE_FIELD_NUMBER: _ClassVar[int]
    CAPACITY_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANTS_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    STATE_CHANGE_TIME_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    SESSIONS_FIELD_NUMBER: _ClassVar[int]
    name: str
    event: str
    date: str
    capacity: int
    participants: int
    state: OccurrenceState
    state_change_time: _timestamp_pb2.Timestamp
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    sessions: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, name: _Optional[str] = ..., event: _Optional[str] = ..., date: _Optional[str] = ..., capacity: _Optional[int] = ..., participants: _Optional[int] = ..., state: _Optional[_Union[OccurrenceState, str]] = ..., state_change_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., sessions: _Optional[_Iterable[str]] = ...) -> None: ...

class Session(_message.Message):
    __slots__ = ("name", "event", "occurrence", "service", "venue", "start_time", "end_time", "capacity", "booking_window_days", "held", "confirmed", "available", "template_key", "event_title", "service_display_name", "venue_display_name", "pools")
    NAME_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    OCCURRENCE_FIELD_NUMBER: _ClassVar[int]
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    VENUE_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    CAPACITY_FIELD_NUMBER: _ClassVar[int]
    BOOKING_WINDOW_DAYS_FIELD_NUMBER: _ClassVar[int]
    HELD_FIELD_NUMBER: _ClassVar[int]
    CONFIRMED_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_KEY_FIELD_NUMBER: _ClassVar[int]
    EVENT_TITLE_FIELD_NUMBER: _ClassVar[int]
    SERVICE_DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    VENUE_DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    POOLS_FIELD_NUMBER: _ClassVar[int]
    name: str
    event: str
    occurrence: str
    service: str
    venue: str
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    capacity: int
    booking_window_days: int
    held: int
    confirmed: int
    available: int
    template_key: str
    event_title: str
    service_display_name: str
    venue_display_name: str
    pools: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, name: _Optional[str] = ..., event: _Optional[str] = ..., occurrence: _Optional[str] = ..., service: _Optional[str] = ..., venue: _Optional[str] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., capacity: _Optional[int] = ..., booking_window_days: _Optional[int] = ..., held: _Optional[int] = ..., confirmed: _Optional[int] = ..., available: _Optional[int] = ..., template_key: _Optional[str] = ..., event_title: _Optional[str] = ..., service_display_name: _Optional[str] = ..., venue_display_name: _Optional[str] = ..., pools: _Optional[_Iterable[str]] = ...) -> None: ...

class Pool(_message.Message):
    __slots__ = ("name", "occurrence", "display_name", "limit", "used", "sessions")
    NAME_FIELD_NUMBER: _ClassVar[int]
    OCCURRENCE_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    USED_FIELD_NUMBER: _ClassVar[int]
    SESSIONS_FIELD_NUMBER: _ClassVar[int]
    name: str
    occurrence: str
    display_name: str
    limit: int
    used: int
    sessions: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, name: _Optional[str] = ..., occurrence: _Optional[str] = ..., display_name: _Optional[str] = ..., limit: _Optional[int] = ..., used: _Optional[int] = ..., sessions: _Optional[_Iterable[str]] = ...) -> None: ...

class OccurrenceRounds(_message.Message):
    __slots__ = ("name", "occurrence", "event", "format", "seed", "start_time", "end_time", "groups", "create_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    OCCURRENCE_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    GROUPS_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    occurrence: str
    event: str
    format: _event_pb2.RoundsFormat
    seed: int
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    groups: _containers.RepeatedCompositeFieldContainer[RoundsGroup]
    create_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., occurrence: _Optional[str] = ..., event: _Optional[str] = ..., format: _Optional[_Union[_event_pb2.RoundsFormat, _Mapping]] = ..., seed: _Optional[int] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., groups: _Optional[_Iterable[_Union[RoundsGroup, _Mapping]]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class RoundsGroup(_message.Message):
    __slots__ = ("index", "participants", "rounds")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANTS_FIELD_NUMBER: _ClassVar[int]
    ROUNDS_FIELD_NUMBER: _ClassVar[int]
    index: int
    participants: _containers.RepeatedScalarFieldContainer[str]
    rounds: _containers.RepeatedCompositeFieldContainer[Round]
    def __init__(self, index: _Optional[int] = ..., participants: _Optional[_Iterable[str]] = ..., rounds: _Optional[_Iterable[_Union[Round, _Mapping]]] = ...) -> None: ...

class Round(_message.Message):
    __slots__ = ("index", "start_time", "end_time", "pairs", "resting")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    PAIRS_FIELD_NUMBER: _ClassVar[int]
    RESTING_FIELD_NUMBER: _ClassVar[int]
    index: int
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    pairs: _containers.RepeatedCompositeFieldContainer[RoundPair]
    resting: str
    def __init__(self, index: _Optional[int] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., pairs: _Optional[_Iterable[_Union[RoundPair, _Mapping]]] = ..., resting: _Optional[str] = ...) -> None: ...

class RoundPair(_message.Message):
    __slots__ = ("first", "second")
    FIRST_FIELD_NUMBER: _ClassVar[int]
    SECOND_FIELD_NUMBER: _ClassVar[int]
    first: str
    second: str
    def __init__(self, first: _Optional[str] = ..., second: _Optional[str] = ...) -> None: ...
