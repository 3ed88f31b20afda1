"""`/v1/participants`: ParticipantService participants."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from gateway import problems
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
from gateway.security import CurrentPrincipal, require_roles
from kernel.roles import STAFF
from turnout.participant.v1 import participant_pb2, participant_service_pb2

router = APIRouter(prefix="/v1/participants", tags=["participants"])

PARTICIPANT_FIELDS = {
    "participant.first_name": "first_name",
    "participant.last_name": "last_name",
    "participant.kind": "kind",
    "participant.phone": "phone",
    "participant.comment": "comment",
    "participant.messenger_id": "messenger_id",
    "participant.messenger_username": "messenger_username",
    "participant.name": "id",
    "request_id": "Idempotency-Key",
    "page_size": "page_size",
    "page_token": "page_token",
    "query": "q",
}


class ParticipantIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Name rules (length after trimming, alphabet) belong to the service; these only bound size.
    first_name: str = Field(max_length=200)
    last_name: str = Field(max_length=200)
    kind: Literal["visitor", "volunteer"] = "visitor"
    # Formats and limits belong to the service too; these only bound size.
    phone: str | None = Field(default=None, max_length=100,
                              description="Russian numbers only, e.g. +7 (916) 123-45-67 or 89161234567; "
                                          "returned as +79161234567")
    comment: str | None = Field(default=None, max_length=5000)
    messenger_id: str | None = Field(default=None, max_length=500)
    messenger_username: str | None = Field(default=None, max_length=500, description="a leading @ is dropped")


class ParticipantPatch(BaseModel):
    """Only the fields present are changed; null or "" clears an optional field. Any other field
    (card_number, id, created_by...) is refused, not ignored."""

    model_config = ConfigDict(extra="forbid")

    first_name: str | None = Field(default=None, max_length=200)
    last_name: str | None = Field(default=None, max_length=200)
    kind: Literal["visitor", "volunteer"] | None = None
    phone: str | None = Field(default=None, max_length=100)
    comment: str | None = Field(default=None, max_length=5000)
    messenger_id: str | None = Field(default=None, max_length=500)
    messenger_username: str | None = Field(default=None, max_length=500)


_PATCH_PATHS = ("first_name", "last_name", "kind", "phone", "comment", "messenger_id", "messenger_username")
# What a participant may change on their own record (participant_service's
# access.SELF_EDITABLE, checked there too): not their kind, nor the staff's comment about them.
SELF_EDITABLE = ("first_name", "last_name", "phone", "messenger_id", "messenger_username")


def field_not_settable(field: str, detail: str) -> problems.Problem:
    """A field the body may carry, but not from this caller: refused, never silently dropped."""
    return problems.Problem(403, "field_not_settable", detail,
                            errors=[problems.FieldError(field, "may not be set by this caller")])


class ParticipantOut(BaseModel):
    id: str
    card_number: str
    first_name: str
    last_name: str
    # Plain str: a kind added to the proto later must not turn reads into 500s.
    kind: str
    created_at: datetime | None
    phone: str | None
    comment: str | None
    messenger_id: str | None
    messenger_username: str | None
    created_by: str | None
    verification_status: str | None = Field(
        default=None, description="pending_review, approved or rejected for participants who signed up with "
                                  "documents (a draft); null without documents")
    verification_reason: str | None = None


class VerificationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["pending_review", "approved", "rejected"]
    reason: str | None = Field(default=None, max_length=5000, description="only with rejected, at most 1000 characters")


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
        phone=p.phone or None,
        comment=p.comment or None,
        messenger_id=p.messenger_id or None,
        messenger_username=p.messenger_username or None,
        created_by=p.created_by or None,
        verification_status=(enum_to_rest(participant_pb2.VerificationStatus, p.verification_status)
                             if p.verification_status else None),
        verification_reason=p.verification_reason or None,
    )


participant_out = _participant_out


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
            phone=body.phone or "",
            comment=body.comment or "",
            messenger_id=body.messenger_id or "",
            messenger_username=body.messenger_username or "",
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
                          description="Card number, last name or 'first last' (prefix, any case), an id, "
                                      "or the start of a Russian phone number ('8 916')"),
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


@router.patch("/{participant_id}", response_model=ParticipantOut,
              dependencies=[Depends(require_roles("admin", "volunteer", "participant"))])
async def update_participant(participant_id: str, body: ParticipantPatch, participant: ParticipantBackend,
                             principal: CurrentPrincipal, idempotency_key: IdempotencyKey = None) -> ParticipantOut:
    """Staff edit anyone; a participant edits their own names, phone and messenger (403
    `field_not_settable` naming `kind` or `comment`; someone else's record is 404)."""
    present = [f for f in _PATCH_PATHS if f in body.model_fields_set]
    if not principal.has_any(*STAFF):
        refused = [f for f in present if f not in SELF_EDITABLE]
        if refused and principal.participant_id == participant_id:
            raise field_not_settable(refused[0], f"a participant may not change {', '.join(refused)}; "
                                                 f"they may change {', '.join(SELF_EDITABLE)}")
    proto = participant_pb2.Participant(
        name=resource_name("participants", participant_id),
        first_name=body.first_name or "", last_name=body.last_name or "",
        phone=body.phone or "", comment=body.comment or "",
        messenger_id=body.messenger_id or "", messenger_username=body.messenger_username or "",
    )
    if body.kind is not None:
        proto.kind = enum_from_rest(participant_pb2.ParticipantKind, body.kind)
    request = participant_service_pb2.UpdateParticipantRequest(participant=proto, request_id=idempotency_key or "")
    request.update_mask.paths.extend(present)
    return _participant_out(
        await participant.call(participant.stub.UpdateParticipant, request, fields=PARTICIPANT_FIELDS))


@router.post("/{participant_id}/verification", response_model=ParticipantOut,
             dependencies=[Depends(require_roles("admin"))])
async def review_participant(participant_id: str, body: VerificationIn, participant: ParticipantBackend,
                             idempotency_key: IdempotencyKey = None) -> ParticipantOut:
    """An admin's review of the documents of a participant who signed up with them; 409
    `no_documents` for a participant without documents."""
    request = participant_service_pb2.ReviewParticipantRequest(
        name=resource_name("participants", participant_id),
        verification_status=enum_from_rest(participant_pb2.VerificationStatus, body.status),
        reason=body.reason or "", request_id=idempotency_request_id(idempotency_key))
    return _participant_out(await participant.call(
        participant.stub.ReviewParticipant, request,
        fields={"verification_status": "status", "reason": "reason", "name": "id", "request_id": "Idempotency-Key"}))
