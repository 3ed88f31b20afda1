"""Staged sign-up through the REST gateway (in-process) in front of the real participant service."""

from __future__ import annotations

import hashlib
import os
import uuid

import httpx
import pytest
import sqlalchemy as sa

from drafts_support import JPEG, PNG, letters
from kernel.auth import issue_token
from participant_service.adapters.draft_store import key
from participant_service.adapters.tables import documents, participants

pytestmark = pytest.mark.integration

PROBLEM = "application/problem+json"


@pytest.fixture
def tag(unique: str) -> str:
    return letters(unique)


def _token(settings, *roles: str) -> dict[str, str]:
    return {"Authorization": "Bearer " + issue_token(settings.auth_secret, sub="someone", roles=list(roles))}


async def _upload(rest, draft_id: str, kind: str, content: bytes, filename: str = "passport.jpg",
                  content_type: str = "image/jpeg") -> httpx.Response:
    return await rest.post(f"/v1/drafts/{draft_id}/documents", data={"kind": kind},
                           files={"file": (filename, content, content_type)})


async def _complete(rest, tag: str) -> dict:
    created = await rest.post("/v1/drafts", json={"first_name": "Ольга", "last_name": f"Форма-{tag}",
                                                  "phone": "+7 916 000-11-22", "language": "ru"})
    assert created.status_code == 201, created.text
    uploaded = await _upload(rest, created.json()["id"], "passport", JPEG)
    assert uploaded.status_code == 201, uploaded.text
    return uploaded.json()["draft"]


async def test_create_resume_edit_and_remaining_steps(rest, participant_deps, tag):
    created = await rest.post("/v1/drafts", json={"first_name": "Ольга", "language": "ru"})
    assert created.status_code == 201, created.text
    draft = created.json()
    assert created.headers["location"] == f"/v1/drafts/{draft['id']}"
    assert draft["remaining_steps"] == ["last_name", "phone", "document:passport"]
    assert draft["documents"] == [] and draft["expires_at"] and draft["language"] == "ru"
    assert (await rest.post("/v1/drafts")).status_code == 201, "every field is optional"

    await participant_deps.redis.pexpire(key(draft["id"]), 5_000)
    resumed = await rest.get(f"/v1/drafts/{draft['id']}")
    assert resumed.status_code == 200
    assert resumed.json()["remaining_steps"] == draft["remaining_steps"]
    assert await participant_deps.redis.pttl(key(draft["id"])) > 23 * 3600 * 1000

    patched = await rest.patch(f"/v1/drafts/{draft['id']}", json={"last_name": f"Форма-{tag}", "phone": "89160001122",
                                                                    "kind": "volunteer"})
    assert patched.status_code == 200, patched.text
    assert patched.json()["phone"] == "+79160001122" and patched.json()["kind"] == "volunteer"
    assert patched.json()["remaining_steps"] == ["document:passport"]
    cleared = await rest.patch(f"/v1/drafts/{draft['id']}", json={"phone": None})
    assert cleared.json()["phone"] is None and cleared.json()["remaining_steps"] == ["phone", "document:passport"]


async def test_patch_names_invalid_and_unknown_fields(rest):
    draft = (await rest.post("/v1/drafts")).json()
    invalid = await rest.patch(f"/v1/drafts/{draft['id']}", json={"first_name": "Я", "phone": "123"})
    assert invalid.status_code == 400
    assert invalid.headers["content-type"] == PROBLEM
    assert invalid.json()["code"] == "validation_failed"
    assert sorted(e["field"] for e in invalid.json()["errors"]) == ["first_name", "phone"]
    unknown = await rest.patch(f"/v1/drafts/{draft['id']}", json={"card_number": "1"})
    assert unknown.status_code == 422
    assert [e["field"] for e in unknown.json()["errors"]] == ["card_number"]
    assert (await rest.get(f"/v1/drafts/{draft['id']}")).json()["first_name"] is None


