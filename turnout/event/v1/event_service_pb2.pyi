from turnout.event.v1 import venue_pb2 as _venue_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CreateVenueRequest(_message.Message):
    __slots__ = ("venue", "request_id")
    VENUE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    venue: _venue_pb2.Venue
    request_id: str
    def __init__(self, venue: _Optional[_Union[_venue_pb2.Venue, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class GetVenueRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class ListVenuesRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListVenuesResponse(_message.Message):
    __slots__ = ("venues", "next_page_token")
    VENUES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    venues: _containers.RepeatedCompositeFieldContainer[_venue_pb2.Venue]
    next_page_token: str
    def __init__(self, venues: _Optional[_Iterable[_Union[_venue_pb2.Venue, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...
