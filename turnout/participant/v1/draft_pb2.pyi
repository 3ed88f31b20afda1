import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from turnout.participant.v1 import participant_pb2 as _participant_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class DocumentKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DOCUMENT_KIND_UNSPECIFIED: _ClassVar[DocumentKind]
    DOCUMENT_KIND_PASSPORT: _ClassVar[DocumentKind]
    DOCUMENT_KIND_SELFIE: _ClassVar[DocumentKind]
    DOCUMENT_KIND_OTHER: _ClassVar[DocumentKind]
DOCUMENT_KIND_UNSPECIFIED: DocumentKind
DOCUMENT_KIND_PASSPORT: DocumentKind
DOCUMENT_KIND_SELFIE: DocumentKind
DOCUMENT_KIND_OTHER: DocumentKind

class Draft(_message.Message):
    __slots__ = ("name", "language", "first_name", "last_name", "kind", "phone", "comment", "messenger_id", "messenger_username", "documents", "remaining_steps", "create_time", "expire_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    FIRST_NAME_FIELD_NUMBER: _ClassVar[int]
    LAST_NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    COMMENT_FIELD_NUMBER: _ClassVar[int]
    MESSENGER_ID_FIELD_NUMBER: _ClassVar[int]
    MESSENGER_USERNAME_FIELD_NUMBER: _ClassVar[int]
    DOCUMENTS_FIELD_NUMBER: _ClassVar[int]
    REMAINING_STEPS_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    language: str
    first_name: str
    last_name: str
    kind: _participant_pb2.ParticipantKind
    phone: str
    comment: str
    messenger_id: str
    messenger_username: str
    documents: _containers.RepeatedCompositeFieldContainer[DraftDocument]
    remaining_steps: _containers.RepeatedScalarFieldContainer[str]
    create_time: _timestamp_pb2.Timestamp
    expire_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., language: _Optional[str] = ..., first_name: _Optional[str] = ..., last_name: _Optional[str] = ..., kind: _Optional[_Union[_participant_pb2.ParticipantKind, str]] = ..., phone: _Optional[str] = ..., comment: _Optional[str] = ..., messenger_id: _Optional[str] = ..., messenger_username: _Optional[str] = ..., documents: _Optional[_Iterable[_Union[DraftDocument, _Mapping]]] = ..., remaining_steps: _Optional[_Iterable[str]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., expire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class DraftDocument(_message.Message):
    __slots__ = ("id", "kind", "content_type", "size_bytes", "sha256", "filename", "upload_time")
    ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    FILENAME_FIELD_NUMBER: _ClassVar[int]
    UPLOAD_TIME_FIELD_NUMBER: _ClassVar[int]
    id: str
    kind: DocumentKind
    content_type: str
    size_bytes: int
    sha256: str
    filename: str
    upload_time: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., kind: _Optional[_Union[DocumentKind, str]] = ..., content_type: _Optional[str] = ..., size_bytes: _Optional[int] = ..., sha256: _Optional[str] = ..., filename: _Optional[str] = ..., upload_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
