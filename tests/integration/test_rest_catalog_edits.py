"""Editing events and sessions through the REST gateway in front of the real event service."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

pytestmark = pytest.mark.integration


def _body(unique: str, **overrides) -> dict:
    body = {
        "title": f"Правка {unique}",
        "new_venue": {"name": f"Площадка правок {unique}"},
        "capacity": 30,
        "kind": "one_off",
        "first_date": (date.today() + timedelta(days=3)).isoformat(),
        "sessions": [{"key": "l", "service_id": "laundry", "start_time": "12:00", "capacity": 10,
                      "booking_window_days": 30}],
    }
    body.update(overrides)
    return body


async def _event(rest, unique: str, **overrides) -> tuple[dict, dict]:
    created = await rest.post("/v1/events", json=_body(unique, **overrides))
    assert created.status_code == 201, created.text
    event = created.json()
    sessions = (await rest.get("/v1/sessions", params={"event_id": event["id"]})).json()["sessions"]
    return event, sessions[0]


async def _book(rest, session_id: str) -> dict:
    answer = await rest.post(f"/v1/sessions/{session_id}/seats", json={"participant_id": str(uuid.uuid4())})
    assert answer.status_code == 201, answer.text
    return answer.json()


async def test_patch_an_event_changes_only_the_fields_sent(rest, unique):
    event, _ = await _event(rest, unique)
    answer = await rest.patch(f"/v1/events/{event['id']}", json={"title": f"Новое {unique}", "capacity": 12})
    assert answer.status_code == 200, answer.text
    patched = answer.json()
    assert patched["title"] == f"Новое {unique}" and patched["capacity"] == 12
    assert patched["venue_id"] == event["venue_id"] and patched["sessions"] == event["sessions"]

    refused = await rest.patch(f"/v1/events/{event['id']}", json={"capacity": 5})
    assert refused.status_code == 400, refused.text
    assert [e["field"] for e in refused.json()["errors"]] == ["capacity"]
    empty = await rest.patch(f"/v1/events/{event['id']}", json={})
    assert empty.status_code == 400 and empty.json()["errors"][0]["field"] == "update_mask"
    assert (await rest.patch(f"/v1/events/{uuid.uuid4()}", json={"title": "x"})).status_code == 404


async def test_patch_a_session_and_refusals(rest, unique):
    event, session = await _event(rest, unique)
    for _ in range(2):
        await _book(rest, session["id"])

    below = await rest.patch(f"/v1/sessions/{session['id']}", json={"capacity": 1})
    assert below.status_code == 409 and below.json()["code"] == "capacity_below_registrations"
    above = await rest.patch(f"/v1/sessions/{session['id']}", json={"capacity": 31})
    assert above.status_code == 400 and [e["field"] for e in above.json()["errors"]] == ["capacity"]

    start = datetime.fromisoformat(session["starts_at"]) + timedelta(hours=1)
    answer = await rest.patch(f"/v1/sessions/{session['id']}", json={"capacity": 2, "starts_at": start.isoformat()})
    assert answer.status_code == 200, answer.text
    patched = answer.json()
    assert patched["capacity"] == 2 and patched["available"] == 0 and patched["registered"] == 2
    assert datetime.fromisoformat(patched["starts_at"]) == start.astimezone(UTC)
    assert (datetime.fromisoformat(patched["ends_at"]) - datetime.fromisoformat(patched["starts_at"])
            == datetime.fromisoformat(session["ends_at"]) - datetime.fromisoformat(session["starts_at"]))


async def test_delete_a_session_refused_with_registrations(rest, unique):
    _, session = await _event(rest, unique)
    seat = await _book(rest, session["id"])
    refused = await rest.delete(f"/v1/sessions/{session['id']}")
    assert refused.status_code == 409 and refused.json()["code"] == "session_has_registrations"
    assert (await rest.delete(f"/v1/seats/{seat['id']}")).status_code == 200
    deleted = await rest.delete(f"/v1/sessions/{session['id']}")
    assert deleted.status_code == 204, deleted.text
    assert (await rest.get(f"/v1/sessions/{session['id']}")).status_code == 404


async def test_archive_then_booking_is_refused_and_activate(rest, unique):
    event, session = await _event(rest, unique)
    await _book(rest, session["id"])
    unconfirmed = await rest.post(f"/v1/events/{event['id']}/archive", json={})
    assert unconfirmed.status_code == 409 and unconfirmed.json()["code"] == "confirmation_required"
    archived = await rest.post(f"/v1/events/{event['id']}/archive", json={"confirm": True})
    assert archived.status_code == 200 and archived.json()["status"] == "archived"
    refused = await rest.post(f"/v1/sessions/{session['id']}/seats", json={"participant_id": str(uuid.uuid4())})
    assert refused.status_code == 409 and refused.json()["code"] == "event_archived"
    listed = (await rest.get("/v1/events", params={"q": unique, "status": "archived"})).json()
    assert [e["id"] for e in listed["events"]] == [event["id"]]

    activated = await rest.post(f"/v1/events/{event['id']}/activate", json={})
    assert activated.status_code == 200 and activated.json()["status"] == "active"
    await _book(rest, session["id"])


async def test_delete_an_event_needs_force_with_registrations(rest, unique):
    event, session = await _event(rest, unique)
    await _book(rest, session["id"])
    refused = await rest.delete(f"/v1/events/{event['id']}")
    assert refused.status_code == 409 and refused.json()["code"] == "event_has_registrations"
    forced = await rest.delete(f"/v1/events/{event['id']}", params={"force": "true"})
    assert forced.status_code == 204, forced.text
    assert (await rest.get(f"/v1/events/{event['id']}")).status_code == 404


async def test_edits_need_the_admin_role(rest, settings, unique):
    from kernel.auth import issue_token

    event, session = await _event(rest, unique)
    volunteer = {"Authorization": f"Bearer {issue_token(settings.auth_secret, sub='v', roles=['volunteer'])}"}
    assert (await rest.patch(f"/v1/events/{event['id']}", json={"title": "x"}, headers=volunteer)).status_code == 403
    assert (await rest.delete(f"/v1/events/{event['id']}", headers=volunteer)).status_code == 403
    assert (await rest.post(f"/v1/events/{event['id']}/archive", headers=volunteer)).status_code == 403
    assert (await rest.patch(f"/v1/sessions/{session['id']}", json={"capacity": 1},
                             headers=volunteer)).status_code == 403
    assert (await rest.delete(f"/v1/sessions/{session['id']}", headers=volunteer)).status_code == 403
    assert (await rest.get(f"/v1/events/{event['id']}")).json()["title"] == event["title"]
