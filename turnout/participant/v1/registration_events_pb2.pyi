from turnout.participant.v1 import registration_pb2 as _registration_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RegistrationCreated(_message.Message):
    __slots__ = ("registration",)
    REGISTRATION_FIELD_NUMBER: _ClassVar[int]
    registration: _registration_pb2.Registration
    def __init__(self, registration: _Optional[_Union[_registration_pb2.Registration, _Mapping]] = ...) -> None: ...

class RegistrationConfirmed(_message.Message):
    __slots__ = ("registration",)
    REGISTRATION_FIELD_NUMBER: _ClassVar[int]
    registration: _registration_pb2.Registration
    def __init__(self, registration: _Optional[_Union[_registration_pb2.Registration, _Mapping]] = ...) -> None: ...

class RegistrationCancelled(_message.Message):
    __slots__ = ("registration",)
    REGISTRATION_FIELD_NUMBER: _ClassVar[int]
    registration: _registration_pb2.Registration
    def __init__(self, registration: _Optional[_Union[_registration_pb2.Registration, _Mapping]] = ...) -> None: ...

class RegistrationExpired(_message.Message):
    __slots__ = ("registration",)
    REGISTRATION_FIELD_NUMBER: _ClassVar[int]
    registration: _registration_pb2.Registration
    def __init__(self, registration: _Optional[_Union[_registration_pb2.Registration, _Mapping]] = ...) -> None: ...

class AttendanceMarked(_message.Message):
    __slots__ = ("registration",)
    REGISTRATION_FIELD_NUMBER: _ClassVar[int]
    registration: _registration_pb2.Registration
    def __init__(self, registration: _Optional[_Union[_registration_pb2.Registration, _Mapping]] = ...) -> None: ...

class WaitlistOfferMade(_message.Message):
    __slots__ = ("registration",)
    REGISTRATION_FIELD_NUMBER: _ClassVar[int]
    registration: _registration_pb2.Registration
    def __init__(self, registration: _Optional[_Union[_registration_pb2.Registration, _Mapping]] = ...) -> None: ...

class RegistrationReconfirmationChanged(_message.Message):
    __slots__ = ("registration",)
    REGISTRATION_FIELD_NUMBER: _ClassVar[int]
    registration: _registration_pb2.Registration
    def __init__(self, registration: _Optional[_Union[_registration_pb2.Registration, _Mapping]] = ...) -> None: ...
