"""Staged sign-up over real gRPC against real Postgres, Redis and the document directory:
drafts, streamed uploads, the atomic submit, the cleanup job and the review of documents."""

from __future__ import annotations

import asyncio
import hashlib
import os
import sys
from datetime import UTC, datetime, timedelta

import grpc
import pytest
import sqlalchemy as sa
from google.protobuf import field_mask_pb2

from drafts_support import (
    ADMIN,
    JPEG,
    PASSPORT,
    PDF,
    PNG,
    SELFIE,
    VOLUNTEER,
    WEBP,
    complete_draft,
    letters,
    request_id,
    upload,
)
from grpc_details import details
from participant_service.adapters.draft_store import key
from participant_service.adapters.tables import documents, outbox, participants
from participant_service.application.document_cleanup import cleanup_documents
from turnout.common.v1 import envelope_pb2
from turnout.participant.v1 import draft_pb2, participant_events_pb2, participant_pb2, participant_service_pb2

pytestmark = pytest.mark.integration

Req = participant_service_pb2.UploadDraftDocumentRequest

DAY_MS = 24 * 3600 * 1000


@pytest.fixture
def tag(unique: str) -> str:
    return letters(unique)


@pytest.fixture
def store(participant_deps):
    return participant_deps.drafts.documents


def _files(directory) -> set[str]:
    try:
        return set(os.listdir(directory))
    except FileNotFoundError:
        return set()


async def _count(participant_deps, table: sa.Table, *where) -> int:
    async with participant_deps.engine.connect() as connection:
        return await connection.scalar(sa.select(sa.func.count()).select_from(table).where(*where))


async def _get(stub, name: str) -> draft_pb2.Draft:
    return await stub.GetDraft(participant_service_pb2.GetDraftRequest(name=name))


async def _update(stub, name: str, paths: list[str], **values) -> draft_pb2.Draft:
    return await stub.UpdateDraft(participant_service_pb2.UpdateDraftRequest(
        draft=draft_pb2.Draft(name=name, **values), update_mask=field_mask_pb2.FieldMask(paths=paths)))


async def _submit(stub, name: str, rid: str | None = None, metadata=()):
    return await stub.SubmitDraft(participant_service_pb2.SubmitDraftRequest(name=name, request_id=rid or request_id()),
                                  metadata=metadata)


async def _refused(call) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await call
    return refused.value


# --- drafts and their steps ------------------------------------------------------------


async def test_resume_lists_the_remaining_steps_and_extends_the_ttl(participant_stub, participant_deps, tag):
    created = await participant_stub.CreateDraft(participant_service_pb2.CreateDraftRequest(
        draft=draft_pb2.Draft(first_name="  Анна ", language="ru")))
    draft_id = created.name.removeprefix("drafts/")
    assert created.first_name == "Анна"
    assert list(created.remaining_steps) == ["last_name", "phone", "document:passport"]
    assert created.expire_time.ToDatetime(UTC) - created.create_time.ToDatetime(UTC) >= timedelta(hours=23, minutes=59)

    redis = participant_deps.redis
    assert DAY_MS - 60_000 < await redis.pttl(key(draft_id)) <= DAY_MS
    await redis.pexpire(key(draft_id), 5_000)  # as if nearly a day had passed
    resumed = await _get(participant_stub, created.name)
    assert await redis.pttl(key(draft_id)) > DAY_MS - 60_000, "resuming extends the draft's life"
    assert list(resumed.remaining_steps) == ["last_name", "phone", "document:passport"]

    await _update(participant_stub, created.name, ["last_name", "phone"], last_name=f"Черновик-{tag}",
                  phone="+7 (916) 555-44-33")
    await redis.pexpire(key(draft_id), 5_000)
    await upload(participant_stub, created.name, SELFIE, PNG)  # not a required step
    assert await redis.pttl(key(draft_id)) > DAY_MS - 60_000, "an upload extends the draft's life"
    resumed = await _get(participant_stub, created.name)
    assert resumed.phone == "+79165554433"
    assert list(resumed.remaining_steps) == ["document:passport"]
    reply = await upload(participant_stub, created.name, PASSPORT, JPEG)
    assert list(reply.draft.remaining_steps) == []
    resumed = await _get(participant_stub, created.name)
    assert list(resumed.remaining_steps) == []
    assert [d.kind for d in resumed.documents] == [SELFIE, PASSPORT], "an upload is never asked for again"

    cleared = await _update(participant_stub, created.name, ["phone"])
    assert cleared.phone == ""
    assert list(cleared.remaining_steps) == ["phone"]


