"""participant_service's domain events as the protobuf payloads it publishes."""

from __future__ import annotations

from kernel import topics
from kernel.unit_of_work import OutboxMessage, event_mapper
from participant_service.api.convert import participant_to_proto
from participant_service.domain.participants import ParticipantCreated, ParticipantUpdated
from turnout.participant.v1 import participant_events_pb2


to_message = event_mapper()


@to_message.register
def _(event: ParticipantCreated) -> OutboxMessage:
    return OutboxMessage(
        topic=topics.PARTICIPANTS,
        aggregate_type="participant",
        aggregate_id=event.participant.id,
        aggregate_version=event.participant.version,
        payload=participant_events_pb2.ParticipantCreated(participant=participant_to_proto(event.participant)),
    )


@to_message.register
def _(event: ParticipantUpdated) -> OutboxMessage:
    return OutboxMessage(
        topic=topics.PARTICIPANTS,
        aggregate_type="participant",
        aggregate_id=event.participant.id,
        aggregate_version=event.participant.version,
        payload=participant_events_pb2.ParticipantUpdated(participant=participant_to_proto(event.participant),
                                                          changed_fields=list(event.changed_fields)),
    )
