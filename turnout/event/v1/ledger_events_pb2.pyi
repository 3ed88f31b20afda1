from turnout.event.v1 import seat_pb2 as _seat_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ReleaseReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RELEASE_REASON_UNSPECIFIED: _ClassVar[ReleaseReason]
    RELEASE_REASON_CANCELLED: _ClassVar[ReleaseReason]
    RELEASE_REASON_EVENT_DELETED: _ClassVar[ReleaseReason]
RELEASE_REASON_UNSPECIFIED: ReleaseReason
RELEASE_REASON_CANCELLED: ReleaseReason
RELEASE_REASON_EVENT_DELETED: ReleaseReason

class SeatHeld(_message.Message):
    __slots__ = ("seat", "counts")
    SEAT_FIELD_NUMBER: _ClassVar[int]
    COUNTS_FIELD_NUMBER: _ClassVar[int]
    seat: _seat_pb2.Seat
    counts: _seat_pb2.SessionCounts
    def __init__(self, seat: _Optional[_Union[_seat_pb2.Seat, _Mapping]] = ..., counts: _Optional[_Union[_seat_pb2.SessionCounts, _Mapping]] = ...) -> None: ...

class SeatConfirmed(_message.Message):
    __slots__ = ("seat", "counts")
    SEAT_FIELD_NUMBER: _ClassVar[int]
    COUNTS_FIELD_NUMBER: _ClassVar[int]
    seat: _seat_pb2.Seat
    counts: _seat_pb2.SessionCounts
    def __init__(self, seat: _Optional[_Union[_seat_pb2.Seat, _Mapping]] = ..., counts: _Optional[_Union[_seat_pb2.SessionCounts, _Mapping]] = ...) -> None: ...

class SeatReleased(_message.Message):
    __slots__ = ("seat", "counts", "reason")
    SEAT_FIELD_NUMBER: _ClassVar[int]
    COUNTS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    seat: _seat_pb2.Seat
    counts: _seat_pb2.SessionCounts
    reason: ReleaseReason
    def __init__(self, seat: _Optional[_Union[_seat_pb2.Seat, _Mapping]] = ..., counts: _Optional[_Union[_seat_pb2.SessionCounts, _Mapping]] = ..., reason: _Optional[_Union[ReleaseReason, str]] = ...) -> None: ...

class SeatExpired(_message.Message):
    __slots__ = ("seat", "counts")
    SEAT_FIELD_NUMBER: _ClassVar[int]
    COUNTS_FIELD_NUMBER: _ClassVar[int]
    seat: _seat_pb2.Seat
    counts: _seat_pb2.SessionCounts
    def __init__(self, seat: _Optional[_Union[_seat_pb2.Seat, _Mapping]] = ..., counts: _Optional[_Union[_seat_pb2.SessionCounts, _Mapping]] = ...) -> None: ...