async def test_update_validates_each_field_and_refuses_unknown_paths(participant_stub, participant_deps):
    draft = await participant_stub.CreateDraft(participant_service_pb2.CreateDraftRequest())
    refused = await _refused(_update(participant_stub, draft.name, ["first_name", "phone", "messenger_username"],
                                     first_name="Я", phone="12345", messenger_username="a b"))
    assert refused.code() == grpc.StatusCode.INVALID_ARGUMENT
    reason, fields = details(refused)
    assert reason == "VALIDATION_FAILED"
    assert sorted(fields) == ["draft.first_name", "draft.messenger_username", "draft.phone"]
    refused = await _refused(_update(participant_stub, draft.name, ["card_number"]))
    assert details(refused)[1].keys() == {"update_mask"}
    refused = await _refused(_update(participant_stub, draft.name, ["kind"], kind=7))
    assert details(refused)[1].keys() == {"draft.kind"}
    unchanged = await _get(participant_stub, draft.name)
    assert (unchanged.first_name, unchanged.phone, unchanged.messenger_username) == ("", "", "")
    refused = await _refused(participant_stub.CreateDraft(participant_service_pb2.CreateDraftRequest(
        draft=draft_pb2.Draft(last_name="X1", language="not a language"))))
    assert sorted(details(refused)[1]) == ["draft.language", "draft.last_name"]


async def test_unknown_and_expired_drafts_are_not_found(participant_stub, participant_deps):
    for name in ("drafts/00000000-0000-4000-8000-000000000000", "drafts/not-a-uuid", "drafts/x:submitting"):
        refused = await _refused(_get(participant_stub, name))
        assert refused.code() == grpc.StatusCode.NOT_FOUND, name
        assert details(refused)[0] == "NOT_FOUND"
    draft = await participant_stub.CreateDraft(participant_service_pb2.CreateDraftRequest())
    await participant_deps.redis.pexpire(key(draft.name.removeprefix("drafts/")), 1)
    await asyncio.sleep(0.05)
    for call in (_get(participant_stub, draft.name), _update(participant_stub, draft.name, ["first_name"], first_name="Иван"),
                 upload(participant_stub, draft.name), _submit(participant_stub, draft.name)):
        assert (await _refused(call)).code() == grpc.StatusCode.NOT_FOUND
    assert not await participant_deps.redis.exists(key(draft.name.removeprefix("drafts/"))), \
        "an update of an expired draft must not re-create part of it"


# --- uploads -------------------------------------------------------------------------


@pytest.mark.parametrize(("content", "content_type"), [(JPEG, "image/jpeg"), (PNG, "image/png"),
                                                        (WEBP, "image/webp"), (PDF, "application/pdf")])
async def test_chunked_upload_records_type_size_and_digest(participant_stub, store, content, content_type):
    draft = await participant_stub.CreateDraft(participant_service_pb2.CreateDraftRequest())
    reply = await upload(participant_stub, draft.name, PASSPORT, content * 40, chunk=7_000,
                         filename="../../etc/passwd\x00.jpg")
    document = reply.document
    assert document.content_type == content_type
    assert document.size_bytes == len(content) * 40
    assert document.sha256 == hashlib.sha256(content * 40).hexdigest()
    assert document.filename == "passwd.jpg", "only the last path component, for display"
    stored = store.staging / document.id
    assert stored.read_bytes() == content * 40
    assert document.id in _files(store.staging) and all(".." not in n for n in _files(store.staging))
    assert [d.id for d in reply.draft.documents] == [document.id]


