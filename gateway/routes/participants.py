"""`/v1/participants`: ParticipantService participants."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, Field

from gateway.backends import ParticipantBackend
from gateway.routes import (
    IdempotencyKey,
    PageSize,
    PageToken,
    enum_from_rest,
    enum_to_rest,
    idempotency_request_id,
    resource_id,
    resource_name,
    to_datetime,
)
from gateway.security import require_roles
from turnout.participant.v1 import participant_pb2, participant_service_pb2

router = APIRouter(prefix="/v1/participants", tags=["participants"])

PARTICIPANT_FIELDS = {
    "participant.first_name": "first_name",
    "participant.last_name": "last_name",
    "participant.kind": "kind",
    "request_id": "Idempotency-Key",
    "page_size": "page_size",
    "page_token": "page_token",
    "query": "q",
}


class ParticipantIn(BaseModel):
    # Name rules (length after trimming, alphabet) belong to the service; these only bound size.
    first_name: str = Field(max_length=200)
    last_name: str = Field(max_length=200)
    kind: Literal["visitor", "volunteer"] = "visitor"


class ParticipantOut(BaseModel):
    id: str
    card_number: str
    first_name: str
    last_name: str
    # Plain str: a kind added to the proto later must not turn reads into 500s.
    kind: str
    created_at: datetime | None


class ParticipantList(BaseModel):
    participants: list[ParticipantOut]
    next_page_token: str | None


def _participant_out(p: participant_pb2.Participant) -> ParticipantOut:
    return ParticipantOut(
        id=resource_id(p.name, "participants"),
        card_number=p.card_number,
        first_name=p.first_name,
        last_name=p.last_name,
        kind=enum_to_rest(participant_pb2.ParticipantKind, p.kind),
        created_at=to_datetime(p.create_time),
    )


@router.post(
    "",
    status_code=201,
    response_model=ParticipantOut,
    dependencies=[Depends(require_roles("admin", "volunteer"))],
    responses={201: {"headers": {"Location": {"description": "URL of the new participant"}}}},
)
async def create_participant(
    body: ParticipantIn, response: Response, participant: ParticipantBackend, idempotency_key: IdempotencyKey = None
) -> ParticipantOut:
    request = participant_service_pb2.CreateParticipantRequest(
        participant=participant_pb2.Participant(
            first_name=body.first_name,
            last_name=body.last_name,
            kind=enum_from_rest(participant_pb2.ParticipantKind, body.kind),
        ),
        request_id=idempotency_request_id(idempotency_key),
    )
    created = _participant_out(
        await participant.call(participant.stub.CreateParticipant, request, fields=PARTICIPANT_FIELDS)
    )
    response.headers["Location"] = f"/v1/participants/{created.id}"
    return created


@router.get("", response_model=ParticipantList)
async def list_participants(
    participant: ParticipantBackend,
    page_size: PageSize = 0,
    page_token: PageToken = "",
    q: str | None = Query(default=None, max_length=200,
                          description="Card number, last name or 'first last' (prefix, any case), or an id"),
) -> ParticipantList:
    request = participant_service_pb2.ListParticipantsRequest(page_size=page_size, page_token=page_token,
                                                              query=q or "")
    reply = await participant.call(participant.stub.ListParticipants, request, fields=PARTICIPANT_FIELDS)
    return ParticipantList(
        participants=[_participant_out(p) for p in reply.participants],
        next_page_token=reply.next_page_token or None,
    )


@router.get("/{participant_id}", response_model=ParticipantOut)
async def get_participant(participant_id: str, participant: ParticipantBackend) -> ParticipantOut:
    request = participant_service_pb2.GetParticipantRequest(name=resource_name("participants", participant_id))
    return _participant_out(await participant.call(participant.stub.GetParticipant, request))
