"""The `participant` filter of event and session lists: an id, a card number or a name.

event_service filters by participant ids only (it knows seats, not people); the gateway
resolves a card number or a name through participant_service's search first."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Query

from gateway.backends import BackendClient
from gateway.routes import resource_name
from turnout.participant.v1 import participant_service_pb2

# The event service takes at most this many participant ids in one filter.
MAX_MATCHES = 100

ParticipantQuery = Annotated[
    str | None,
    Query(max_length=200, description="A participant id, card number, last name or 'first last' (prefix)"),
]


async def participant_names(participant: BackendClient, value: str | None) -> list[str] | None:
    """Resource names to filter by; None for no filter, [] when nobody matches."""
    if not value:
        return None
    try:
        return [resource_name("participants", str(uuid.UUID(value)))]
    except ValueError:
        pass
    request = participant_service_pb2.ListParticipantsRequest(query=value, page_size=MAX_MATCHES)
    reply = await participant.call(participant.stub.ListParticipants, request, fields={"query": "participant"})
    return [p.name for p in reply.participants]