async def test_limit_exceeded_mid_stream_is_refused_and_leaves_no_file(participant_stub, participant_deps, store):
    limit = participant_deps.drafts.max_document_bytes
    draft = await participant_stub.CreateDraft(participant_service_pb2.CreateDraftRequest())
    before = _files(store.staging)

    async def endless_after_the_limit():
        yield Req(metadata=Req.Metadata(draft=draft.name, kind=PASSPORT))
        yield Req(chunk=JPEG)
        for _ in range(limit // (32 * 1024) + 1):
            yield Req(chunk=b"\x00" * 32 * 1024)
        await asyncio.sleep(60)  # the client never ends its stream: the refusal must not wait for it
        yield Req(chunk=b"\x00")

    refused = await _refused(asyncio.wait_for(participant_stub.UploadDraftDocument(endless_after_the_limit()),
                                              timeout=15))
    assert refused.code() == grpc.StatusCode.INVALID_ARGUMENT
    reason, fields = details(refused)
    assert reason == "DOCUMENT_TOO_LARGE"
    assert list(fields) == ["chunk"]
    assert _files(store.staging) == before, "the partial file is removed"
    assert list((await _get(participant_stub, draft.name)).documents) == []
    # Exactly the limit is accepted.
    accepted = await upload(participant_stub, draft.name, PASSPORT, (JPEG + b"\x00" * limit)[:limit])
    assert accepted.document.size_bytes == limit


@pytest.mark.parametrize("content", [b"GIF89a" + b"\x00" * 100, b"MZ\x90\x00" + b"\x00" * 100000, b"%PD", b"",
                                     b"RIFF\x00\x00\x00\x00WAVEfmt "])
async def test_content_that_is_not_an_accepted_type_is_refused(participant_stub, store, content):
    draft = await participant_stub.CreateDraft(participant_service_pb2.CreateDraftRequest())
    before = _files(store.staging)
    refused = await _refused(upload(participant_stub, draft.name, PASSPORT, content, filename="photo.jpg"))
    assert refused.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert details(refused)[0] == "UNSUPPORTED_DOCUMENT_TYPE"
    assert list(details(refused)[1]) == ["chunk"]
    assert _files(store.staging) == before
    assert list((await _get(participant_stub, draft.name)).remaining_steps)[-1] == "document:passport"


async def test_upload_needs_metadata_first_and_a_kind(participant_stub):
    draft = await participant_stub.CreateDraft(participant_service_pb2.CreateDraftRequest())

    async def chunk_first():
        yield Req(chunk=JPEG)

    refused = await _refused(participant_stub.UploadDraftDocument(chunk_first()))
    assert list(details(refused)[1]) == ["metadata"]
    refused = await _refused(upload(participant_stub, draft.name, draft_pb2.DOCUMENT_KIND_UNSPECIFIED))
    assert list(details(refused)[1]) == ["metadata.kind"]


# --- submit ----------------------------------------------------------------------------


async def _outbox_events(participant_deps, participant_id: str) -> list[str]:
    async with participant_deps.engine.connect() as connection:
        rows = await connection.execute(sa.select(outbox.c.event_type, outbox.c.envelope)
                                        .where(outbox.c.message_key == participant_id).order_by(outbox.c.id))
        return [row.event_type for row in rows]


async def test_submit_creates_the_participant_and_its_documents_atomically(participant_stub, participant_deps, store,
                                                                           tag):
    draft = await complete_draft(participant_stub, tag, documents=((PASSPORT, JPEG), (SELFIE, PNG)))
    staged = [d.id for d in draft.documents]
    assert all(name in _files(store.staging) for name in staged)

    participant = await _submit(participant_stub, draft.name)
    participant_id = participant.name.removeprefix("participants/")
    assert (participant.first_name, participant.last_name, participant.phone) == ("Мария", f"Черновик-{tag}",
                                                                                 "+79161234567")
    assert participant.kind == participant_pb2.PARTICIPANT_KIND_VISITOR
    assert participant.verification_status == participant_pb2.VERIFICATION_STATUS_PENDING_REVIEW

    async with participant_deps.engine.connect() as connection:
        rows = (await connection.execute(sa.select(documents).where(documents.c.participant_id == participant_id)
                                         .order_by(documents.c.created_at, documents.c.kind))).all()
    assert sorted(r.kind for r in rows) == ["passport", "selfie"]
    for row in rows:
        content = JPEG if row.kind == "passport" else PNG
        assert (row.size_bytes, row.sha256) == (len(content), hashlib.sha256(content).hexdigest())
        assert (store.stored / row.stored_name).read_bytes() == content
        assert row.original_filename == "scan.jpg"
    assert await _outbox_events(participant_deps, participant_id) == ["turnout.participant.v1.ParticipantCreated"]
    assert not await participant_deps.redis.exists(key(draft.name.removeprefix("drafts/"))), "success clears the draft"
    assert not set(staged) & _files(store.staging), "staged copies go once stored"
    assert (await _refused(_get(participant_stub, draft.name))).code() == grpc.StatusCode.NOT_FOUND


async def test_submit_is_idempotent(participant_stub, participant_deps, tag):
    draft = await complete_draft(participant_stub, tag)
    rid = request_id()
    first, twin = await asyncio.gather(_submit(participant_stub, draft.name, rid), _submit(participant_stub, draft.name, rid))
    again = await _submit(participant_stub, draft.name, rid)  # the draft is gone; the key remembers
    assert first == twin == again
    assert await _count(participant_deps, participants, participants.c.last_name == f"Черновик-{tag}") == 1
    participant_id = first.name.removeprefix("participants/")
    assert await _count(participant_deps, documents, documents.c.participant_id == participant_id) == 1
    # Another key for the submitted draft finds no draft.
    assert (await _refused(_submit(participant_stub, draft.name))).code() == grpc.StatusCode.NOT_FOUND


async def test_two_submits_of_one_draft_under_different_keys_create_one_participant(participant_stub, participant_deps,
                                                                                    tag):
    draft = await complete_draft(participant_stub, tag)
    outcomes = await asyncio.gather(*[_submit(participant_stub, draft.name) for _ in range(4)], return_exceptions=True)
    created = [o for o in outcomes if isinstance(o, participant_pb2.Participant)]
    assert len(created) == 1
    for refusal in (o for o in outcomes if not isinstance(o, participant_pb2.Participant)):
        assert refusal.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.FAILED_PRECONDITION)
    assert await _count(participant_deps, participants, participants.c.last_name == f"Черновик-{tag}") == 1


