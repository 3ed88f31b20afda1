"""Rebuilds on the real processes: `turnout rebuild` and the REST route swap in a new
generation while the stack runs, and the live projector carries on into it."""

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


async def _confirmed(api, session_id: str, expected: int, timeout: float = 30.0) -> dict:
    deadline, seats = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        answer = await api.get(f"/v1/sessions/{session_id}/availability")
        if answer.status_code == 200:
            seats = answer.json()
            if seats["confirmed"] == expected:
                return seats
        await asyncio.sleep(0.1)
    raise AssertionError(f"availability never showed {expected} confirmed: {seats}")


async def _book(api, session_id: str, name: str) -> None:
    person = await api.post("/v1/participants", json={"first_name": "Пётр", "last_name": name})
    assert person.status_code == 201, person.text
    booked = await api.post(f"/v1/sessions/{session_id}/registrations", json={"participant_id": person.json()["id"]},
                            headers={"Idempotency-Key": str(uuid.uuid4())})
    assert booked.status_code == 201, booked.text


async def test_cli_and_rest_rebuilds_swap_and_the_projection_carries_on(api, stack, unique):
    event = await api.post("/v1/events", json={
        "title": f"Пересборка {unique}", "new_venue": {"name": f"Зал {unique}"}, "capacity": 20, "kind": "one_off",
        "first_date": (date.today() + timedelta(days=3)).isoformat(),
        "sessions": [{"key": "s", "service_id": "laundry", "start_time": "11:00", "capacity": 10,
                      "booking_window_days": 30}]})
    assert event.status_code == 201, event.text
    [session] = (await api.get("/v1/sessions", params={"event_id": event.json()["id"]})).json()["sessions"]
    for name in ("Первый", "Второй", "Третий"):
        await _book(api, session["id"], name)
    before = await _confirmed(api, session["id"], 3)

    printed = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "turnout.cli", "rebuild", "--source", "auto"],
        capture_output=True, text=True, timeout=300, env={**os.environ, **stack.settings_env()}, check=False)
    assert printed.returncode == 0, printed.stdout + printed.stderr
    assert "rebuilt from the topics" in printed.stdout and "now serving rm." in printed.stdout
    assert await _confirmed(api, session["id"], 3) == before

    started = await api.post("/v1/admin/read-models/rebuild", json={"source": "outbox"})
    assert started.status_code == 202, started.text
    deadline = time.monotonic() + 300
    while (state := (await api.get(started.headers["location"])).json())["state"] == "running":
        assert time.monotonic() < deadline, state
        await asyncio.sleep(0.2)
    assert (state["state"], state["used_source"]) == ("succeeded", "outbox"), state

    await _book(api, session["id"], "Четвёртый")
    await _confirmed(api, session["id"], 4)
    report = (await api.get("/v1/admin/consistency")).json()
    ours = {f"sessions/{session['id']}", f"occurrences/{session['occurrence_id']}"}
    assert [m for m in report["mismatches"] if m["key"] in ours] == []
