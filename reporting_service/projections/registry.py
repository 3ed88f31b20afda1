"""Which projection handles which payload type."""

from __future__ import annotations

import logging
from collections.abc import Callable

from google.protobuf.message import DecodeError, Message

from reporting_service.keyspace import Keyspace
from reporting_service.projections import availability, catalog, participants
from reporting_service.projections.store import Change, Command, Meta
from turnout.common.v1 import envelope_pb2
from turnout.event.v1 import catalog_events_pb2, ledger_events_pb2
from turnout.participant.v1 import participant_events_pb2

log = logging.getLogger("turnout.projector")

Projection = Callable[[Message, Keyspace, Meta], list[Command]]

def _entry(payload_type: type[Message], projection: Projection) -> tuple[str, tuple[type[Message], Projection]]:
    return payload_type.DESCRIPTOR.full_name, (payload_type, projection)


PROJECTIONS: dict[str, tuple[type[Message], Projection]] = dict([
    _entry(catalog_events_pb2.SessionScheduled, availability.session_scheduled),
    _entry(catalog_events_pb2.SessionUpdated, availability.session_updated),
    _entry(catalog_events_pb2.SessionDeleted, availability.session_deleted),
    _entry(ledger_events_pb2.SeatHeld, availability.seat_held),
    _entry(ledger_events_pb2.SeatConfirmed, availability.seat_confirmed),
    _entry(ledger_events_pb2.SeatReleased, availability.seat_released),
    _entry(ledger_events_pb2.SeatExpired, availability.seat_expired),
]) | {
    catalog_events_pb2.VenueCreated.DESCRIPTOR.full_name: (catalog_events_pb2.VenueCreated, catalog.venue_created),
    participant_events_pb2.ParticipantCreated.DESCRIPTOR.full_name: (
        participant_events_pb2.ParticipantCreated, participants.participant_created),
    participant_events_pb2.ParticipantUpdated.DESCRIPTOR.full_name: (
        participant_events_pb2.ParticipantUpdated, participants.participant_updated),
}


def to_change(topic: str, raw: bytes, keys: Keyspace) -> Change | None:
    """The read-model change of one Kafka message; None for messages this projector ignores."""
    try:
        envelope = envelope_pb2.Envelope.FromString(raw)
    except DecodeError:
        log.warning("skipping a message that is not an Envelope")
        return None
    handler = PROJECTIONS.get(envelope.type)
    if handler is None:
        # Types this version does not project yet; newer producers may publish more.
        return Change(topic, envelope.aggregate_type, envelope.aggregate_id, envelope.aggregate_version, [])
    payload_type, project = handler
    payload = payload_type()
    if not envelope.payload.Unpack(payload):
        log.warning("envelope %s: payload is not %s", envelope.event_id, envelope.type)
        return None
    occurred_at = envelope.occurred_at.ToDatetime().isoformat() + "Z"
    return Change(topic, envelope.aggregate_type, envelope.aggregate_id, envelope.aggregate_version,
                  project(payload, keys, Meta(occurred_at, envelope.aggregate_version)))