async def test_submit_of_an_incomplete_draft_names_the_fields_and_keeps_the_draft(participant_stub, participant_deps,
                                                                                  tag):
    draft = await participant_stub.CreateDraft(participant_service_pb2.CreateDraftRequest(
        draft=draft_pb2.Draft(first_name="Мария")))
    rows_before = await _count(participant_deps, participants)
    refused = await _refused(_submit(participant_stub, draft.name))
    assert refused.code() == grpc.StatusCode.INVALID_ARGUMENT
    reason, fields = details(refused)
    assert reason == "VALIDATION_FAILED"
    assert sorted(fields) == ["draft.documents", "draft.last_name", "draft.phone"]
    assert "passport" in fields["draft.documents"]
    assert await _count(participant_deps, participants) == rows_before
    kept = await _get(participant_stub, draft.name)
    assert kept.first_name == "Мария"
    # Completed, the same draft goes through.
    await _update(participant_stub, draft.name, ["last_name", "phone"], last_name=f"Черновик-{tag}", phone="89161112233")
    await upload(participant_stub, draft.name, PASSPORT, PDF)
    assert (await _submit(participant_stub, draft.name)).last_name == f"Черновик-{tag}"


async def test_submit_with_unwritable_storage_creates_nothing_and_keeps_the_draft(participant_stub, participant_deps,
                                                                                  store, tag):
    draft = await complete_draft(participant_stub, tag, documents=((PASSPORT, JPEG), (SELFIE, WEBP)))
    staged = {d.id for d in draft.documents}
    rows_before = (await _count(participant_deps, participants), await _count(participant_deps, documents))
    events_before = await _count(participant_deps, outbox)
    # The stored area cannot be created: a file stands where its directory should be (root
    # ignores permission bits, so chmod alone would not stop these tests).
    store.stored.mkdir(parents=True, exist_ok=True)
    aside = store.root / "stored.aside"
    store.stored.rename(aside)
    store.stored.write_bytes(b"not a directory")
    try:
        refused = await _refused(_submit(participant_stub, draft.name))
        assert refused.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert details(refused)[0] == "DOCUMENT_STORAGE_UNAVAILABLE"
        assert "retry later" in refused.details()
        assert store.stored.read_bytes() == b"not a directory"
    finally:
        store.stored.unlink()
        aside.rename(store.stored)
    assert (await _count(participant_deps, participants), await _count(participant_deps, documents)) == rows_before
    assert await _count(participant_deps, participants, participants.c.last_name == f"Черновик-{tag}") == 0
    assert await _count(participant_deps, outbox) == events_before
    kept = await _get(participant_stub, draft.name)
    assert {d.id for d in kept.documents} == staged, "the draft stays, documents and all"
    assert staged <= _files(store.staging)
    # Storage back: the same draft goes through.
    assert (await _submit(participant_stub, draft.name)).verification_status == \
        participant_pb2.VERIFICATION_STATUS_PENDING_REVIEW


