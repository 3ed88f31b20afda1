"""The catalog and ledger REST routes in front of the real event service (in-process)."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest

pytestmark = pytest.mark.integration


def _event_body(unique: str, **overrides) -> dict:
    body = {
        "title": f"Дебаты {unique}",
        "new_venue": {"name": f"Площадка {unique}"},
        "capacity": 300,
        "kind": "one_off",
        "first_date": (date.today() + timedelta(days=3)).isoformat(),
        "sessions": [
            {"key": "vtb", "service_id": "case-vtb", "start_time": "12:00", "capacity": 32, "booking_window_days": 30},
            {"key": "alabuga", "service_id": "case-alabuga", "start_time": "12:00", "capacity": 41,
             "booking_window_days": 30},
            {"key": "b1", "service_id": "case-b1", "start_time": "12:00", "capacity": 41, "booking_window_days": 30},
        ],
        "pools": [{"name": "Алабуга + Б1", "limit": 41, "session_keys": ["alabuga", "b1"]}],
        "max_sessions_per_participant": 1,
    }
    body.update(overrides)
    return body


async def test_services_come_from_the_catalog(rest):
    answer = await rest.get("/v1/services", params={"page_size": 100})
    assert answer.status_code == 200, answer.text
    ids = {s["id"] for s in answer.json()["services"]}
    assert {"laundry", "shower", "case-vtb"} <= ids


async def test_create_an_event_read_it_and_list_its_sessions(rest, unique):
    created = await rest.post("/v1/events", json=_event_body(unique), headers={"Idempotency-Key": str(uuid.uuid4())})
    assert created.status_code == 201, created.text
    event = created.json()
    assert created.headers["location"] == f"/v1/events/{event['id']}"
    assert event["venue_name"] == f"Площадка {unique}"
    assert [s["key"] for s in event["sessions"]] == ["vtb", "alabuga", "b1"]
    assert event["pools"] == [{"name": "Алабуга + Б1", "limit": 41, "session_keys": ["alabuga", "b1"]}]
    assert (await rest.get(f"/v1/events/{event['id']}")).json() == event

    sessions = (await rest.get("/v1/sessions", params={"event_id": event["id"]})).json()["sessions"]
    assert sorted(s["capacity"] for s in sessions) == [32, 41, 41]
    assert all(s["available"] == s["capacity"] and s["registered"] == 0 for s in sessions)
    pooled = [s for s in sessions if s["pool_ids"]]
    assert len(pooled) == 2 and pooled[0]["pool_ids"] == pooled[1]["pool_ids"]

    listed = (await rest.get("/v1/events", params={"q": unique})).json()
    assert [e["id"] for e in listed["events"]] == [event["id"]]
    assert listed["active_count"] == 1 and listed["archived_count"] == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"capacity": 0}, "capacity"),
        ({"title": "x" * 10_000}, "title"),
        ({"sessions": [{"service_id": "laundry", "start_time": "10:00", "capacity": 301}]}, "sessions[0].capacity"),
        ({"sessions": [{"service_id": "no-such-service", "start_time": "10:00"}]}, "sessions[0].service_id"),
        ({"sessions": [{"service_id": "laundry", "start_time": "25:99"}]}, "sessions[0].start_time"),
        ({"new_venue": None, "venue_id": str(uuid.uuid4())}, "venue_id"),
        ({"kind": "recurring", "recurrence": {"frequency": "weekly", "interval": 0}}, "recurrence.interval"),
        ({"kind": "recurring", "recurrence": {"frequency": "daily", "until_date": "2020-01-01"}},
         "recurrence.until_date"),
    ],
)
async def test_bad_events_are_400_naming_the_rest_field(rest, unique, change, field):
    body = _event_body(unique, pools=[], **change)
    answer = await rest.post("/v1/events", json=body)
    assert answer.status_code == 400, answer.text
    problem = answer.json()
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert problem["code"] == "validation_failed"
    assert field in [e["field"] for e in problem["errors"]], problem


async def test_malformed_json_dates_are_422_naming_the_field(rest, unique):
    answer = await rest.post("/v1/events", json=_event_body(unique, first_date="31.12.2026"))
    assert answer.status_code == 422
    assert "first_date" in [e["field"] for e in answer.json()["errors"]]


async def test_negative_page_size_is_400(rest):
    answer = await rest.get("/v1/events", params={"page_size": -1})
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["field"] == "page_size"


async def test_book_hold_confirm_release_and_refusals_over_rest(rest, unique):
    event = (await rest.post("/v1/events", json=_event_body(unique))).json()
    sessions = (await rest.get("/v1/sessions", params={"event_id": event["id"]})).json()["sessions"]
    vtb = next(s for s in sessions if s["capacity"] == 32)
    alabuga = next(s for s in sessions if s["pool_ids"])
    someone, other = str(uuid.uuid4()), str(uuid.uuid4())

    booked = await rest.post(f"/v1/sessions/{vtb['id']}/seats", json={"participant_id": someone})
    assert booked.status_code == 201, booked.text
    assert booked.json()["state"] == "confirmed"

    again = await rest.post(f"/v1/sessions/{vtb['id']}/seats", json={"participant_id": someone})
    assert again.status_code == 409
    assert again.json()["code"] == "already_registered"

    second_case = await rest.post(f"/v1/sessions/{alabuga['id']}/seats", json={"participant_id": someone})
    assert second_case.status_code == 409
    assert second_case.json()["code"] == "limit_per_participant"

    held = await rest.post(f"/v1/sessions/{alabuga['id']}/seats", json={"participant_id": other, "hold": True,
                                                                         "ttl_seconds": 120})
    assert held.status_code == 202, held.text
    assert held.json()["state"] == "held" and held.json()["expires_at"]
    confirmed = await rest.post(f"/v1/seats/{held.json()['id']}/confirm")
    assert confirmed.status_code == 200 and confirmed.json()["state"] == "confirmed"
    released = await rest.delete(f"/v1/seats/{held.json()['id']}")
    assert released.status_code == 200 and released.json()["state"] == "released"
    after = (await rest.get(f"/v1/sessions/{alabuga['id']}")).json()
    assert after["registered"] == 0 and after["available"] == after["capacity"]

    bad_ttl = await rest.post(f"/v1/sessions/{vtb['id']}/seats", json={"participant_id": other, "hold": True,
                                                                        "ttl_seconds": -5})
    assert bad_ttl.status_code == 400
    assert "ttl_seconds" in [e["field"] for e in bad_ttl.json()["errors"]]


async def test_only_admins_override_capacity(rest, settings, unique):
    from kernel.auth import issue_token

    event = (await rest.post("/v1/events", json=_event_body(unique))).json()
    session = (await rest.get("/v1/sessions", params={"event_id": event["id"]})).json()["sessions"][0]
    volunteer = issue_token(settings.auth_secret, sub="volunteer-1", roles=["volunteer"])
    refused = await rest.post(f"/v1/sessions/{session['id']}/seats",
                              json={"participant_id": str(uuid.uuid4()), "override_capacity": True},
                              headers={"Authorization": f"Bearer {volunteer}"})
    assert refused.status_code == 403
    assert refused.json()["code"] == "field_not_settable"  # issue 6: a role-dependent field names itself
    assert [e["field"] for e in refused.json()["errors"]] == ["override_capacity"]


async def test_lists_filter_by_participant_id_card_number_or_name(rest, unique):
    letters = "".join("абвгдежзиклмнопр"[int(c, 16)] for c in unique[:6])
    person = (await rest.post("/v1/participants", json={"first_name": "Анна", "last_name": f"Фильтр{letters}"})).json()
    event = (await rest.post("/v1/events", json=_event_body(unique))).json()
    sessions = (await rest.get("/v1/sessions", params={"event_id": event["id"]})).json()["sessions"]
    booked = await rest.post(f"/v1/sessions/{sessions[0]['id']}/seats", json={"participant_id": person["id"]})
    assert booked.status_code == 201, booked.text

    for value in (person["id"], person["card_number"], f"фильтр{letters}", f"анна фильтр{letters[:3]}"):
        events = (await rest.get("/v1/events", params={"participant": value})).json()["events"]
        assert [e["id"] for e in events] == [event["id"]], value
        found = (await rest.get("/v1/sessions", params={"participant": value})).json()["sessions"]
        assert [s["id"] for s in found] == [sessions[0]["id"]], value

    nobody = await rest.get("/v1/events", params={"participant": f"нетнет{letters}"})
    assert nobody.status_code == 200 and nobody.json()["events"] == []
    searched = (await rest.get("/v1/participants", params={"q": person["card_number"]})).json()["participants"]
    assert [p["id"] for p in searched] == [person["id"]]
