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
