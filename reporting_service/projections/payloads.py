"""What several projections read from payloads the same way."""

from __future__ import annotations

from google.protobuf import timestamp_pb2

from turnout.participant.v1 import registration_events_pb2

# Every registration event carries the whole registration after the change.
REGISTRATION_EVENTS = (
    registration_events_pb2.RegistrationCreated, registration_events_pb2.RegistrationConfirmed,
    registration_events_pb2.RegistrationCancelled, registration_events_pb2.RegistrationExpired,
    registration_events_pb2.AttendanceMarked, registration_events_pb2.WaitlistOfferMade,
    registration_events_pb2.RegistrationReconfirmationChanged,
)


def id_of(name: str) -> str:
    """The id at the end of a resource name: "sessions/abc" -> "abc"."""
    return name.rsplit("/", 1)[-1]


def enum_word(enum_type, value: int) -> str:  # type: ignore[no-untyped-def]
    """An enum value as a lower-case word without the enum's prefix: ATTENDANCE_NO_SHOW ->
    "no_show"; the unspecified value -> ""."""
    if not value:
        return ""
    prefix = enum_type.DESCRIPTOR.values[0].name.removesuffix("UNSPECIFIED")
    return enum_type.Name(value).removeprefix(prefix).lower()


def iso_of(stamp: timestamp_pb2.Timestamp) -> str:
    """A timestamp as ISO 8601 UTC with microseconds and "Z"; "" when unset."""
    if not stamp.seconds and not stamp.nanos:
        return ""
    return stamp.ToDatetime().isoformat(timespec="microseconds") + "Z"


def millis_of(stamp: timestamp_pb2.Timestamp) -> int:
    return stamp.seconds * 1000 + stamp.nanos // 1_000_000
