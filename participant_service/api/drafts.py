"""ParticipantService draft and review methods: translate the request, call one handler,
translate the result."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from kernel.errors import DomainError, InvalidArgument, Unavailable, fields_under
from kernel.idempotency import fingerprint
from kernel.resources import resource_id, to_timestamp
from kernel.unit_of_work import UnitOfWorkFactory
from participant_service.api.convert import KIND_TO_PROTO, VERIFICATION_FROM_PROTO, participant_to_proto
from participant_service.application import drafts, verification
from participant_service.domain.documents import DocumentKind
from participant_service.domain.drafts import FIELDS, Draft, DraftDocument, editable_paths
from participant_service.domain.participants import ParticipantKind
from turnout.participant.v1 import draft_pb2, participant_pb2, participant_service_pb2

DOCUMENT_KIND_TO_PROTO = {
    DocumentKind.PASSPORT: draft_pb2.DOCUMENT_KIND_PASSPORT,
    DocumentKind.SELFIE: draft_pb2.DOCUMENT_KIND_SELFIE,
    DocumentKind.OTHER: draft_pb2.DOCUMENT_KIND_OTHER,
}
DOCUMENT_KIND_FROM_PROTO = {proto: kind for kind, proto in DOCUMENT_KIND_TO_PROTO.items()}
_KIND_NAMES = {participant_pb2.PARTICIPANT_KIND_VISITOR: "visitor", participant_pb2.PARTICIPANT_KIND_VOLUNTEER: "volunteer"}
_TEXT_FIELDS = tuple(f for f in FIELDS if f != "kind")


# A client that already has its whole document (the gateway spools it) sends the rest well
# within this; a stalled one must not hold the refusal back for longer.
_DRAIN_SECONDS = 0.5


async def _drain(messages: AsyncIterator[participant_service_pb2.UploadDraftDocumentRequest], limit: int) -> None:
    """Reads what the client is still sending, up to `limit` more bytes, before a refusal
    answers its upload. grpc's asyncio client fails a write to an already answered call with
    INTERNAL "Internal error from Core", which then replaces the answer (grpc/grpc#36066): the
    gateway turned a missing draft into a 502 about one time in 80. A client sending more than
    any document may hold, or too slowly, gets the refusal without this courtesy."""
    received = 0
    try:
        async with asyncio.timeout(_DRAIN_SECONDS):
            async for message in messages:
                received += len(message.chunk)
                if received > limit:
                    return
    except TimeoutError:
        return


def document_to_proto(document: DraftDocument) -> draft_pb2.DraftDocument:
    return draft_pb2.DraftDocument(
        id=document.id, kind=DOCUMENT_KIND_TO_PROTO[document.kind], content_type=document.content_type,
        size_bytes=document.size_bytes, sha256=document.sha256, filename=document.filename or "",
        upload_time=to_timestamp(document.uploaded_at),
    )


def draft_to_proto(draft: Draft) -> draft_pb2.Draft:
    kind = draft.fields.get("kind")
    return draft_pb2.Draft(
        name=f"drafts/{draft.id}", language=draft.language or "",
        kind=KIND_TO_PROTO[ParticipantKind(kind)] if kind else participant_pb2.PARTICIPANT_KIND_UNSPECIFIED,
        documents=[document_to_proto(d) for d in draft.documents],
        remaining_steps=list(draft.remaining_steps),
        create_time=to_timestamp(draft.created_at), expire_time=to_timestamp(draft.expires_at),
        **{name: draft.fields.get(name, "") for name in _TEXT_FIELDS},
    )


def _field_values(draft: draft_pb2.Draft) -> dict[str, str]:
    """The draft message's participant fields as text; an unknown kind is kept as its number
    so that validation refuses it by name."""
    values = {name: getattr(draft, name) for name in _TEXT_FIELDS}
    if draft.kind != participant_pb2.PARTICIPANT_KIND_UNSPECIFIED:
        values["kind"] = _KIND_NAMES.get(draft.kind, str(draft.kind))
    else:
        values["kind"] = ""
    return values


class DraftMethods:
    _uow: UnitOfWorkFactory
    _drafts: drafts.Drafts | None

    @property
    def _draft_deps(self) -> drafts.Drafts:
        if self._drafts is None:
            raise Unavailable("drafts are not configured in this participant-service")
        return self._drafts

    async def CreateDraft(self, request: participant_service_pb2.CreateDraftRequest, context) -> draft_pb2.Draft:
        with fields_under("draft"):
            draft = await drafts.create_draft(self._draft_deps, language=request.draft.language,
                                              fields=_field_values(request.draft))
        return draft_to_proto(draft)

    async def GetDraft(self, request: participant_service_pb2.GetDraftRequest, context) -> draft_pb2.Draft:
        return draft_to_proto(await drafts.get_draft(self._draft_deps, resource_id(request.name, "drafts")))

    async def UpdateDraft(self, request: participant_service_pb2.UpdateDraftRequest, context) -> draft_pb2.Draft:
        draft_id = resource_id(request.draft.name, "drafts", field="draft.name")
        paths = tuple(request.update_mask.paths)
        values = {"language": request.draft.language, **_field_values(request.draft)}
        editable_paths(paths)  # names `update_mask`, so outside fields_under below
        with fields_under("draft"):
            draft = await drafts.update_draft(self._draft_deps, draft_id, paths, values)
        return draft_to_proto(draft)

    async def UploadDraftDocument(self, request_iterator: AsyncIterator[participant_service_pb2.UploadDraftDocumentRequest],
                                  context) -> participant_service_pb2.UploadDraftDocumentResponse:
        first = await anext(aiter(request_iterator), None)
        if first is None or first.WhichOneof("content") != "metadata":
            raise InvalidArgument.single("metadata", "the first message must carry the metadata")
        metadata = first.metadata

        async def chunks() -> AsyncIterator[bytes]:
            async for message in request_iterator:
                if message.WhichOneof("content") == "metadata":
                    raise InvalidArgument.single("metadata", "only the first message may carry the metadata")
                yield message.chunk

        try:
            draft_id = resource_id(metadata.draft, "drafts", field="metadata.draft")
            document, draft = await drafts.upload_document(
                self._draft_deps, draft_id, kind=DOCUMENT_KIND_FROM_PROTO.get(metadata.kind),
                filename=metadata.filename, chunks=chunks())
        except DomainError:
            await _drain(request_iterator, self._draft_deps.max_document_bytes)
            raise
        return participant_service_pb2.UploadDraftDocumentResponse(document=document_to_proto(document),
                                                                   draft=draft_to_proto(draft))

    async def SubmitDraft(self, request: participant_service_pb2.SubmitDraftRequest, context) -> participant_pb2.Participant:
        command = drafts.SubmitDraft(draft_id=resource_id(request.name, "drafts"), request_id=request.request_id,
                                     fingerprint=fingerprint(request))
        return participant_to_proto(await drafts.submit_draft(self._draft_deps, command))

    async def ReviewParticipant(self, request: participant_service_pb2.ReviewParticipantRequest,
                                context) -> participant_pb2.Participant:
        participant_id = resource_id(request.name, "participants")
        status = VERIFICATION_FROM_PROTO.get(request.verification_status)
        if status is None:
            raise InvalidArgument.single("verification_status", "must be APPROVED, REJECTED or PENDING_REVIEW")
        command = verification.ReviewParticipant(participant_id=participant_id, status=status, reason=request.reason,
                                                 request_id=request.request_id, fingerprint=fingerprint(request))
        return participant_to_proto(await verification.review_participant(command, self._uow))
