"""Staged sign-up: drafts in Redis, their documents on disk, and the atomic submit.

Submit is all or nothing (DESIGN §3, invariant 9): the participant row, one row per document
and ParticipantCreated commit in one Postgres transaction, and the document files get their
stored names before that commit. If anything fails (validation, storage, the database),
nothing reaches Postgres, the files this attempt wrote are removed, and the draft stays in
Redis for another try. Success deletes the draft and its staged files.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from kernel import context
from kernel.errors import FailedPrecondition, InvalidArgument, NotFound, fields_under
from kernel.idempotency import execute_once
from kernel.unit_of_work import UnitOfWork, UnitOfWorkFactory
from participant_service.adapters import document_repository
from participant_service.adapters.document_repository import DocumentRow
from participant_service.adapters.document_store import DocumentStore
from participant_service.adapters.draft_store import DraftFull, DraftStore
from participant_service.adapters.tables import idempotency_keys
from participant_service.application.participants import add_new_participant, get_participant
from participant_service.domain import access
from participant_service.domain import drafts as domain
from participant_service.domain.documents import (
    SNIFF_BYTES,
    DocumentKind,
    DocumentStorageUnavailable,
    DocumentTooLarge,
    UnsupportedDocumentType,
    display_filename,
    sniff_content_type,
)
from participant_service.domain.drafts import Draft, DraftDocument
from participant_service.domain.participants import Participant, ParticipantKind, Profile, VerificationStatus

log = logging.getLogger("turnout.drafts")

# How long one submit may keep others of the same draft out if its process dies mid-way.
SUBMIT_LOCK = timedelta(minutes=2)


@dataclass(frozen=True)
class Drafts:
    """What the draft handlers work with."""

    store: DraftStore
    documents: DocumentStore
    uow_factory: UnitOfWorkFactory
    max_document_bytes: int


@dataclass(frozen=True)
class UploadField:
    """Names of the upload's parts in the API, for errors."""

    content: str = "chunk"
    kind: str = "metadata.kind"


def _draft_id(draft_id: str) -> str:
    """Draft ids are UUIDs this service made; anything else names no draft."""
    try:
        return str(uuid.UUID(draft_id))
    except ValueError:
        raise _missing(draft_id[:100]) from None


def _missing(draft_id: str) -> NotFound:
    return NotFound(f"draft {draft_id} does not exist or has expired; start a new one",
                    metadata={"resource": f"drafts/{draft_id}"})


async def _check_access(drafts: Drafts, draft_id: str, *, gone_is_fine: bool = False) -> None:
    """Someone else's draft is as good as missing: a draft holds a stranger's passport.
    `gone_is_fine`: a missing draft is left for the caller to handle (a retried submit
    answers from its remembered outcome after the draft was deleted)."""
    ctx = context.current()
    exists, owner = await drafts.store.owner(draft_id)
    if not exists and gone_is_fine:
        return
    if not exists or not access.may_use_draft(access.Caller(ctx.actor, ctx.roles, ctx.participant_id), owner):
        raise _missing(draft_id)


async def create_draft(drafts: Drafts, *, language: str, fields: Mapping[str, str]) -> Draft:
    """A new draft with the given (non-empty) values, validated as participant fields are."""
    given = {name: value for name, value in {"language": language, **fields}.items() if value}
    cleaned = domain.clean_fields(given)
    language_value = cleaned.pop("language", None)
    return await drafts.store.create(language=language_value,
                                     fields={k: v for k, v in cleaned.items() if v is not None},
                                     now=datetime.now(UTC), owner=context.current().actor)


async def get_draft(drafts: Drafts, draft_id: str) -> Draft:
    """Resumes a draft: extends its life (and its staged files', see DocumentStore.touch)."""
    draft_id = _draft_id(draft_id)
    await _check_access(drafts, draft_id)
    draft = await drafts.store.touch(draft_id)
    if draft is None:
        raise _missing(draft_id)
    await drafts.documents.touch(d.id for d in draft.documents)
    return draft


async def update_draft(drafts: Drafts, draft_id: str, paths: tuple[str, ...], values: Mapping[str, str]) -> Draft:
    paths = domain.editable_paths(paths)
    cleaned = domain.clean_fields({path: values.get(path, "") for path in paths})
    draft_id = _draft_id(draft_id)
    await _check_access(drafts, draft_id)
    draft = await drafts.store.update(draft_id, cleaned)
    if draft is None:
        raise _missing(draft_id)
    await drafts.documents.touch(d.id for d in draft.documents)
    return draft


