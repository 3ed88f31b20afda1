"""The audit trail on the real processes: a REST action goes through the service, its outbox,
the relay, Kafka and the projector, and shows in `GET /v1/audit` with who did it."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from kernel.auth import issue_token

pytestmark = pytest.mark.integration


async def _entries(api, params: dict, done, timeout: float = 20.0) -> list[dict]:
    deadline, seen = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        answer = await api.get("/v1/audit", params=params)
        assert answer.status_code == 200, answer.text
        seen = answer.json()["entries"]
        if done(seen):
            return seen
        await asyncio.sleep(0.1)
    raise AssertionError(f"/v1/audit {params} never got there: {seen}")


async def test_a_created_participant_shows_in_the_audit_trail(api, stack, unique):
    created = await api.post("/v1/participants", json={"first_name": "Аудит", "last_name": "Проверка"},
                             headers={"X-Request-Id": f"audit-{unique}"})
    assert created.status_code == 201, created.text
    participant_id = created.json()["id"]

    by_target = {"target_type": "participant", "target_id": participant_id}
    [entry] = await _entries(api, by_target, lambda entries: len(entries) >= 1)
    assert entry["command"] == "turnout.participant.v1.ParticipantCreated"
    assert (entry["actor"], entry["target_type"], entry["target_id"]) == ("e2e-admin", "participant", participant_id)
    assert entry["at"] and entry["request_id"] == f"audit-{unique}"

    mine = await _entries(api, {"actor": "e2e-admin", "page_size": 1000},
                          lambda entries: any(e["id"] == entry["id"] for e in entries))
    assert all(e["actor"] == "e2e-admin" for e in mine)

    analyst = issue_token(stack.auth_secret, sub="e2e-analyst", roles=["analyst"])
    volunteer = issue_token(stack.auth_secret, sub="e2e-volunteer", roles=["volunteer"])
    async with httpx.AsyncClient(base_url=stack.urls()["gateway"], timeout=15) as other:
        seen = await other.get("/v1/audit", params=by_target, headers={"Authorization": f"Bearer {analyst}"})
        assert seen.status_code == 200 and [e["id"] for e in seen.json()["entries"]] == [entry["id"]]
        refused = await other.get("/v1/audit", params=by_target, headers={"Authorization": f"Bearer {volunteer}"})
        assert refused.status_code == 403
