"""An occurrence's life on the real processes: event-service's scheduler opens the
confirmations after a policy change, participant-service's lifecycle consumer asks every
confirmed registration, participants answer over REST (a waitlisted participant is offered the
declined seat), an admin makes the occurrence ready, the answers are settled and the rounds are
drawn from those still holding a confirmed seat; the stats, the rounds read and the
notification requests on Kafka all agree.

The admin closes the answers seconds after they opened, far short of the fair chance the
policy promises, so the unanswered are kept rather than released (the release itself is
covered in tests/integration/test_reconfirmation.py and test_occurrence_lifecycle.py)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from datetime import date, timedelta

import pytest

from kernel import topics
from kernel.auth import issue_token
from kernel.kafka import make_reader
from kernel.settings import Settings
from turnout.common.v1 import envelope_pb2
from turnout.notification.v1 import notification_pb2

pytestmark = pytest.mark.integration

COMING, DECLINING, SILENT = 3, 1, 2


async def _eventually(read, done, what: str, timeout: float = 40.0):
    deadline, seen = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        seen = await read()
        if done(seen):
            return seen
        await asyncio.sleep(0.2)
    raise AssertionError(f"{what} never happened; last seen: {seen}")


async def _json(api, url: str):
    answer = await api.get(url)
    return answer.json() if answer.status_code == 200 else None


def _notifications(stack, participant_ids: set[str]) -> Counter:
    """(template, participant) of every request on the notifications topic for these people."""
    settings = Settings(kafka_bootstrap=stack.engine_urls["kafka"])
    reader = make_reader(settings, [topics.NOTIFICATIONS], request_timeout_ms=5000)
    found: Counter = Counter()
    try:
        quiet = 0
        while quiet < 3:  # the topic is read to its end once three polls in a row bring nothing
            batches = reader.poll(timeout_ms=300)
            quiet = 0 if batches else quiet + 1
            for records in batches.values():
                for record in records:
                    envelope = envelope_pb2.Envelope.FromString(record.value)
                    request = notification_pb2.NotificationRequested()
                    if not envelope.payload.Unpack(request) or request.WhichOneof("recipient") != "participant":
                        continue
                    participant_id = request.participant.removeprefix("participants/")
                    if participant_id in participant_ids:
                        found[request.template_key, participant_id] += 1
    finally:
        reader.close()
    return found


async def test_reconfirmation_and_rounds_on_the_real_processes(api, stack, unique):
    event = await api.post("/v1/events", json={
        "title": f"Быстрые знакомства {unique}", "new_venue": {"name": f"Кафе {unique}"}, "capacity": 20,
        "kind": "one_off", "first_date": (date.today() + timedelta(days=3)).isoformat(),
        "sessions": [{"key": "evening", "service_id": "clothes", "start_time": "19:00",
                      "capacity": COMING + DECLINING + SILENT, "booking_window_days": 30}],
        "rounds": {"round_minutes": 7, "break_minutes": 3, "group_size": 4}})
    assert event.status_code == 201, event.text
    event_id = event.json()["id"]
    assert event.json()["lifecycle"]["confirming_before_minutes"] == 1440
    [session] = (await api.get("/v1/sessions", params={"event_id": event_id})).json()["sessions"]
    occurrence_id = session["occurrence_id"]

    people, registrations = [], []
    for index in range(COMING + DECLINING + SILENT + 1):
        created = await api.post("/v1/participants", json={"first_name": "Ирина", "last_name": "Гостья" + "абвгдежз"[index]})
        assert created.status_code == 201, created.text
        people.append(created.json()["id"])
    for person in people[:-1]:
        booked = await api.post(f"/v1/sessions/{session['id']}/registrations", json={"participant_id": person},
                                headers={"Idempotency-Key": str(uuid.uuid4())})
        assert booked.status_code == 201, booked.text
        registrations.append(booked.json()["id"])
    waiting = await api.post(f"/v1/sessions/{session['id']}/registrations",
                             json={"participant_id": people[-1], "waitlist": True})
    assert waiting.status_code == 202, waiting.text

    # Three days ahead, the default timetable asks nobody yet; a 30-day policy makes the
    # confirmations due at once, and the scheduler (not the test) opens them.
    changed = await api.patch(f"/v1/events/{event_id}", json={"lifecycle": {
        "confirming_before_minutes": 30 * 24 * 60, "reconfirmation_deadline_before_minutes": 60,
        "release_unanswered": True, "reminders_minutes": []}})
    assert changed.status_code == 200, changed.text
    await _eventually(lambda: _json(api, f"/v1/occurrences/{occurrence_id}"),
                      lambda o: o and o["state"] == "confirming", "the scheduler opening the confirmations")
    for registration_id in registrations:
        asked = await _eventually(lambda r=registration_id: _json(api, f"/v1/registrations/{r}"),
                                  lambda r: r and r["reconfirmation"] == "requested", "the reconfirmation request")
        assert asked["reconfirmation_deadline"]

    secret = stack.auth_secret
    for position, registration_id in enumerate(registrations[:COMING + DECLINING]):
        person = people[position]
        token = issue_token(secret, sub=f"e2e:{person}", roles=["participant"], participant_id=person)
        answer = "confirm" if position < COMING else "decline"
        answered = await api.post(f"/v1/registrations/{registration_id}/reconfirmation", json={"answer": answer},
                                  headers={"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())})
        assert answered.status_code == 200, answered.text
        assert answered.json()["reconfirmation"] == ("confirmed" if answer == "confirm" else "declined")
    # The declined seat goes to the waitlist by itself (participant-service's reconciler).
    offered = await _eventually(lambda: _json(api, f"/v1/registrations/{waiting.json()['id']}"),
                                lambda r: r and r["state"] == "offered", "the waitlist offer")
    assert offered["expires_at"]

    moved = await api.post(f"/v1/occurrences/{occurrence_id}/transition", json={"state": "ready"})
    assert moved.status_code == 200, moved.text
    silent = registrations[COMING + DECLINING:]
    for registration_id in silent:
        kept = await _eventually(lambda r=registration_id: _json(api, f"/v1/registrations/{r}"),
                                 lambda r: r and r["reconfirmation"] == "unanswered_kept",
                                 "the settlement of an unanswered registration")
        assert kept["state"] == "confirmed"

    rounds = await _eventually(lambda: _json(api, f"/v1/occurrences/{occurrence_id}/rounds"), bool,
                               "the rounds schedule")
    coming = people[:COMING] + people[COMING + DECLINING:-1]
    groups = rounds["groups"]
    assert sorted(p for g in groups for p in g["participants"]) == sorted(f"participants/{p}" for p in coming)
    assert sorted(len(g["participants"]) for g in groups) == [2, 3]  # 5 people, groups of at most 4
    for group in groups:
        met = Counter(frozenset((pair["first"], pair["second"])) for r in group["rounds"] for pair in r["pairs"])
        size = len(group["participants"])
        assert len(met) == size * (size - 1) // 2 and set(met.values()) == {1}

    stats = await _eventually(lambda: _json(api, f"/v1/events/{event_id}/stats"),
                              lambda s: s and s["totals"]["counts"]["reconfirmation_no_answer"] == SILENT
                              and s["totals"]["counts"]["reconfirmation_declined"] == DECLINING,
                              "the reconfirmation counts in the read model")
    assert stats["totals"]["counts"]["reconfirmation_confirmed"] == COMING

    expected = Counter({("reconfirmation.request", p): 1 for p in people[:-1]})
    expected.update({("waitlist.offer", people[-1]): 1})
    found = await _eventually(lambda: asyncio.to_thread(_notifications, stack, set(people)),
                              lambda f: f == expected, "the participants' notification requests")
    assert found == expected
