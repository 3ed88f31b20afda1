import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class EventKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EVENT_KIND_UNSPECIFIED: _ClassVar[EventKind]
    EVENT_KIND_ONE_OFF: _ClassVar[EventKind]
    EVENT_KIND_RECURRING: _ClassVar[EventKind]

class EventStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EVENT_STATUS_UNSPECIFIED: _ClassVar[EventStatus]
    EVENT_STATUS_ACTIVE: _ClassVar[EventStatus]
    EVENT_STATUS_ARCHIVED: _ClassVar[EventStatus]

class Frequency(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FREQUENCY_UNSPECIFIED: _ClassVar[Frequency]
    FREQUENCY_DAILY: _ClassVar[Frequency]
    FREQUENCY_WEEKLY: _ClassVar[Frequency]
    FREQUENCY_MONTHLY: _ClassVar[Frequency]
EVENT_KIND_UNSPECIFIED: EventKind
EVENT_KIND_ONE_OFF: EventKind
EVENT_KIND_RECURRING: EventKind
EVENT_STATUS_UNSPECIFIED: EventStatus
EVENT_STATUS_ACTIVE: EventStatus
EVENT_STATUS_ARCHIVED: EventStatus
FREQUENCY_UNSPECIFIED: Frequency
FREQUENCY_DAILY: Frequency
FREQUENCY_WEEKLY: Frequency
FREQUENCY_MONTHLY: Frequency

class Event(_message.Message):
    __slots__ = ("name", "title", "venue", "capacity", "kind", "first_date", "recurrence", "sessions", "pools", "max_sessions_per_participant", "time_zone", "status", "schedule_text", "create_time", "update_time", "venue_display_name", "lifecycle", "rounds")
    NAME_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    VENUE_FIELD_NUMBER: _ClassVar[int]
    CAPACITY_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    FIRST_DATE_FIELD_NUMBER: _ClassVar[int]
    RECURRENCE_FIELD_NUMBER: _ClassVar[int]
    SESSIONS_FIELD_NUMBER: _ClassVar[int]
    POOLS_FIELD_NUMBER: _ClassVar[int]
    MAX_SESSIONS_PER_PARTICIPANT_FIELD_NUMBER: _ClassVar[int]
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_TEXT_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    VENUE_DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    LIFECYCLE_FIELD_NUMBER: _ClassVar[int]
    ROUNDS_FIELD_NUMBER: _ClassVar[int]
    name: str
    title: str
    venue: str
    capacity: int
    kind: EventKind
    first_date: str
    recurrence: Recurrence
    sessions: _containers.RepeatedCompositeFieldContainer[SessionTemplate]
    pools: _containers.RepeatedCompositeFieldContainer[PoolTemplate]
    max_sessions_per_participant: int
    time_zone: str
    status: EventStatus
    schedule_text: str
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    venue_display_name: str
    lifecycle: LifecyclePolicy
    rounds: RoundsFormat
    def __init__(self, name: _Optional[str] = ..., title: _Optional[str] = ..., venue: _Optional[str] = ..., capacity: _Optional[int] = ..., kind: _Optional[_Union[EventKind, str]] = ..., first_date: _Optional[str] = ..., recurrence: _Optional[_Union[Recurrence, _Mapping]] = ..., sessions: _Optional[_Iterable[_Union[SessionTemplate, _Mapping]]] = ..., pools: _Optional[_Iterable[_Union[PoolTemplate, _Mapping]]] = ..., max_sessions_per_participant: _Optional[int] = ..., time_zone: _Optional[str] = ..., status: _Optional[_Union[EventStatus, str]] = ..., schedule_text: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., venue_display_name: _Optional[str] = ..., lifecycle: _Optional[_Union[LifecyclePolicy, _Mapping]] = ..., rounds: _Optional[_Union[RoundsFormat, _Mapping]] = ...) -> None: ...

class LifecyclePolicy(_message.Message):
    __slots__ = ("confirming_before", "reconfirmation_deadline_before", "keep_unanswered", "reminders", "reminders_default")
    CONFIRMING_BEFORE_FIELD_NUMBER: _ClassVar[int]
    RECONFIRMATION_DEADLINE_BEFORE_FIELD_NUMBER: _ClassVar[int]
    KEEP_UNANSWERED_FIELD_NUMBER: _ClassVar[int]
    REMINDERS_FIELD_NUMBER: _ClassVar[int]
    REMINDERS_DEFAULT_FIELD_NUMBER: _ClassVar[int]
    confirming_before: _duration_pb2.Duration
    reconfirmation_deadline_before: _duration_pb2.Duration
    keep_unanswered: bool
    reminders: _containers.RepeatedCompositeFieldContainer[_duration_pb2.Duration]
    reminders_default: bool
    def __init__(self, confirming_before: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., reconfirmation_deadline_before: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., keep_unanswered: _Optional[bool] = ..., reminders: _Optional[_Iterable[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]]] = ..., reminders_default: _Optional[bool] = ...) -> None: ...

class RoundsFormat(_message.Message):
    __slots__ = ("round_minutes", "break_minutes", "group_size")
    ROUND_MINUTES_FIELD_NUMBER: _ClassVar[int]
    BREAK_MINUTES_FIELD_NUMBER: _ClassVar[int]
    GROUP_SIZE_FIELD_NUMBER: _ClassVar[int]
    round_minutes: int
    break_minutes: int
    group_size: int
    def __init__(self, round_minutes: _Optional[int] = ..., break_minutes: _Optional[int] = ..., group_size: _Optional[int] = ...) -> None: ...

class Recurrence(_message.Message):
    __slots__ = ("frequency", "interval", "until_date", "count")
    FREQUENCY_FIELD_NUMBER: _ClassVar[int]
    INTERVAL_FIELD_NUMBER: _ClassVar[int]
    UNTIL_DATE_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    frequency: Frequency
    interval: int
    until_date: str
    count: int
    def __init__(self, frequency: _Optional[_Union[Frequency, str]] = ..., interval: _Optional[int] = ..., until_date: _Optional[str] = ..., count: _Optional[int] = ...) -> None: ...

class SessionTemplate(_message.Message):
    __slots__ = ("key", "service", "start_time", "duration_minutes", "capacity", "booking_window_days")
    KEY_FIELD_NUMBER: _ClassVar[int]
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    DURATION_MINUTES_FIELD_NUMBER: _ClassVar[int]
    CAPACITY_FIELD_NUMBER: _ClassVar[int]
    BOOKING_WINDOW_DAYS_FIELD_NUMBER: _ClassVar[int]
    key: str
    service: str
    start_time: str
    duration_minutes: int
    capacity: int
    booking_window_days: int
    def __init__(self, key: _Optional[str] = ..., service: _Optional[str] = ..., start_time: _Optional[str] = ..., duration_minutes: _Optional[int] = ..., capacity: _Optional[int] = ..., booking_window_days: _Optional[int] = ...) -> None: ...

class PoolTemplate(_message.Message):
    __slots__ = ("display_name", "limit", "session_keys")
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    SESSION_KEYS_FIELD_NUMBER: _ClassVar[int]
    display_name: str
    limit: int
    session_keys: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, display_name: _Optional[str] = ..., limit: _Optional[int] = ..., session_keys: _Optional[_Iterable[str]] = ...) -> None: ...
