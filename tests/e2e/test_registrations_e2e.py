"""Registrations on the real processes: participant-service's saga calls event-service over
gRPC, and its background reconciler offers a freed seat to the waitlist by itself."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from datetime import date, timedelta

import pytest

pytestmark = pytest.mark.integration


async def _participant(api, last_name: str) -> str:
    created = await api.post("/v1/participants", json={"first_name": "Ольга", "last_name": last_name})
    assert created.status_code == 201, created.text
    return created.json()["id"]


async def _until(api, url: str, state: str, timeout: float = 20.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        current = (await api.get(url)).json()
        if current["state"] == state:
            return current
        await asyncio.sleep(0.1)
    raise AssertionError(f"{url} never became {state}: {current}")


async def _projected(api, session_id: str, done) -> dict:
    return await _read_model(api, f"/v1/sessions/{session_id}/availability", done)


async def _read_model(api, url: str, done, timeout: float = 20.0) -> dict:
    deadline, seen = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        answer = await api.get(url)
        if answer.status_code == 200:
            seen = answer.json()
            if done(seen):
                return seen
        else:
            assert answer.status_code == 404, answer.text
        await asyncio.sleep(0.05)
    raise AssertionError(f"{url} never got there: {seen}")


async def test_book_waitlist_cancel_and_the_offer_comes_by_itself(api, stack, unique):
    event = await api.post("/v1/events", json={
        "title": f"Стирка {unique}", "new_venue": {"name": f"Прачечная {unique}"}, "capacity": 10,
        "kind": "one_off", "first_date": (date.today() + timedelta(days=2)).isoformat(),
        "sessions": [{"key": "wash", "service_id": "laundry", "start_time": "10:00", "capacity": 1,
                      "booking_window_days": 30}]})
    assert event.status_code == 201, event.text
    [session] = (await api.get("/v1/sessions", params={"event_id": event.json()["id"]})).json()["sessions"]
    first, second = await _participant(api, "Первая"), await _participant(api, "Вторая")

    booked = await api.post(f"/v1/sessions/{session['id']}/registrations", json={"participant_id": first},
                            headers={"Idempotency-Key": str(uuid.uuid4())})
    assert booked.status_code == 201, booked.text
    waiting = await api.post(f"/v1/sessions/{session['id']}/registrations",
                             json={"participant_id": second, "waitlist": True})
    assert waiting.status_code == 202 and waiting.json()["state"] == "waitlisted"
    assert (await api.get(f"/v1/sessions/{session['id']}")).json()["available"] == 0
    # The read model follows through relay, Kafka and projector.
    availability = await _projected(api, session["id"], lambda a: a["confirmed"] == 1)
    assert (availability["capacity"], availability["available"]) == (1, 0)
    assert availability["occurrence"]["participants"] == 1

    assert (await api.delete(f"/v1/registrations/{booked.json()['id']}")).status_code == 200
    offer = await _until(api, f"/v1/registrations/{waiting.json()['id']}", "offered")
    assert offer["expires_at"]
    accepted = await api.post(f"/v1/registrations/{offer['id']}/confirm")
    assert accepted.json()["state"] == "confirmed", accepted.text
    await _projected(api, session["id"], lambda a: a["confirmed"] == 1 and a["held"] == 0
                     and a["occurrence"]["participants"] == 1)
    mine = (await api.get(f"/v1/participants/{second}/registrations", params={"when": "upcoming"})).json()
    assert [r["state"] for r in mine["registrations"]] == ["confirmed"]

    stats = await _read_model(api, f"/v1/events/{event.json()['id']}/stats",
                              lambda s: s["totals"]["counts"]["cancelled"] == 1
                              and s["totals"]["counts"]["confirmed"] == 1)
    assert stats["totals"]["seats_left"] == 0
    assert [g["id"] for g in stats["by_service"]] == ["laundry"]
    metrics = await _read_model(api, f"/v1/participants/{second}/metrics", lambda m: m["upcoming"] == 1)
    assert (metrics["registrations"], metrics["cancellations"]) == (1, 0)

    # The same figures from the CLI, given the stack's settings.
    printed = subprocess.run(
        [sys.executable, "-m", "turnout.cli", "stats", "--event", event.json()["id"]],
        capture_output=True, text=True, timeout=60, env={**os.environ, **stack.settings_env(), "COLUMNS": "250"},
        check=False)
    assert printed.returncode == 0, printed.stderr
    assert session["id"][:8] in printed.stdout and "laundry" in printed.stdout, printed.stdout


async def test_killing_relays_and_projector_mid_bookings_leaves_read_models_equal_to_the_command_side(
        api, stack, unique):
    import redis.asyncio as aioredis

    from reporting_service.consistency import ConsistencyChecker
    from reporting_service import generations

    event = await api.post("/v1/events", json={
        "title": f"Дебаты {unique}", "new_venue": {"name": f"Зал {unique}"}, "capacity": 30, "kind": "one_off",
        "first_date": (date.today() + timedelta(days=2)).isoformat(),
        "sessions": [{"key": k, "service_id": "case-vtb", "start_time": t, "capacity": 8, "booking_window_days": 30}
                     for k, t in (("a", "10:00"), ("b", "12:00"), ("c", "14:00"))]})
    assert event.status_code == 201, event.text
    sessions = (await api.get("/v1/sessions", params={"event_id": event.json()["id"]})).json()["sessions"]
    people = [await _participant(api, f"Участник-{chr(0x430 + i)}") for i in range(30)]
    gate = asyncio.Semaphore(6)

    async def book(index: int, who: str) -> None:
        async with gate:
            session = sessions[index % 3]["id"]
            answer = await api.post(f"/v1/sessions/{session}/registrations",
                                    json={"participant_id": who, "waitlist": True},
                                    headers={"Idempotency-Key": str(uuid.uuid4())})
            assert answer.status_code in (201, 202), answer.text
            if index % 5 == 0:
                cancelled = await api.delete(f"/v1/registrations/{answer.json()['id']}")
                assert cancelled.status_code == 200, cancelled.text

    first = asyncio.gather(*(book(i, who) for i, who in enumerate(people[:15])))
    await asyncio.sleep(0.3)
    for component in ("event-relay", "participant-relay", "projector"):
        stack.stop_component(component, kill=True)  # SIGKILL: nothing marked sent, no offsets committed
    await first
    await asyncio.gather(*(book(i + 15, who) for i, who in enumerate(people[15:])))
    for component in ("event-relay", "participant-relay", "projector"):
        stack.start_component(component)
    stack.wait_ready(("event-relay", "participant-relay", "projector"))

    ours = {f"sessions/{s['id']}" for s in sessions} | {f"occurrences/{sessions[0]['occurrence_id']}"}
    client = aioredis.from_url(stack.engine_urls["redis"], decode_responses=True)
    checker = ConsistencyChecker(stack.settings_env()["TURNOUT_DATABASE_URL"].replace("+asyncpg", ""), client,
                                 await generations.active_keyspace(client))
    try:
        deadline = time.monotonic() + 60
        while True:
            mismatches = [m for m in (await checker.check()).mismatches if m.key in ours]
            if not mismatches:
                break
            assert time.monotonic() < deadline, f"read models never converged: {mismatches}"
            await asyncio.sleep(0.5)
    finally:
        await client.aclose()
    stats = (await api.get(f"/v1/events/{event.json()['id']}/stats")).json()
    assert stats["totals"]["counts"]["cancelled"] == 6
    assert stats["totals"]["counts"]["registered"] == 24
