from turnout.participant.v1 import participant_pb2 as _participant_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ParticipantCreated(_message.Message):
    __slots__ = ("participant",)
    PARTICIPANT_FIELD_NUMBER: _ClassVar[int]
    participant: _participant_pb2.Participant
    def __init__(self, participant: _Optional[_Union[_participant_pb2.Participant, _Mapping]] = ...) -> None: ...

class ParticipantUpdated(_message.Message):
    __slots__ = ("participant", "changed_fields")
    PARTICIPANT_FIELD_NUMBER: _ClassVar[int]
    CHANGED_FIELDS_FIELD_NUMBER: _ClassVar[int]
    participant: _participant_pb2.Participant
    changed_fields: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, participant: _Optional[_Union[_participant_pb2.Participant, _Mapping]] = ..., changed_fields: _Optional[_Iterable[str]] = ...) -> None: ...
