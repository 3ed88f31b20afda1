import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from turnout.event.v1 import event_pb2 as _event_pb2
from turnout.event.v1 import session_pb2 as _session_pb2
from turnout.event.v1 import venue_pb2 as _venue_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class OccurrenceTransitionCause(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    OCCURRENCE_TRANSITION_CAUSE_UNSPECIFIED: _ClassVar[OccurrenceTransitionCause]
    OCCURRENCE_TRANSITION_CAUSE_SCHEDULER: _ClassVar[OccurrenceTransitionCause]
    OCCURRENCE_TRANSITION_CAUSE_ADMIN: _ClassVar[OccurrenceTransitionCause]
OCCURRENCE_TRANSITION_CAUSE_UNSPECIFIED: OccurrenceTransitionCause
OCCURRENCE_TRANSITION_CAUSE_SCHEDULER: OccurrenceTransitionCause
OCCURRENCE_TRANSITION_CAUSE_ADMIN: OccurrenceTransitionCause

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

class EventUpdated(_message.Message):
    __slots__ = ("event", "changed_fields")
    EVENT_FIELD_NUMBER: _ClassVar[int]
    CHANGED_FIELDS_FIELD_NUMBER: _ClassVar[int]
    event: _event_pb2.Event
    changed_fields: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, event: _Optional[_Union[_event_pb2.Event, _Mapping]] = ..., changed_fields: _Optional[_Iterable[str]] = ...) -> None: ...

class EventArchived(_message.Message):
    __slots__ = ("event", "automatic", "live_registrations")
    EVENT_FIELD_NUMBER: _ClassVar[int]
    AUTOMATIC_FIELD_NUMBER: _ClassVar[int]
    LIVE_REGISTRATIONS_FIELD_NUMBER: _ClassVar[int]
    event: _event_pb2.Event
    automatic: bool
    live_registrations: int
    def __init__(self, event: _Optional[_Union[_event_pb2.Event, _Mapping]] = ..., automatic: _Optional[bool] = ..., live_registrations: _Optional[int] = ...) -> None: ...

class EventActivated(_message.Message):
    __slots__ = ("event",)
    EVENT_FIELD_NUMBER: _ClassVar[int]
    event: _event_pb2.Event
    def __init__(self, event: _Optional[_Union[_event_pb2.Event, _Mapping]] = ...) -> None: ...

class EventDeleted(_message.Message):
    __slots__ = ("name", "released_seats")
    NAME_FIELD_NUMBER: _ClassVar[int]
    RELEASED_SEATS_FIELD_NUMBER: _ClassVar[int]
    name: str
    released_seats: int
    def __init__(self, name: _Optional[str] = ..., released_seats: _Optional[int] = ...) -> None: ...

class SessionUpdated(_message.Message):
    __slots__ = ("session", "changed_fields")
    SESSION_FIELD_NUMBER: _ClassVar[int]
    CHANGED_FIELDS_FIELD_NUMBER: _ClassVar[int]
    session: _session_pb2.Session
    changed_fields: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, session: _Optional[_Union[_session_pb2.Session, _Mapping]] = ..., changed_fields: _Optional[_Iterable[str]] = ...) -> None: ...

class SessionDeleted(_message.Message):
    __slots__ = ("name", "event", "occurrence")
    NAME_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    OCCURRENCE_FIELD_NUMBER: _ClassVar[int]
    name: str
    event: str
    occurrence: str
    def __init__(self, name: _Optional[str] = ..., event: _Optional[str] = ..., occurrence: _Optional[str] = ...) -> None: ...

class OccurrenceStateChanged(_message.Message):
    __slots__ = ("occurrence", "event", "from_state", "to_state", "cause", "change_time", "release_unanswered", "reconfirmation_deadline", "rounds")
    OCCURRENCE_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    FROM_STATE_FIELD_NUMBER: _ClassVar[int]
    TO_STATE_FIELD_NUMBER: _ClassVar[int]
    CAUSE_FIELD_NUMBER: _ClassVar[int]
    CHANGE_TIME_FIELD_NUMBER: _ClassVar[int]
    RELEASE_UNANSWERED_FIELD_NUMBER: _ClassVar[int]
    RECONFIRMATION_DEADLINE_FIELD_NUMBER: _ClassVar[int]
    ROUNDS_FIELD_NUMBER: _ClassVar[int]
    occurrence: _session_pb2.Occurrence
    event: str
    from_state: _session_pb2.OccurrenceState
    to_state: _session_pb2.OccurrenceState
    cause: OccurrenceTransitionCause
    change_time: _timestamp_pb2.Timestamp
    release_unanswered: bool
    reconfirmation_deadline: _timestamp_pb2.Timestamp
    rounds: _event_pb2.RoundsFormat
    def __init__(self, occurrence: _Optional[_Union[_session_pb2.Occurrence, _Mapping]] = ..., event: _Optional[str] = ..., from_state: _Optional[_Union[_session_pb2.OccurrenceState, str]] = ..., to_state: _Optional[_Union[_session_pb2.OccurrenceState, str]] = ..., cause: _Optional[_Union[OccurrenceTransitionCause, str]] = ..., change_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., release_unanswered: _Optional[bool] = ..., reconfirmation_deadline: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., rounds: _Optional[_Union[_event_pb2.RoundsFormat, _Mapping]] = ...) -> None: ...

class OccurrenceRoundsScheduled(_message.Message):
    __slots__ = ("rounds",)
    ROUNDS_FIELD_NUMBER: _ClassVar[int]
    rounds: _session_pb2.OccurrenceRounds
    def __init__(self, rounds: _Optional[_Union[_session_pb2.OccurrenceRounds, _Mapping]] = ...) -> None: ...

class OccurrenceReminderDue(_message.Message):
    __slots__ = ("occurrence", "event", "offset", "due_time")
    OCCURRENCE_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    DUE_TIME_FIELD_NUMBER: _ClassVar[int]
    occurrence: _session_pb2.Occurrence
    event: str
    offset: _duration_pb2.Duration
    due_time: _timestamp_pb2.Timestamp
    def __init__(self, occurrence: _Optional[_Union[_session_pb2.Occurrence, _Mapping]] = ..., event: _Optional[str] = ..., offset: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., due_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
