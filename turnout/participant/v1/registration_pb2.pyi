import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Reconfirmation(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RECONFIRMATION_UNSPECIFIED: _ClassVar[Reconfirmation]
    RECONFIRMATION_REQUESTED: _ClassVar[Reconfirmation]
    RECONFIRMATION_CONFIRMED: _ClassVar[Reconfirmation]
    RECONFIRMATION_DECLINED: _ClassVar[Reconfirmation]
    RECONFIRMATION_UNANSWERED_KEPT: _ClassVar[Reconfirmation]
    RECONFIRMATION_UNANSWERED_RELEASED: _ClassVar[Reconfirmation]

class ReconfirmationAnswer(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RECONFIRMATION_ANSWER_UNSPECIFIED: _ClassVar[ReconfirmationAnswer]
    RECONFIRMATION_ANSWER_CONFIRM: _ClassVar[ReconfirmationAnswer]
    RECONFIRMATION_ANSWER_DECLINE: _ClassVar[ReconfirmationAnswer]

class RegistrationState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REGISTRATION_STATE_UNSPECIFIED: _ClassVar[RegistrationState]
    REGISTRATION_STATE_HELD: _ClassVar[RegistrationState]
    REGISTRATION_STATE_CONFIRMED: _ClassVar[RegistrationState]
    REGISTRATION_STATE_CANCELLED: _ClassVar[RegistrationState]
    REGISTRATION_STATE_EXPIRED: _ClassVar[RegistrationState]
    REGISTRATION_STATE_WAITLISTED: _ClassVar[RegistrationState]
    REGISTRATION_STATE_OFFERED: _ClassVar[RegistrationState]
    REGISTRATION_STATE_DECLINED: _ClassVar[RegistrationState]

class Attendance(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ATTENDANCE_UNSPECIFIED: _ClassVar[Attendance]
    ATTENDANCE_EXPECTED: _ClassVar[Attendance]
    ATTENDANCE_ATTENDED: _ClassVar[Attendance]
    ATTENDANCE_NO_SHOW: _ClassVar[Attendance]

class EndReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    END_REASON_UNSPECIFIED: _ClassVar[EndReason]
    END_REASON_CANCELLED: _ClassVar[EndReason]
    END_REASON_EXPIRED: _ClassVar[EndReason]
    END_REASON_DECLINED: _ClassVar[EndReason]
    END_REASON_SEAT_LOST: _ClassVar[EndReason]
    END_REASON_RECONFIRMATION_DECLINED: _ClassVar[EndReason]
    END_REASON_NOT_RECONFIRMED: _ClassVar[EndReason]
RECONFIRMATION_UNSPECIFIED: Reconfirmation
RECONFIRMATION_REQUESTED: Reconfirmation
RECONFIRMATION_CONFIRMED: Reconfirmation
RECONFIRMATION_DECLINED: Reconfirmation
RECONFIRMATION_UNANSWERED_KEPT: Reconfirmation
RECONFIRMATION_UNANSWERED_RELEASED: Reconfirmation
RECONFIRMATION_ANSWER_UNSPECIFIED: ReconfirmationAnswer
RECONFIRMATION_ANSWER_CONFIRM: ReconfirmationAnswer
RECONFIRMATION_ANSWER_DECLINE: ReconfirmationAnswer
REGISTRATION_STATE_UNSPECIFIED: RegistrationState
REGISTRATION_STATE_HELD: RegistrationState
REGISTRATION_STATE_CONFIRMED: RegistrationState
REGISTRATION_STATE_CANCELLED: RegistrationState
REGISTRATION_STATE_EXPIRED: RegistrationState
REGISTRATION_STATE_WAITLISTED: RegistrationState
REGISTRATION_STATE_OFFERED: RegistrationState
REGISTRATION_STATE_DECLINED: RegistrationState
ATTENDANCE_UNSPECIFIED: Attendance
ATTENDANCE_EXPECTED: Attendance
ATTENDANCE_ATTENDED: Attendance
ATTENDANCE_NO_SHOW: Attendance
END_REASON_UNSPECIFIED: EndReason
END_REASON_CANCELLED: EndReason
END_REASON_EXPIRED: EndReason
END_REASON_DECLINED: EndReason
END_REASON_SEAT_LOST: EndReason
END_REASON_RECONFIRMATION_DECLINED: EndReason
END_REASON_NOT_RECONFIRMED: EndReason

class Registration(_message.Message):
    __slots__ = ("name", "participant", "session", "state", "expire_time", "attendance", "attendance_comment", "comment", "registered_by", "capacity_override", "seat", "create_time", "update_time", "session_start_time", "session_end_time", "event", "waitlist_position", "cancelled_by", "missed", "end_reason", "reconfirmation", "reconfirmation_deadline")
    NAME_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANT_FIELD_NUMBER: _ClassVar[int]
    SESSION_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    ATTENDANCE_FIELD_NUMBER: _ClassVar[int]
    ATTENDANCE_COMMENT_FIELD_NUMBER: _ClassVar[int]
    COMMENT_FIELD_NUMBER: _ClassVar[int]
    REGISTERED_BY_FIELD_NUMBER: _ClassVar[int]
    CAPACITY_OVERRIDE_FIELD_NUMBER: _ClassVar[int]
    SEAT_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    SESSION_START_TIME_FIELD_NUMBER: _ClassVar[int]
    SESSION_END_TIME_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    WAITLIST_POSITION_FIELD_NUMBER: _ClassVar[int]
    CANCELLED_BY_FIELD_NUMBER: _ClassVar[int]
    MISSED_FIELD_NUMBER: _ClassVar[int]
    END_REASON_FIELD_NUMBER: _ClassVar[int]
    RECONFIRMATION_FIELD_NUMBER: _ClassVar[int]
    RECONFIRMATION_DEADLINE_FIELD_NUMBER: _ClassVar[int]
    name: str
    participant: str
    session: str
    state: RegistrationState
    expire_time: _timestamp_pb2.Timestamp
    attendance: Attendance
    attendance_comment: str
    comment: str
    registered_by: str
    capacity_override: bool
    seat: str
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    session_start_time: _timestamp_pb2.Timestamp
    session_end_time: _timestamp_pb2.Timestamp
    event: str
    waitlist_position: int
    cancelled_by: str
    missed: bool
    end_reason: EndReason
    reconfirmation: Reconfirmation
    reconfirmation_deadline: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., participant: _Optional[str] = ..., session: _Optional[str] = ..., state: _Optional[_Union[RegistrationState, str]] = ..., expire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., attendance: _Optional[_Union[Attendance, str]] = ..., attendance_comment: _Optional[str] = ..., comment: _Optional[str] = ..., registered_by: _Optional[str] = ..., capacity_override: _Optional[bool] = ..., seat: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., session_start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., session_end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., event: _Optional[str] = ..., waitlist_position: _Optional[int] = ..., cancelled_by: _Optional[str] = ..., missed: _Optional[bool] = ..., end_reason: _Optional[_Union[EndReason, str]] = ..., reconfirmation: _Optional[_Union[Reconfirmation, str]] = ..., reconfirmation_deadline: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
