"""participant_service's domain events as the protobuf payloads it publishes."""

from __future__ import annotations

from functools import singledispatch

from kernel import topics
from kernel.unit_of_work import OutboxMessage
from participant_service.api.convert import participant_to_proto
from participant_service.domain.participants import ParticipantCreated
from turnout.participant.v1 import participant_events_pb2


@singledispatch
def to_message(event: object) -> OutboxMessage:
    raise TypeError(f"no outbox mapping for {type(event).__name__}")


@to_message.register
def _(event: ParticipantCreated) -> OutboxMessage:
    return OutboxMessage(
        topic=topics.PARTICIPANTS,
        aggregate_type="participant",
        aggregate_id=event.participant.id,
        aggregate_version=event.participant.version,
        payload=participant_events_pb2.ParticipantCreated(participant=participant_to_proto(event.participant)),
    )
