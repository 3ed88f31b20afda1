from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class VisitorIdentifierKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    VISITOR_IDENTIFIER_KIND_UNSPECIFIED: _ClassVar[VisitorIdentifierKind]
    VISITOR_IDENTIFIER_KIND_CARD_NUMBER: _ClassVar[VisitorIdentifierKind]
    VISITOR_IDENTIFIER_KIND_PHONE: _ClassVar[VisitorIdentifierKind]

class VisitorSignInOutcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    VISITOR_SIGN_IN_OUTCOME_UNSPECIFIED: _ClassVar[VisitorSignInOutcome]
    VISITOR_SIGN_IN_OUTCOME_SUCCEEDED: _ClassVar[VisitorSignInOutcome]
    VISITOR_SIGN_IN_OUTCOME_REFUSED: _ClassVar[VisitorSignInOutcome]
VISITOR_IDENTIFIER_KIND_UNSPECIFIED: VisitorIdentifierKind
VISITOR_IDENTIFIER_KIND_CARD_NUMBER: VisitorIdentifierKind
VISITOR_IDENTIFIER_KIND_PHONE: VisitorIdentifierKind
VISITOR_SIGN_IN_OUTCOME_UNSPECIFIED: VisitorSignInOutcome
VISITOR_SIGN_IN_OUTCOME_SUCCEEDED: VisitorSignInOutcome
VISITOR_SIGN_IN_OUTCOME_REFUSED: VisitorSignInOutcome

class VisitorSignInAttempted(_message.Message):
    __slots__ = ("participant", "identifier_kind", "identifier_digest", "outcome")
    PARTICIPANT_FIELD_NUMBER: _ClassVar[int]
    IDENTIFIER_KIND_FIELD_NUMBER: _ClassVar[int]
    IDENTIFIER_DIGEST_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    participant: str
    identifier_kind: VisitorIdentifierKind
    identifier_digest: str
    outcome: VisitorSignInOutcome
    def __init__(self, participant: _Optional[str] = ..., identifier_kind: _Optional[_Union[VisitorIdentifierKind, str]] = ..., identifier_digest: _Optional[str] = ..., outcome: _Optional[_Union[VisitorSignInOutcome, str]] = ...) -> None: ...
