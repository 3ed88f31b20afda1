"""Read models fed by turnout.participants.v1."""

from __future__ import annotations

from reporting_service.keyspace import Keyspace
from reporting_service.projections.store import Command, Meta
from turnout.participant.v1 import participant_events_pb2


def _profile(participant, keys: Keyspace, occurred_at: str) -> Command:
    participant_id = participant.name.removeprefix("participants/")
    return ["HSET", keys.participant(participant_id),
            "card_number", participant.card_number,
            "first_name", participant.first_name,
            "last_name", participant.last_name,
            "phone", participant.phone,
            "update_time", occurred_at]


def participant_created(event: participant_events_pb2.ParticipantCreated, keys: Keyspace, meta: Meta) -> list[Command]:
    return [_profile(event.participant, keys, meta.occurred_at), ["HINCRBY", keys.totals, "participant_count", 1]]


def participant_updated(event: participant_events_pb2.ParticipantUpdated, keys: Keyspace, meta: Meta) -> list[Command]:
    """The whole profile as it is now: set, not patched, so any order of replays converges."""
    return [_profile(event.participant, keys, meta.occurred_at)]


HANDLES = [
    (participant_events_pb2.ParticipantCreated, participant_created),
    (participant_events_pb2.ParticipantUpdated, participant_updated),
]
