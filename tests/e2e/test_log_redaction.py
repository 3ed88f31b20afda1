"""Logs never hold tokens, phones or document names in clear (issue 6).

A full scenario on the running processes seeds values nobody else uses, along the happy
path and the error paths that tend to quote their input (a malformed phone, a bad token, a
refused upload, a search by phone, a visitor sign-in by phone and a refused one), then
searches every log file the stack wrote: the Turnout processes' and the engines'.
"""

from __future__ import annotations

import asyncio
import random
import re
import time
from datetime import date, timedelta

import httpx
import pytest

from drafts_support import JPEG, PDF, letters
from kernel.auth import issue_token

pytestmark = pytest.mark.integration


def _phone() -> tuple[str, str]:
    """A phone as a person types it and as stored (E.164), unlikely to exist anywhere else."""
    digits = f"9{random.randrange(10**8, 10**9):09d}"
    return f"+7 ({digits[:3]}) {digits[3:6]}-{digits[6:8]}-{digits[8:]}", f"+7{digits}"


def _logs_holding(stack, needles: dict[str, str]) -> dict[str, list[str]]:
    """Which seeded values appear in which log files (case-insensitive)."""
    found: dict[str, list[str]] = {}
    for path in sorted((stack.data_dir / "logs").glob("*.log")):
        text = path.read_text(errors="replace").lower()
        for what, value in needles.items():
            if value.lower() in text:
                found.setdefault(what, []).append(path.name)
    return found


