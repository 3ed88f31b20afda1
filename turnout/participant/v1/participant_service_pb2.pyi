from google.protobuf import field_mask_pb2 as _field_mask_pb2
from turnout.participant.v1 import draft_pb2 as _draft_pb2
from turnout.participant.v1 import participant_pb2 as _participant_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CreateParticipantRequest(_message.Message):
    __slots__ = ("participant", "request_id")
    PARTICIPANT_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    participant: _participant_pb2.Participant
    request_id: str
    def __init__(self, participant: _Optional[_Union[_participant_pb2.Participant, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class GetParticipantRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class ListParticipantsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "query")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    QUERY_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    query: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., query: _Optional[str] = ...) -> None: ...

class ListParticipantsResponse(_message.Message):
    __slots__ = ("participants", "next_page_token")
    PARTICIPANTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    participants: _containers.RepeatedCompositeFieldContainer[_participant_pb2.Participant]
    next_page_token: str
    def __init__(self, participants: _Optional[_Iterable[_Union[_participant_pb2.Participant, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class UpdateParticipantRequest(_message.Message):
    __slots__ = ("participant", "update_mask", "request_id")
    PARTICIPANT_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    participant: _participant_pb2.Participant
    update_mask: _field_mask_pb2.FieldMask
    request_id: str
    def __init__(self, participant: _Optional[_Union[_participant_pb2.Participant, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class CreateDraftRequest(_message.Message):
    __slots__ = ("draft",)
    DRAFT_FIELD_NUMBER: _ClassVar[int]
    draft: _draft_pb2.Draft
    def __init__(self, draft: _Optional[_Union[_draft_pb2.Draft, _Mapping]] = ...) -> None: ...

class GetDraftRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class UpdateDraftRequest(_message.Message):
    __slots__ = ("draft", "update_mask")
    DRAFT_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    draft: _draft_pb2.Draft
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, draft: _Optional[_Union[_draft_pb2.Draft, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class UploadDraftDocumentRequest(_message.Message):
    __slots__ = ("metadata", "chunk")
    class Metadata(_message.Message):
        __slots__ = ("draft", "kind", "filename")
        DRAFT_FIELD_NUMBER: _ClassVar[int]
        KIND_FIELD_NUMBER: _ClassVar[int]
        FILENAME_FIELD_NUMBER: _ClassVar[int]
        draft: str
        kind: _draft_pb2.DocumentKind
        filename: str
        def __init__(self, draft: _Optional[str] = ..., kind: _Optional[_Union[_draft_pb2.DocumentKind, str]] = ..., filename: _Optional[str] = ...) -> None: ...
    METADATA_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    metadata: UploadDraftDocumentRequest.Metadata
    chunk: bytes
    def __init__(self, metadata: _Optional[_Union[UploadDraftDocumentRequest.Metadata, _Mapping]] = ..., chunk: _Optional[bytes] = ...) -> None: ...

class UploadDraftDocumentResponse(_message.Message):
    __slots__ = ("document", "draft")
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    DRAFT_FIELD_NUMBER: _ClassVar[int]
    document: _draft_pb2.DraftDocument
    draft: _draft_pb2.Draft
    def __init__(self, document: _Optional[_Union[_draft_pb2.DraftDocument, _Mapping]] = ..., draft: _Optional[_Union[_draft_pb2.Draft, _Mapping]] = ...) -> None: ...

class SubmitDraftRequest(_message.Message):
    __slots__ = ("name", "request_id")
    NAME_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    name: str
    request_id: str
    def __init__(self, name: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class ReviewParticipantRequest(_message.Message):
    __slots__ = ("name", "verification_status", "reason", "request_id")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERIFICATION_STATUS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    name: str
    verification_status: _participant_pb2.VerificationStatus
    reason: str
    request_id: str
    def __init__(self, name: _Optional[str] = ..., verification_status: _Optional[_Union[_participant_pb2.VerificationStatus, str]] = ..., reason: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class VerifyVisitorRequest(_message.Message):
    __slots__ = ("last_name", "card_number", "phone")
    LAST_NAME_FIELD_NUMBER: _ClassVar[int]
    CARD_NUMBER_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    last_name: str
    card_number: str
    phone: str
    def __init__(self, last_name: _Optional[str] = ..., card_number: _Optional[str] = ..., phone: _Optional[str] = ...) -> None: ...

class VerifyVisitorResponse(_message.Message):
    __slots__ = ("participant",)
    PARTICIPANT_FIELD_NUMBER: _ClassVar[int]
    participant: str
    def __init__(self, participant: _Optional[str] = ...) -> None: ...
