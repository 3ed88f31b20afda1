import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SeatState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SEAT_STATE_UNSPECIFIED: _ClassVar[SeatState]
    SEAT_STATE_HELD: _ClassVar[SeatState]
    SEAT_STATE_CONFIRMED: _ClassVar[SeatState]
    SEAT_STATE_RELEASED: _ClassVar[SeatState]
    SEAT_STATE_EXPIRED: _ClassVar[SeatState]
SEAT_STATE_UNSPECIFIED: SeatState
SEAT_STATE_HELD: SeatState
SEAT_STATE_CONFIRMED: SeatState
SEAT_STATE_RELEASED: SeatState
SEAT_STATE_EXPIRED: SeatState

class Seat(_message.Message):
    __slots__ = ("name", "session", "participant", "state", "expire_time", "capacity_override", "create_time", "update_time", "actor")
    NAME_FIELD_NUMBER: _ClassVar[int]
    SESSION_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANT_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    CAPACITY_OVERRIDE_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    name: str
    session: str
    participant: str
    state: SeatState
    expire_time: _timestamp_pb2.Timestamp
    capacity_override: bool
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    actor: str
    def __init__(self, name: _Optional[str] = ..., session: _Optional[str] = ..., participant: _Optional[str] = ..., state: _Optional[_Union[SeatState, str]] = ..., expire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., capacity_override: _Optional[bool] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., actor: _Optional[str] = ...) -> None: ...

class SessionCounts(_message.Message):
    __slots__ = ("session", "capacity", "held", "confirmed", "occurrence", "occurrence_capacity", "occurrence_participants", "pools")
    SESSION_FIELD_NUMBER: _ClassVar[int]
    CAPACITY_FIELD_NUMBER: _ClassVar[int]
    HELD_FIELD_NUMBER: _ClassVar[int]
    CONFIRMED_FIELD_NUMBER: _ClassVar[int]
    OCCURRENCE_FIELD_NUMBER: _ClassVar[int]
    OCCURRENCE_CAPACITY_FIELD_NUMBER: _ClassVar[int]
    OCCURRENCE_PARTICIPANTS_FIELD_NUMBER: _ClassVar[int]
    POOLS_FIELD_NUMBER: _ClassVar[int]
    session: str
    capacity: int
    held: int
    confirmed: int
    occurrence: str
    occurrence_capacity: int
    occurrence_participants: int
    pools: _containers.RepeatedCompositeFieldContainer[PoolCount]
    def __init__(self, session: _Optional[str] = ..., capacity: _Optional[int] = ..., held: _Optional[int] = ..., confirmed: _Optional[int] = ..., occurrence: _Optional[str] = ..., occurrence_capacity: _Optional[int] = ..., occurrence_participants: _Optional[int] = ..., pools: _Optional[_Iterable[_Union[PoolCount, _Mapping]]] = ...) -> None: ...

class PoolCount(_message.Message):
    __slots__ = ("pool", "limit", "used")
    POOL_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    USED_FIELD_NUMBER: _ClassVar[int]
    pool: str
    limit: int
    used: int
    def __init__(self, pool: _Optional[str] = ..., limit: _Optional[int] = ..., used: _Optional[int] = ...) -> None: ...