async def test_a_full_scenario_leaves_no_token_phone_or_document_name_in_any_log(api, stack, unique, admin_token):
    tag = letters(unique)
    typed_phone, stored_phone = _phone()
    draft_typed_phone, draft_stored_phone = _phone()
    document_name = f"passport-scan-{tag}.jpg"
    refused_document_name = f"medical-{tag}.exe"
    participant_token = ""

    # A participant with a phone, found by it, edited, booked on a session.
    created = await api.post("/v1/participants", json={"first_name": "Ольга", "last_name": f"Журнал{tag}",
                                                       "phone": typed_phone})
    assert created.status_code == 201, created.text
    participant_id = created.json()["id"]
    participant_token = issue_token(stack.auth_secret, sub=f"visitor-{tag}", roles=["participant"],
                                    participant_id=participant_id)
    signed_in = await api.post("/v1/auth/visitor", headers={"Authorization": ""},
                               json={"last_name": f"журнал{tag}", "phone": typed_phone})
    assert signed_in.status_code == 200, signed_in.text
    visitor_token = signed_in.json()["access_token"]
    _, unknown_phone = _phone()
    refused_sign_in = await api.post("/v1/auth/visitor", json={"last_name": f"Журнал{tag}", "phone": unknown_phone})
    assert refused_sign_in.status_code == 401, refused_sign_in.text
    found = await api.get("/v1/participants", params={"q": "8" + stored_phone[2:]})
    assert [p["id"] for p in found.json()["participants"]] == [participant_id]
    bad_phone = await api.patch(f"/v1/participants/{participant_id}", json={"phone": typed_phone + "99"})
    assert bad_phone.status_code == 400, bad_phone.text

    event = await api.post("/v1/events", json={
        "title": f"Журнал {tag}", "new_venue": {"name": f"Зал {tag}"}, "capacity": 5, "kind": "one_off",
        "first_date": (date.today() + timedelta(days=3)).isoformat(),
        "sessions": [{"key": "talk", "service_id": "laundry", "start_time": "10:00", "capacity": 5,
                      "booking_window_days": 30}]})
    assert event.status_code == 201, event.text
    [session] = (await api.get("/v1/sessions", params={"event_id": event.json()["id"]})).json()["sessions"]
    as_participant = {"Authorization": f"Bearer {participant_token}"}
    booked = await api.post(f"/v1/sessions/{session['id']}/registrations", headers=as_participant,
                            json={"participant_id": participant_id})
    assert booked.status_code == 201, booked.text
    mine = await api.get(f"/v1/participants/{participant_id}/registrations", headers=as_participant)
    assert mine.status_code == 200, mine.text
    as_visitor = await api.get(f"/v1/participants/{participant_id}/registrations",
                               headers={"Authorization": f"Bearer {visitor_token}"})
    assert as_visitor.status_code == 200, as_visitor.text

    # A staged sign-up with a document, a refused document, and a duplicate-free submit.
    draft = await api.post("/v1/drafts", json={"first_name": "Анна", "last_name": f"Черновик{tag}",
                                               "phone": draft_typed_phone, "language": "ru"})
    assert draft.status_code == 201, draft.text
    draft_id = draft.json()["id"]
    refused = await api.post(f"/v1/drafts/{draft_id}/documents", data={"kind": "passport"},
                             files={"file": (refused_document_name, b"MZ\x90\x00" * 100, "application/octet-stream")})
    assert refused.status_code in (400, 415, 422), refused.text
    uploaded = await api.post(f"/v1/drafts/{draft_id}/documents", data={"kind": "passport"},
                              files={"file": (document_name, JPEG, "image/jpeg")})
    assert uploaded.status_code == 201, uploaded.text
    submitted = await api.post(f"/v1/drafts/{draft_id}/submit")
    assert submitted.status_code == 201, submitted.text
    twice = await api.post(f"/v1/drafts/{draft_id}/submit")
    assert twice.status_code in (404, 409), twice.text
    pdf = await api.post("/v1/drafts", json={"phone": draft_typed_phone})
    assert pdf.status_code == 201, pdf.text
    assert (await api.post(f"/v1/drafts/{pdf.json()['id']}/documents", data={"kind": "passport"},
                           files={"file": (document_name.replace(".jpg", ".pdf"), PDF, "application/pdf")})
            ).status_code == 201

    # Tokens that fail: expired, tampered, and a well-formed one for nobody's secret.
    expired = issue_token(stack.auth_secret, sub="old", roles=["admin"], ttl_seconds=1)
    forged = issue_token("a-secret-that-is-not-the-stacks-one-at-all", sub="forger", roles=["admin"])
    await asyncio.sleep(1.1)
    for token in (expired, admin_token[:-4] + "abcd", forged):
        refused_token = await api.get("/v1/events", headers={"Authorization": f"Bearer {token}"})
        assert refused_token.status_code == 401, refused_token.text

    # Everything reaches the read side, so the projector has logged whatever it logs.
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        view = await api.get(f"/v1/participants/{participant_id}/view", params={"when": "all"})
        if view.status_code == 200 and view.json().get("registrations"):
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError(f"the participant view never showed the booking: {view.text}")
    async with httpx.AsyncClient() as plain:  # the request log lines are written after each answer
        await plain.get(stack.urls()["gateway"] + "/healthz")

    needles = {
        "admin token": admin_token, "participant token": participant_token, "expired token": expired,
        "visitor token": visitor_token, "unknown phone": unknown_phone, "unknown phone digits": unknown_phone[2:],
        "forged token": forged,
        "typed phone": typed_phone, "stored phone": stored_phone, "phone digits": stored_phone[2:],
        "draft phone": draft_stored_phone, "draft phone digits": draft_stored_phone[2:],
        "document name": document_name, "refused document name": refused_document_name,
        "document name stem": document_name.rsplit(".", 1)[0],
    }
    assert _logs_holding(stack, needles) == {}
    # The search is worth something only if it finds what this scenario did log: the
    # routes it took, and the participant's token subject as the actor of its booking.
    gateway_log = (stack.data_dir / "logs" / "gateway.log").read_text()
    assert re.search(r'"route": "/v1/drafts/\{draft_id\}/documents"', gateway_log)
    assert "participant-service.log" in _logs_holding(stack, {"actor": f"visitor-{tag}"})["actor"]
