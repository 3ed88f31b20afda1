"""Exports on the real processes: a booking made over REST reaches the export through relay,
Kafka and the projector; the CLI streams the same rows over gRPC."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import subprocess
import sys
import time
import uuid
from datetime import date, timedelta

import pytest

from kernel.auth import issue_token

pytestmark = pytest.mark.integration


async def _exported(api, params: dict, done, timeout: float = 20.0, headers=None) -> list[list[str]]:
    deadline, rows = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        answer = await api.get("/v1/exports/registrations", params=params, headers=headers)
        assert answer.status_code == 200, answer.text
        rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
        if done(rows):
            return rows
        await asyncio.sleep(0.1)
    raise AssertionError(f"the export never got there: {rows}")


async def test_a_booking_shows_in_the_export_and_the_cli_writes_it(api, stack, unique, tmp_path):
    event = await api.post("/v1/events", json={
        "title": f"Выгрузка {unique}", "new_venue": {"name": f"Склад {unique}"}, "capacity": 10,
        "kind": "one_off", "first_date": (date.today() + timedelta(days=2)).isoformat(),
        "sessions": [{"key": "wash", "service_id": "laundry", "start_time": "10:00", "capacity": 5,
                      "booking_window_days": 30}]})
    assert event.status_code == 201, event.text
    [session] = (await api.get("/v1/sessions", params={"event_id": event.json()["id"]})).json()["sessions"]
    person = await api.post("/v1/participants", json={"first_name": "Ольга", "last_name": "Экспортова",
                                                      "phone": "+7 912 345-67-89"})
    assert person.status_code == 201, person.text
    booked = await api.post(f"/v1/sessions/{session['id']}/registrations",
                            json={"participant_id": person.json()["id"], "comment": "<нужна помощь>"},
                            headers={"Idempotency-Key": str(uuid.uuid4())})
    assert booked.status_code == 201, booked.text

    venue_id = session["venue_id"]
    params = {"format": "csv", "venue_id": venue_id,
              "fields": "event_title,service,venue,participant_name,phone,state,comment"}
    rows = await _exported(api, params, lambda rows: len(rows) == 2)
    assert rows[1] == [f"Выгрузка {unique}", session["service_name"],
                       f"Склад {unique}", "Экспортова Ольга", "+79123456789", "confirmed",
                       "<нужна помощь>"]
    analyst = {"Authorization": "Bearer " + issue_token(stack.auth_secret, sub="e2e-analyst", roles=["analyst"])}
    masked = await _exported(api, params, lambda rows: len(rows) == 2, headers=analyst)
    assert masked[1][4] == "+7 *** ***-**-89"

    output = tmp_path / "registrations.xlsx"
    printed = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "turnout.cli", "export", "registrations", "--format", "xlsx", "--output", str(output),
         "--venue", venue_id, "--fields", "participant_name,phone"],
        capture_output=True, text=True, timeout=60, env={**os.environ, **stack.settings_env()}, check=False)
    assert printed.returncode == 0, printed.stderr
    from openpyxl import load_workbook

    sheet = load_workbook(output).active
    assert [list(r) for r in sheet.iter_rows(values_only=True)] == [
        ["Participant", "Phone"], ["Экспортова Ольга", "+7 *** ***-**-89"]]
