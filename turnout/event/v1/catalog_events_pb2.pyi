from turnout.event.v1 import event_pb2 as _event_pb2
from turnout.event.v1 import session_pb2 as _session_pb2
from turnout.event.v1 import venue_pb2 as _venue_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class VenueCreated(_message.Message):
    __slots__ = ("venue",)
    VENUE_FIELD_NUMBER: _ClassVar[int]
    venue: _venue_pb2.Venue
    def __init__(self, venue: _Optional[_Union[_venue_pb2.Venue, _Mapping]] = ...) -> None: ...

class EventCreated(_message.Message):
    __slots__ = ("event",)
    EVENT_FIELD_NUMBER: _ClassVar[int]
    event: _event_pb2.Event
    def __init__(self, event: _Optional[_Union[_event_pb2.Event, _Mapping]] = ...) -> None: ...

class SessionScheduled(_message.Message):
    __slots__ = ("session", "occurrence")
    SESSION_FIELD_NUMBER: _ClassVar[int]
    OCCURRENCE_FIELD_NUMBER: _ClassVar[int]
    session: _session_pb2.Session
    occurrence: _session_pb2.Occurrence
    def __init__(self, session: _Optional[_Union[_session_pb2.Session, _Mapping]] = ..., occurrence: _Optional[_Union[_session_pb2.Occurrence, _Mapping]] = ...) -> None: ...