async def test_a_database_failure_after_the_files_were_written_removes_them(participant_stub, participant_deps, store,
                                                                            tag, monkeypatch):
    from participant_service.application import drafts as application

    draft = await complete_draft(participant_stub, tag, documents=((PASSPORT, JPEG), (SELFIE, PNG)))
    stored_before = _files(store.stored)
    rows_before = await _count(participant_deps, participants)
    written: list[set[str]] = []

    async def failing_add_all(connection, rows):
        written.append(_files(store.stored) - stored_before)
        raise RuntimeError("the database went away")

    monkeypatch.setattr(application.document_repository, "add_all", failing_add_all)
    refused = await _refused(_submit(participant_stub, draft.name))
    monkeypatch.undo()
    assert refused.code() == grpc.StatusCode.INTERNAL
    assert len(written) == 1 and len(written[0]) == 2, "the files were in place when the database failed"
    assert _files(store.stored) == stored_before, "the files that attempt wrote are removed"
    assert await _count(participant_deps, participants) == rows_before
    assert len((await _get(participant_stub, draft.name)).documents) == 2
    assert {d.id for d in draft.documents} <= _files(store.staging)


# --- cleanup ---------------------------------------------------------------------------


async def test_cleanup_deletes_old_unreferenced_files_only(participant_stub, participant_deps, store, tag):
    draft = await complete_draft(participant_stub, tag)
    participant = await _submit(participant_stub, draft.name)
    async with participant_deps.engine.connect() as connection:
        referenced = await connection.scalar(sa.select(documents.c.stored_name).where(
            documents.c.participant_id == participant.name.removeprefix("participants/")))
    now = datetime.now(UTC)
    old = (now - timedelta(hours=49)).timestamp()
    for name in ("orphan-old", "orphan-young"):
        (store.stored / name).write_bytes(b"x")
    (store.staging / "abandoned-old").write_bytes(b"x")
    (store.staging / ".upload.part").write_bytes(b"x")
    for path in (store.stored / "orphan-old", store.staging / "abandoned-old", store.stored / referenced):
        os.utime(path, (old, old))

    report = await cleanup_documents(store, participant_deps.uow_factory, max_age=timedelta(hours=48), now=now)
    assert (store.stored / referenced).exists(), "a referenced file is never deleted"
    assert not (store.stored / "orphan-old").exists() and not (store.staging / "abandoned-old").exists()
    assert (store.stored / "orphan-young").exists() and (store.staging / ".upload.part").exists()
    assert report.deleted == 2
    assert report.kept_referenced == 1
    assert report.scanned == report.deleted + report.kept_referenced + report.kept_young
    assert report.kept_young >= 2
    # The files of a live draft are young: touching the draft refreshes them.
    live = await complete_draft(participant_stub, tag + "b")
    staged = store.staging / live.documents[0].id
    os.utime(staged, (old, old))
    await _get(participant_stub, live.name)
    again = await cleanup_documents(store, participant_deps.uow_factory, max_age=timedelta(hours=48))
    assert staged.exists() and again.deleted == 0
    for name in ("orphan-young", ".upload.part"):
        ((store.stored if name.startswith("orphan") else store.staging) / name).unlink()