async def upload_document(
    drafts: Drafts, draft_id: str, *, kind: DocumentKind | None, filename: str, chunks: AsyncIterator[bytes],
    names: UploadField = UploadField(),
) -> tuple[DraftDocument, Draft]:
    """Streams one document to a staging file (never more than the limit, never the whole
    file in memory), checks its type from its first bytes, and adds it to the draft. A refused
    or interrupted upload leaves no file behind."""
    if kind is None:
        raise InvalidArgument.single(names.kind, f"must be one of {', '.join(k.value for k in DocumentKind)}")
    draft_id = _draft_id(draft_id)
    draft = await get_draft(drafts, draft_id)  # fail before receiving anything
    if len(draft.documents) >= domain.MAX_DOCUMENTS:
        raise _full(draft_id)
    try:
        upload = await drafts.documents.start_upload()
    except OSError:
        log.exception("cannot open a staging file")
        raise DocumentStorageUnavailable() from None
    limit = drafts.max_document_bytes
    head = b""
    content_type: str | None = None
    try:
        async for chunk in chunks:
            if not chunk:
                continue
            if upload.size + len(chunk) > limit:
                raise DocumentTooLarge(names.content, limit)
            if content_type is None:
                head += chunk[:SNIFF_BYTES - len(head)]
                if len(head) >= SNIFF_BYTES:
                    content_type = _sniffed(head, names)
            await upload.write(chunk)
        if upload.size == 0:
            raise UnsupportedDocumentType(names.content, "is empty")
        content_type = content_type or _sniffed(head, names)
        stored = await upload.finish()
    except OSError:
        await upload.discard()
        log.exception("cannot write a staging file")
        raise DocumentStorageUnavailable() from None
    except BaseException:
        await upload.discard()
        raise
    document = DraftDocument(id=stored.name, kind=kind, content_type=content_type, size_bytes=stored.size_bytes,
                             sha256=stored.sha256, filename=display_filename(filename),
                             uploaded_at=datetime.now(UTC))
    try:
        updated = await drafts.store.add_document(draft_id, document, limit=domain.MAX_DOCUMENTS)
    except DraftFull:
        await drafts.documents.remove("staging", [document.id])
        raise _full(draft_id) from None
    except BaseException:
        await drafts.documents.remove("staging", [document.id])
        raise
    if updated is None:  # expired while the content arrived
        await drafts.documents.remove("staging", [document.id])
        raise _missing(draft_id)
    return document, updated


def _sniffed(head: bytes, names: UploadField) -> str:
    content_type = sniff_content_type(head)
    if content_type is None:
        raise UnsupportedDocumentType(names.content)
    return content_type


def _full(draft_id: str) -> FailedPrecondition:
    return FailedPrecondition(f"draft {draft_id} already holds {domain.MAX_DOCUMENTS} documents, the most it may")


@dataclass(frozen=True)
class SubmitDraft:
    draft_id: str
    request_id: str
    fingerprint: str


async def submit_draft(drafts: Drafts, command: SubmitDraft) -> Participant:
    """See the module docstring. Field errors name the draft's fields (`draft.first_name`)."""
    draft_id = _draft_id(command.draft_id)
    await _check_access(drafts, draft_id, gone_is_fine=True)
    attempt = _SubmitAttempt(drafts, draft_id)
    try:
        outcome = await execute_once(drafts.uow_factory, idempotency_keys, request_id=command.request_id,
                                     method="SubmitDraft", request_fingerprint=command.fingerprint, work=attempt.work)
    except BaseException:
        # Nothing was committed: the files this attempt wrote go, the draft stays.
        await drafts.documents.remove("stored", attempt.placed)
        await attempt.unlock()
        raise
    if attempt.draft is not None:  # this call did the work (a retry only recalls the outcome)
        await drafts.store.delete(draft_id)
        await drafts.documents.remove("staging", [d.id for d in attempt.draft.documents])
    await attempt.unlock()
    return await get_participant(outcome["participant_id"], drafts.uow_factory)


class _SubmitAttempt:
    def __init__(self, drafts: Drafts, draft_id: str):
        self._drafts, self._draft_id = drafts, draft_id
        self.draft: Draft | None = None
        self.placed: list[str] = []
        self._lock: str | None = None

    async def work(self, uow: UnitOfWork) -> dict:
        drafts = self._drafts
        # Runs after the idempotency key is claimed, so a twin with the same key waits for
        # this one and then answers with its outcome; the lock refuses a second submit of the
        # same draft under another key instead of creating a second participant.
        self._lock = await drafts.store.lock_submit(self._draft_id, SUBMIT_LOCK)
        if self._lock is None:
            raise FailedPrecondition(f"draft {self._draft_id} is being submitted; retry in a moment",
                                     reason="DRAFT_SUBMIT_IN_PROGRESS")
        draft = await get_draft(drafts, self._draft_id)
        with fields_under("draft"):
            refusal = domain.incomplete(draft.remaining_steps)
            if refusal is not None:
                raise refusal
            fields = draft.fields
            participant = await add_new_participant(
                uow, first_name=fields.get("first_name", ""), last_name=fields.get("last_name", ""),
                kind=ParticipantKind(fields.get("kind") or ParticipantKind.VISITOR.value),
                profile=Profile(**{name: fields.get(name, "") for name in
                                   ("phone", "comment", "messenger_id", "messenger_username")}),
                verification_status=VerificationStatus.PENDING_REVIEW if draft.documents else None,
            )
        try:
            # Placed one by one so that on failure `place` removes its own; self.placed then
            # holds what a later failure (the database) must remove.
            self.placed = await drafts.documents.place(d.id for d in draft.documents)
        except OSError:
            log.exception("cannot place the documents of draft %s", self._draft_id)
            raise DocumentStorageUnavailable() from None
        now = datetime.now(UTC)
        await document_repository.add_all(uow.connection, [
            DocumentRow(id=str(uuid.uuid4()), participant_id=participant.id, kind=document.kind.value,
                        stored_name=stored_name, content_type=document.content_type,
                        size_bytes=document.size_bytes, sha256=document.sha256,
                        original_filename=document.filename, created_at=now)
            for document, stored_name in zip(draft.documents, self.placed, strict=True)
        ])
        self.draft = draft
        return {"participant_id": participant.id}

    async def unlock(self) -> None:
        if self._lock is not None:
            token, self._lock = self._lock, None
            await self._drafts.store.unlock_submit(self._draft_id, token)
