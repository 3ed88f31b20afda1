import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ParticipantKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PARTICIPANT_KIND_UNSPECIFIED: _ClassVar[ParticipantKind]
    PARTICIPANT_KIND_VISITOR: _ClassVar[ParticipantKind]
    PARTICIPANT_KIND_VOLUNTEER: _ClassVar[ParticipantKind]

class VerificationStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    VERIFICATION_STATUS_UNSPECIFIED: _ClassVar[VerificationStatus]
    VERIFICATION_STATUS_PENDING_REVIEW: _ClassVar[VerificationStatus]
    VERIFICATION_STATUS_APPROVED: _ClassVar[VerificationStatus]
    VERIFICATION_STATUS_REJECTED: _ClassVar[VerificationStatus]
PARTICIPANT_KIND_UNSPECIFIED: ParticipantKind
PARTICIPANT_KIND_VISITOR: ParticipantKind
PARTICIPANT_KIND_VOLUNTEER: ParticipantKind
VERIFICATION_STATUS_UNSPECIFIED: VerificationStatus
VERIFICATION_STATUS_PENDING_REVIEW: VerificationStatus
VERIFICATION_STATUS_APPROVED: VerificationStatus
VERIFICATION_STATUS_REJECTED: VerificationStatus

class Participant(_message.Message):
    __slots__ = ("name", "card_number", "first_name", "last_name", "kind", "create_time", "phone", "comment", "messenger_id", "messenger_username", "created_by", "verification_status", "verification_reason")
    NAME_FIELD_NUMBER: _ClassVar[int]
    CARD_NUMBER_FIELD_NUMBER: _ClassVar[int]
    FIRST_NAME_FIELD_NUMBER: _ClassVar[int]
    LAST_NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    COMMENT_FIELD_NUMBER: _ClassVar[int]
    MESSENGER_ID_FIELD_NUMBER: _ClassVar[int]
    MESSENGER_USERNAME_FIELD_NUMBER: _ClassVar[int]
    CREATED_BY_FIELD_NUMBER: _ClassVar[int]
    VERIFICATION_STATUS_FIELD_NUMBER: _ClassVar[int]
    VERIFICATION_REASON_FIELD_NUMBER: _ClassVar[int]
    name: str
    card_number: str
    first_name: str
    last_name: str
    kind: ParticipantKind
    create_time: _timestamp_pb2.Timestamp
    phone: str
    comment: str
    messenger_id: str
    messenger_username: str
    created_by: str
    verification_status: VerificationStatus
    verification_reason: str
    def __init__(self, name: _Optional[str] = ..., card_number: _Optional[str] = ..., first_name: _Optional[str] = ..., last_name: _Optional[str] = ..., kind: _Optional[_Union[ParticipantKind, str]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., phone: _Optional[str] = ..., comment: _Optional[str] = ..., messenger_id: _Optional[str] = ..., messenger_username: _Optional[str] = ..., created_by: _Optional[str] = ..., verification_status: _Optional[_Union[VerificationStatus, str]] = ..., verification_reason: _Optional[str] = ...) -> None: ...
