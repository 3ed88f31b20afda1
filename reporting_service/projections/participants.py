"""Read models fed by turnout.participants.v1."""

from __future__ import annotations

from reporting_service.keyspace import Keyspace
from reporting_service.projections.store import Command
from turnout.participant.v1 import participant_events_pb2


def participant_created(event: participant_events_pb2.ParticipantCreated, keys: Keyspace, occurred_at: str) -> list[Command]:
    participant = event.participant
    participant_id = participant.name.removeprefix("participants/")
    return [
        ["HSET", keys.participant(participant_id),
         "card_number", participant.card_number,
         "first_name", participant.first_name,
         "last_name", participant.last_name,
         "update_time", occurred_at],
        ["HINCRBY", keys.totals, "participant_count", 1],
    ]