async def test_cleanup_from_the_command_line(settings, participant_deps, store, tmp_path):
    documents_dir = tmp_path / "documents"
    (documents_dir / "stored").mkdir(parents=True)
    old = (datetime.now(UTC) - timedelta(hours=3)).timestamp()
    for name in ("a", "b"):
        (documents_dir / "stored" / name).write_bytes(b"x")
    os.utime(documents_dir / "stored" / "a", (old, old))
    env = {**os.environ, "TURNOUT_DATABASE_URL": settings.database_url, "TURNOUT_DOCUMENT_DIR": str(documents_dir),
           "COLUMNS": "200"}
    process = await asyncio.create_subprocess_exec(sys.executable, "-m", "turnout.cli", "documents", "cleanup",
                                                   "--older-than-hours", "2", env=env,
                                                   stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, err.decode()
    text = out.decode()
    assert "scanned" in text and "kept_young" in text
    assert sorted(os.listdir(documents_dir / "stored")) == ["b"]
    numbers = [line for line in text.splitlines() if any(c.isdigit() for c in line) and "│" in line][-1]
    assert [int(x) for x in numbers.replace("│", " ").split()] == [2, 1, 0, 1]


# --- review ----------------------------------------------------------------------------


async def test_an_admin_reviews_the_documents(participant_stub, participant_deps, tag):
    draft = await complete_draft(participant_stub, tag)
    participant = await _submit(participant_stub, draft.name)
    participant_id = participant.name.removeprefix("participants/")

    def review(status, reason="", metadata=ADMIN, rid=None):
        return participant_stub.ReviewParticipant(participant_service_pb2.ReviewParticipantRequest(
            name=participant.name, verification_status=status, reason=reason, request_id=rid or request_id()),
            metadata=metadata)

    rejected = await review(participant_pb2.VERIFICATION_STATUS_REJECTED, "  фото нечитаемо ")
    assert (rejected.verification_status, rejected.verification_reason) == (
        participant_pb2.VERIFICATION_STATUS_REJECTED, "фото нечитаемо")
    approved = await review(participant_pb2.VERIFICATION_STATUS_APPROVED)
    assert (approved.verification_status, approved.verification_reason) == (
        participant_pb2.VERIFICATION_STATUS_APPROVED, "")
    fetched = await participant_stub.GetParticipant(participant_service_pb2.GetParticipantRequest(name=participant.name))
    assert fetched.verification_status == participant_pb2.VERIFICATION_STATUS_APPROVED
    async with participant_deps.engine.connect() as connection:
        envelopes = [envelope_pb2.Envelope.FromString(row.envelope) for row in await connection.execute(
            sa.select(outbox.c.envelope).where(outbox.c.message_key == participant_id).order_by(outbox.c.id))]
    assert [e.type.rsplit(".", 1)[-1] for e in envelopes] == ["ParticipantCreated", "ParticipantUpdated",
                                                              "ParticipantUpdated"]
    assert [e.aggregate_version for e in envelopes] == [1, 2, 3]
    last = participant_events_pb2.ParticipantUpdated()
    envelopes[-1].payload.Unpack(last)
    assert sorted(last.changed_fields) == ["verification_reason", "verification_status"]

    # Non-admins are refused, and nothing changes.
    refused = await _refused(review(participant_pb2.VERIFICATION_STATUS_REJECTED, metadata=VOLUNTEER))
    assert refused.code() == grpc.StatusCode.PERMISSION_DENIED
    refused = await _refused(review(participant_pb2.VERIFICATION_STATUS_REJECTED, metadata=()))
    assert refused.code() == grpc.StatusCode.PERMISSION_DENIED
    # A reason only goes with a rejection; a status is required.
    refused = await _refused(review(participant_pb2.VERIFICATION_STATUS_APPROVED, "why"))
    assert list(details(refused)[1]) == ["reason"]
    refused = await _refused(review(participant_pb2.VERIFICATION_STATUS_UNSPECIFIED))
    assert list(details(refused)[1]) == ["verification_status"]
    fetched = await participant_stub.GetParticipant(participant_service_pb2.GetParticipantRequest(name=participant.name))
    assert fetched.verification_status == participant_pb2.VERIFICATION_STATUS_APPROVED


async def test_participants_without_documents_have_no_status_and_cannot_be_reviewed(participant_stub, tag):
    created = await participant_stub.CreateParticipant(participant_service_pb2.CreateParticipantRequest(
        participant=participant_pb2.Participant(first_name="Без", last_name=f"Документов-{tag}"),
        request_id=request_id()))
    assert created.verification_status == participant_pb2.VERIFICATION_STATUS_UNSPECIFIED
    refused = await _refused(participant_stub.ReviewParticipant(participant_service_pb2.ReviewParticipantRequest(
        name=created.name, verification_status=participant_pb2.VERIFICATION_STATUS_APPROVED, request_id=request_id()),
        metadata=ADMIN))
    assert refused.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert details(refused)[0] == "NO_DOCUMENTS"


async def test_concurrent_uploads_to_one_draft_all_count_up_to_the_most_it_holds(participant_stub, store):
    from participant_service.domain.drafts import MAX_DOCUMENTS

    draft = await participant_stub.CreateDraft(participant_service_pb2.CreateDraftRequest())
    replies = await asyncio.gather(*[upload(participant_stub, draft.name, SELFIE, PNG) for _ in range(MAX_DOCUMENTS)])
    resumed = await _get(participant_stub, draft.name)
    assert sorted(d.id for d in resumed.documents) == sorted(r.document.id for r in replies), "no upload lost"
    before = _files(store.staging)
    refused = await _refused(upload(participant_stub, draft.name, PASSPORT, JPEG))
    assert refused.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert _files(store.staging) == before
    assert len((await _get(participant_stub, draft.name)).documents) == MAX_DOCUMENTS


async def test_the_cleanup_runs_periodically_until_stopped(participant_deps, tmp_path):
    from participant_service.adapters.document_store import DocumentStore
    from participant_service.application.document_cleanup import run_document_cleanup

    store = DocumentStore(tmp_path)
    store.staging.mkdir(parents=True)
    stop = asyncio.Event()
    task = asyncio.create_task(run_document_cleanup(store, participant_deps.uow_factory, stop,
                                                    max_age=timedelta(hours=1), interval=0.05))
    old = (datetime.now(UTC) - timedelta(hours=2)).timestamp()
    for name in ("first", "second"):
        (store.staging / name).write_bytes(b"x")
        os.utime(store.staging / name, (old, old))
        for _ in range(100):
            if not (store.staging / name).exists():
                break
            await asyncio.sleep(0.02)
        assert not (store.staging / name).exists(), "each run deletes what became an orphan since the last"
    stop.set()
    await asyncio.wait_for(task, timeout=5)


async def test_an_upload_to_unwritable_storage_says_to_retry_and_keeps_the_draft(participant_stub, store):
    draft = await participant_stub.CreateDraft(participant_service_pb2.CreateDraftRequest())
    store.staging.mkdir(parents=True, exist_ok=True)
    aside = store.root / "staging.aside"
    store.staging.rename(aside)
    store.staging.write_bytes(b"not a directory")
    try:
        refused = await _refused(upload(participant_stub, draft.name, PASSPORT, JPEG))
    finally:
        store.staging.unlink()
        aside.rename(store.staging)
    assert refused.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert details(refused)[0] == "DOCUMENT_STORAGE_UNAVAILABLE"
    assert "retry later" in refused.details()
    assert list((await _get(participant_stub, draft.name)).documents) == []
    retried = await upload(participant_stub, draft.name, PASSPORT, JPEG)
    assert "document:passport" not in retried.draft.remaining_steps
