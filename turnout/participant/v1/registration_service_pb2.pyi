import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from turnout.participant.v1 import registration_pb2 as _registration_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RegistrationTiming(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REGISTRATION_TIMING_UNSPECIFIED: _ClassVar[RegistrationTiming]
    REGISTRATION_TIMING_UPCOMING: _ClassVar[RegistrationTiming]
    REGISTRATION_TIMING_PAST: _ClassVar[RegistrationTiming]
REGISTRATION_TIMING_UNSPECIFIED: RegistrationTiming
REGISTRATION_TIMING_UPCOMING: RegistrationTiming
REGISTRATION_TIMING_PAST: RegistrationTiming

class CreateRegistrationRequest(_message.Message):
    __slots__ = ("session", "participant", "request_id", "hold", "hold_ttl", "comment", "override_capacity", "waitlist")
    SESSION_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANT_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    HOLD_FIELD_NUMBER: _ClassVar[int]
    HOLD_TTL_FIELD_NUMBER: _ClassVar[int]
    COMMENT_FIELD_NUMBER: _ClassVar[int]
    OVERRIDE_CAPACITY_FIELD_NUMBER: _ClassVar[int]
    WAITLIST_FIELD_NUMBER: _ClassVar[int]
    session: str
    participant: str
    request_id: str
    hold: bool
    hold_ttl: _duration_pb2.Duration
    comment: str
    override_capacity: bool
    waitlist: bool
    def __init__(self, session: _Optional[str] = ..., participant: _Optional[str] = ..., request_id: _Optional[str] = ..., hold: _Optional[bool] = ..., hold_ttl: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., comment: _Optional[str] = ..., override_capacity: _Optional[bool] = ..., waitlist: _Optional[bool] = ...) -> None: ...

class GetRegistrationRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class ListRegistrationsRequest(_message.Message):
    __slots__ = ("parent", "page_size", "page_token", "timing", "states")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TIMING_FIELD_NUMBER: _ClassVar[int]
    STATES_FIELD_NUMBER: _ClassVar[int]
    parent: str
    page_size: int
    page_token: str
    timing: RegistrationTiming
    states: _containers.RepeatedScalarFieldContainer[_registration_pb2.RegistrationState]
    def __init__(self, parent: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., timing: _Optional[_Union[RegistrationTiming, str]] = ..., states: _Optional[_Iterable[_Union[_registration_pb2.RegistrationState, str]]] = ...) -> None: ...

class ListRegistrationsResponse(_message.Message):
    __slots__ = ("registrations", "next_page_token")
    REGISTRATIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    registrations: _containers.RepeatedCompositeFieldContainer[_registration_pb2.Registration]
    next_page_token: str
    def __init__(self, registrations: _Optional[_Iterable[_Union[_registration_pb2.Registration, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ConfirmRegistrationRequest(_message.Message):
    __slots__ = ("name", "request_id")
    NAME_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    name: str
    request_id: str
    def __init__(self, name: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class CancelRegistrationRequest(_message.Message):
    __slots__ = ("name", "request_id")
    NAME_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    name: str
    request_id: str
    def __init__(self, name: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class BatchUpdateAttendanceRequest(_message.Message):
    __slots__ = ("names", "attendance", "comment", "request_id")
    NAMES_FIELD_NUMBER: _ClassVar[int]
    ATTENDANCE_FIELD_NUMBER: _ClassVar[int]
    COMMENT_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    names: _containers.RepeatedScalarFieldContainer[str]
    attendance: _registration_pb2.Attendance
    comment: str
    request_id: str
    def __init__(self, names: _Optional[_Iterable[str]] = ..., attendance: _Optional[_Union[_registration_pb2.Attendance, str]] = ..., comment: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class BatchUpdateAttendanceResponse(_message.Message):
    __slots__ = ("registrations", "failures")
    REGISTRATIONS_FIELD_NUMBER: _ClassVar[int]
    FAILURES_FIELD_NUMBER: _ClassVar[int]
    registrations: _containers.RepeatedCompositeFieldContainer[_registration_pb2.Registration]
    failures: _containers.RepeatedCompositeFieldContainer[AttendanceFailure]
    def __init__(self, registrations: _Optional[_Iterable[_Union[_registration_pb2.Registration, _Mapping]]] = ..., failures: _Optional[_Iterable[_Union[AttendanceFailure, _Mapping]]] = ...) -> None: ...

class AttendanceFailure(_message.Message):
    __slots__ = ("name", "reason", "message")
    NAME_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    name: str
    reason: str
    message: str
    def __init__(self, name: _Optional[str] = ..., reason: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class AnswerReconfirmationRequest(_message.Message):
    __slots__ = ("name", "answer", "request_id")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ANSWER_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    name: str
    answer: _registration_pb2.ReconfirmationAnswer
    request_id: str
    def __init__(self, name: _Optional[str] = ..., answer: _Optional[_Union[_registration_pb2.ReconfirmationAnswer, str]] = ..., request_id: _Optional[str] = ...) -> None: ...