async def test_unknown_draft_is_404(rest):
    for call in (rest.get("/v1/drafts/00000000-0000-4000-8000-000000000000"),
                 rest.patch("/v1/drafts/nope", json={"first_name": "Иван"}),
                 rest.post("/v1/drafts/nope/submit"),
                 _upload(rest, "00000000-0000-4000-8000-000000000000", "passport", JPEG)):
        answer = await call
        assert answer.status_code == 404, answer.text
        assert answer.json()["code"] == "not_found"


async def test_multipart_upload(rest, participant_deps):
    draft = (await rest.post("/v1/drafts")).json()
    uploaded = await _upload(rest, draft["id"], "selfie", PNG * 30, filename="C:\\photos\\me.png",
                             content_type="application/octet-stream")
    assert uploaded.status_code == 201, uploaded.text
    document = uploaded.json()["document"]
    assert document["content_type"] == "image/png", "sniffed from the content, not the declared type"
    assert document["kind"] == "selfie" and document["filename"] == "me.png"
    assert (document["size_bytes"], document["sha256"]) == (len(PNG) * 30, hashlib.sha256(PNG * 30).hexdigest())
    staged = participant_deps.drafts.documents.staging / document["id"]
    assert staged.read_bytes() == PNG * 30
    assert uploaded.json()["draft"]["documents"] == [document]

    wrong_kind = await _upload(rest, draft["id"], "diploma", JPEG)
    assert wrong_kind.status_code == 400 and [e["field"] for e in wrong_kind.json()["errors"]] == ["kind"]
    no_file = await rest.post(f"/v1/drafts/{draft['id']}/documents", data={"kind": "passport"},
                              files={"other": ("x", b"y")})
    assert no_file.status_code == 400
    json_body = await rest.post(f"/v1/drafts/{draft['id']}/documents", json={"kind": "passport"})
    assert json_body.status_code == 415


async def test_upload_refusals_as_problems(rest, participant_deps):
    draft = (await rest.post("/v1/drafts")).json()
    staging = participant_deps.drafts.documents.staging
    before = set(os.listdir(staging))
    exe = await _upload(rest, draft["id"], "passport", b"MZ\x90\x00" + b"\x00" * 5000, filename="passport.jpg")
    assert exe.status_code == 415, exe.text
    assert exe.headers["content-type"] == PROBLEM
    assert exe.json()["code"] == "unsupported_document_type"
    assert [e["field"] for e in exe.json()["errors"]] == ["file"]
    too_large = await _upload(rest, draft["id"], "passport", JPEG + b"\x00" * participant_deps.drafts.max_document_bytes)
    assert too_large.status_code == 413, too_large.text
    assert too_large.json()["code"] == "document_too_large"
    assert [e["field"] for e in too_large.json()["errors"]] == ["file"]
    assert set(os.listdir(staging)) == before
    assert (await rest.get(f"/v1/drafts/{draft['id']}")).json()["documents"] == []


async def test_the_gateway_refuses_a_body_far_above_the_limit_before_reading_it(settings, event_server,
                                                                                participant_server):
    from gateway.app import create_app

    gateway_settings = settings.model_copy(update={
        "participant_service_target": f"127.0.0.1:{participant_server.port}", "document_max_bytes": 1024})
    app = create_app(gateway_settings)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway",
                                     headers=_token(settings, "admin")) as client:
            draft = (await client.post("/v1/drafts")).json()
            answer = await _upload(client, draft["id"], "passport", JPEG + b"\x00" * 200_000)
            assert answer.status_code == 413
            assert answer.json()["code"] == "document_too_large"


