"""`/v1/drafts`: staged sign-up (ParticipantService drafts) with document upload and submit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from gateway import problems
from gateway.backends import ParticipantBackend
from gateway.routes import IdempotencyKey, enum_to_rest, idempotency_request_id, resource_id, resource_name, to_datetime
from gateway.routes.participants import ParticipantOut, participant_out
from turnout.participant.v1 import draft_pb2, participant_pb2, participant_service_pb2

router = APIRouter(prefix="/v1/drafts", tags=["drafts"])

# Chunks sent to participant-service while a file streams through: memory stays flat.
CHUNK_BYTES = 64 * 1024
# Room for the multipart framing and the `kind` field around the file itself.
MULTIPART_OVERHEAD = 64 * 1024
_FIELDS = ("language", "first_name", "last_name", "kind", "phone", "comment", "messenger_id", "messenger_username")


def _rest_field(path: str) -> str:
    """Proto paths of the draft methods as the client named them."""
    named = {"chunk": "file", "metadata": "file", "metadata.kind": "kind", "metadata.draft": "id",
             "draft.name": "id", "name": "id", "request_id": "Idempotency-Key", "update_mask": "body"}
    return named.get(path, path.removeprefix("draft."))


class DraftIn(BaseModel):
    """Optional initial values; each is validated as for participants. Other fields are refused."""

    model_config = ConfigDict(extra="forbid")

    language: str | None = Field(default=None, max_length=100, description="e.g. ru, en")
    first_name: str | None = Field(default=None, max_length=200)
    last_name: str | None = Field(default=None, max_length=200)
    kind: Literal["visitor", "volunteer"] | None = None
    phone: str | None = Field(default=None, max_length=100, description="Russian numbers only")
    comment: str | None = Field(default=None, max_length=5000)
    messenger_id: str | None = Field(default=None, max_length=500)
    messenger_username: str | None = Field(default=None, max_length=500)


class DraftPatch(DraftIn):
    """Only the fields present change; null or "" clears one. Other fields are refused."""


class DraftDocumentOut(BaseModel):
    id: str
    kind: str
    content_type: str
    size_bytes: int
    sha256: str
    filename: str | None
    uploaded_at: datetime | None


class DraftOut(BaseModel):
    id: str
    language: str | None
    first_name: str | None
    last_name: str | None
    kind: str | None
    phone: str | None
    comment: str | None
    messenger_id: str | None
    messenger_username: str | None
    documents: list[DraftDocumentOut]
    remaining_steps: list[str] = Field(description="of first_name, last_name, phone, document:passport, in order")
    created_at: datetime | None
    expires_at: datetime | None


class UploadOut(BaseModel):
    document: DraftDocumentOut
    draft: DraftOut


def _document_out(d: draft_pb2.DraftDocument) -> DraftDocumentOut:
    return DraftDocumentOut(id=d.id, kind=enum_to_rest(draft_pb2.DocumentKind, d.kind), content_type=d.content_type,
                            size_bytes=d.size_bytes, sha256=d.sha256, filename=d.filename or None,
                            uploaded_at=to_datetime(d.upload_time))


def _draft_out(d: draft_pb2.Draft) -> DraftOut:
    return DraftOut(
        id=resource_id(d.name, "drafts"), language=d.language or None,
        first_name=d.first_name or None, last_name=d.last_name or None,
        kind=enum_to_rest(participant_pb2.ParticipantKind, d.kind) if d.kind else None,
        phone=d.phone or None, comment=d.comment or None, messenger_id=d.messenger_id or None,
        messenger_username=d.messenger_username or None,
        documents=[_document_out(x) for x in d.documents], remaining_steps=list(d.remaining_steps),
        created_at=to_datetime(d.create_time), expires_at=to_datetime(d.expire_time),
    )


def _draft_proto(body: DraftIn, draft_id: str = "") -> draft_pb2.Draft:
    proto = draft_pb2.Draft(name=resource_name("drafts", draft_id) if draft_id else "", language=body.language or "",
                            first_name=body.first_name or "", last_name=body.last_name or "", phone=body.phone or "",
                            comment=body.comment or "", messenger_id=body.messenger_id or "",
                            messenger_username=body.messenger_username or "")
    if body.kind:
        proto.kind = participant_pb2.ParticipantKind.Value(f"PARTICIPANT_KIND_{body.kind.upper()}")
    return proto


@router.post("", status_code=201, response_model=DraftOut,
             responses={201: {"headers": {"Location": {"description": "URL of the new draft"}}}})
async def create_draft(response: Response, participant: ParticipantBackend, body: DraftIn | None = None) -> DraftOut:
    request = participant_service_pb2.CreateDraftRequest(draft=_draft_proto(body or DraftIn()))
    created = _draft_out(await participant.call(participant.stub.CreateDraft, request, fields=_rest_field))
    response.headers["Location"] = f"/v1/drafts/{created.id}"
    return created


@router.get("/{draft_id}", response_model=DraftOut)
async def get_draft(draft_id: str, participant: ParticipantBackend) -> DraftOut:
    request = participant_service_pb2.GetDraftRequest(name=resource_name("drafts", draft_id))
    return _draft_out(await participant.call(participant.stub.GetDraft, request, fields=_rest_field))


@router.patch("/{draft_id}", response_model=DraftOut)
async def update_draft(draft_id: str, body: DraftPatch, participant: ParticipantBackend) -> DraftOut:
    present = [f for f in _FIELDS if f in body.model_fields_set]
    if not present:
        raise problems.Problem(400, "validation_failed", "name at least one field to change",
                               errors=[problems.FieldError("body", f"must have at least one of {', '.join(_FIELDS)}")])
    request = participant_service_pb2.UpdateDraftRequest(draft=_draft_proto(body, draft_id))
    request.update_mask.paths.extend(present)
    return _draft_out(await participant.call(participant.stub.UpdateDraft, request, fields=_rest_field))


_UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {"multipart/form-data": {"schema": {
            "type": "object", "required": ["kind", "file"],
            "properties": {
                "kind": {"type": "string", "enum": ["passport", "selfie", "other"]},
                "file": {"type": "string", "format": "binary",
                         "description": "JPEG, PNG, WEBP or PDF (judged by content), at most TURNOUT_DOCUMENT_MAX_BYTES"},
            },
        }}},
    }
}


async def _capped(stream: AsyncIterator[bytes], cap: int) -> AsyncIterator[bytes]:
    """The request body, refused with 413 as soon as it is longer than `cap`."""
    total = 0
    async for piece in stream:
        total += len(piece)
        if total > cap:
            raise _too_large(cap - MULTIPART_OVERHEAD)
        yield piece


def _too_large(limit: int) -> problems.Problem:
    return problems.Problem(413, "document_too_large", f"the document is larger than {limit} bytes",
                            errors=[problems.FieldError("file", f"must be at most {limit} bytes")])


@router.post("/{draft_id}/documents", status_code=201, response_model=UploadOut, openapi_extra=_UPLOAD_BODY)
async def upload_document(draft_id: str, request: Request, participant: ParticipantBackend) -> UploadOut:
    """multipart/form-data with `kind` (passport, selfie, other) and `file`. The file streams
    on to participant-service in chunks, which checks its type and size."""
    limit = request.app.state.settings.document_max_bytes
    cap = limit + MULTIPART_OVERHEAD
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > cap:
        raise _too_large(limit)
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise problems.Problem(415, "unsupported_media_type", "send multipart/form-data with `kind` and `file`")
    parser = MultiPartParser(request.headers, _capped(request.stream(), cap), max_files=1, max_fields=1)
    try:
        form = await parser.parse()
    except MultiPartException as exc:
        raise problems.Problem(400, "validation_failed", exc.message,
                               errors=[problems.FieldError("body", exc.message)]) from None
    try:
        kind, file = form.get("kind"), form.get("file")
        errors = []
        if not isinstance(kind, str) or kind not in ("passport", "selfie", "other"):
            errors.append(problems.FieldError("kind", "must be one of passport, selfie, other"))
        if not isinstance(file, UploadFile):
            errors.append(problems.FieldError("file", "is required (a file part)"))
        if errors:
            raise problems.Problem(400, "validation_failed", "; ".join(f"{e.field}: {e.message}" for e in errors),
                                   errors=errors)
        assert isinstance(file, UploadFile) and isinstance(kind, str)

        async def messages() -> AsyncIterator[participant_service_pb2.UploadDraftDocumentRequest]:
            yield participant_service_pb2.UploadDraftDocumentRequest(
                metadata=participant_service_pb2.UploadDraftDocumentRequest.Metadata(
                    draft=resource_name("drafts", draft_id),
                    kind=draft_pb2.DocumentKind.Value(f"DOCUMENT_KIND_{kind.upper()}"),
                    filename=(file.filename or "")[:1000]))
            while chunk := await file.read(CHUNK_BYTES):
                yield participant_service_pb2.UploadDraftDocumentRequest(chunk=chunk)

        reply = await participant.call(participant.stub.UploadDraftDocument, messages(), fields=_rest_field)
    finally:
        await form.close()
    return UploadOut(document=_document_out(reply.document), draft=_draft_out(reply.draft))


@router.post("/{draft_id}/submit", status_code=201, response_model=ParticipantOut,
             responses={201: {"headers": {"Location": {"description": "URL of the new participant"}}}})
async def submit_draft(draft_id: str, response: Response, participant: ParticipantBackend,
                       idempotency_key: IdempotencyKey = None) -> ParticipantOut:
    """Creates the participant with its documents, atomically; the draft is deleted. On any
    failure nothing is created and the draft stays for another try."""
    request = participant_service_pb2.SubmitDraftRequest(name=resource_name("drafts", draft_id),
                                                         request_id=idempotency_request_id(idempotency_key))
    created = participant_out(await participant.call(participant.stub.SubmitDraft, request, fields=_rest_field))
    response.headers["Location"] = f"/v1/participants/{created.id}"
    return created
