from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class Service(_message.Message):
    __slots__ = ("name", "display_name", "default_capacity", "default_booking_window_days", "default_duration_minutes")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_CAPACITY_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_BOOKING_WINDOW_DAYS_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_DURATION_MINUTES_FIELD_NUMBER: _ClassVar[int]
    name: str
    display_name: str
    default_capacity: int
    default_booking_window_days: int
    default_duration_minutes: int
    def __init__(self, name: _Optional[str] = ..., display_name: _Optional[str] = ..., default_capacity: _Optional[int] = ..., default_booking_window_days: _Optional[int] = ..., default_duration_minutes: _Optional[int] = ...) -> None: ...