async def test_submit_and_verification(rest, participant_deps, settings, tag):
    draft = await _complete(rest, tag)
    assert draft["remaining_steps"] == []
    key_header = {"Idempotency-Key": str(uuid.uuid4())}
    submitted = await rest.post(f"/v1/drafts/{draft['id']}/submit", headers=key_header)
    assert submitted.status_code == 201, submitted.text
    participant = submitted.json()
    assert submitted.headers["location"] == f"/v1/participants/{participant['id']}"
    assert participant["last_name"] == f"Форма-{tag}"
    assert participant["verification_status"] == "pending_review"
    again = await rest.post(f"/v1/drafts/{draft['id']}/submit", headers=key_header)
    assert again.status_code == 201 and again.json() == participant, "same key, same participant"
    assert (await rest.get(f"/v1/drafts/{draft['id']}")).status_code == 404
    async with participant_deps.engine.connect() as connection:
        assert await connection.scalar(sa.select(sa.func.count()).select_from(documents)
                                       .where(documents.c.participant_id == participant["id"])) == 1

    volunteer = await rest.post(f"/v1/participants/{participant['id']}/verification", json={"status": "approved"},
                                headers=_token(settings, "volunteer"))
    assert volunteer.status_code == 403 and volunteer.json()["code"] == "forbidden"
    rejected = await rest.post(f"/v1/participants/{participant['id']}/verification",
                               json={"status": "rejected", "reason": "паспорт просрочен"})
    assert rejected.status_code == 200, rejected.text
    assert (rejected.json()["verification_status"], rejected.json()["verification_reason"]) == (
        "rejected", "паспорт просрочен")
    fetched = (await rest.get(f"/v1/participants/{participant['id']}")).json()
    assert fetched["verification_status"] == "rejected"
    bad = await rest.post(f"/v1/participants/{participant['id']}/verification", json={"status": "maybe"})
    assert bad.status_code == 422 and [e["field"] for e in bad.json()["errors"]] == ["status"]
    reason_on_approval = await rest.post(f"/v1/participants/{participant['id']}/verification",
                                         json={"status": "approved", "reason": "x"})
    assert reason_on_approval.status_code == 400
    assert [e["field"] for e in reason_on_approval.json()["errors"]] == ["reason"]


async def test_submit_of_an_incomplete_draft_names_fields_and_keeps_it(rest, participant_deps, tag):
    draft = (await rest.post("/v1/drafts", json={"last_name": f"Форма-{tag}"})).json()
    refused = await rest.post(f"/v1/drafts/{draft['id']}/submit")
    assert refused.status_code == 400, refused.text
    assert sorted(e["field"] for e in refused.json()["errors"]) == ["documents", "first_name", "phone"]
    assert (await rest.get(f"/v1/drafts/{draft['id']}")).status_code == 200
    async with participant_deps.engine.connect() as connection:
        assert await connection.scalar(sa.select(sa.func.count()).select_from(participants)
                                       .where(participants.c.last_name == f"Форма-{tag}")) == 0


async def test_submit_with_unwritable_storage_is_503_and_keeps_the_draft(rest, participant_deps, tag):
    draft = await _complete(rest, tag)
    store = participant_deps.drafts.documents
    store.stored.mkdir(parents=True, exist_ok=True)
    aside = store.root / "stored.aside"
    store.stored.rename(aside)
    store.stored.write_bytes(b"")
    try:
        refused = await rest.post(f"/v1/drafts/{draft['id']}/submit")
    finally:
        store.stored.unlink()
        aside.rename(store.stored)
    assert refused.status_code == 503, refused.text
    assert refused.json()["code"] == "document_storage_unavailable"
    assert "retry later" in refused.json()["detail"]
    assert refused.headers["retry-after"]
    assert (await rest.get(f"/v1/drafts/{draft['id']}")).json()["documents"] == draft["documents"]
    assert (await rest.post(f"/v1/drafts/{draft['id']}/submit")).status_code == 201


async def test_participants_without_documents_show_no_status(rest, tag):
    created = await rest.post("/v1/participants", json={"first_name": "Без", "last_name": f"Форма-{tag}"})
    assert created.json()["verification_status"] is None
    refused = await rest.post(f"/v1/participants/{created.json()['id']}/verification", json={"status": "approved"})
    assert refused.status_code == 409 and refused.json()["code"] == "no_documents"
