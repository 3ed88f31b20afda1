"""Registrations through the REST gateway, end to end against the in-process services and the
real engines: the booking-API scenario, holds, waitlists, idempotency keys, attendance, a
participant's registrations and bad input."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from kernel.auth import issue_token
from ledger_fixtures import SessionSpec, create_occurrence
from participant_service.application.reconciler import reconcile_once
from registration_fixtures import live_seats, new_participants, registration_rows

pytestmark = pytest.mark.integration


@pytest.fixture
def engine(event_deps):
    return event_deps.engine


def bearer(settings, *roles: str, sub: str = "someone", participant_id: str | None = None) -> dict[str, str]:
    token = issue_token(settings.auth_secret, sub=sub, roles=list(roles), participant_id=participant_id)
    return {"Authorization": f"Bearer {token}"}


async def book(rest, session_id: str, participant_id: str, key: str | None = None, **body):
    headers = {"Idempotency-Key": key} if key else {}
    return await rest.post(f"/v1/sessions/{session_id}/registrations",
                           json={"participant_id": participant_id, **body}, headers=headers)


async def test_the_booking_api_scenario(engine, rest, participant_stub) -> None:
    occurrence = await create_occurrence(engine, [SessionSpec("s", 2)])
    session_id = occurrence.sessions["s"]
    a, b, c = await new_participants(participant_stub, 3)

    first = await book(rest, session_id, a)
    assert first.status_code == 201, first.text
    body = first.json()
    assert (body["state"], body["participant_id"], body["session_id"]) == ("confirmed", a, session_id)
    assert first.headers["Location"] == f"/v1/registrations/{body['id']}"
    assert body["registered_by"] == "rest-admin"

    again = await book(rest, session_id, a)
    assert again.status_code == 409
    assert again.headers["content-type"].startswith("application/problem+json")
    assert again.json()["code"] == "already_registered"

    assert (await book(rest, session_id, b)).status_code == 201
    full = await book(rest, session_id, c)
    assert (full.status_code, full.json()["code"]) == (409, "sold_out")
    assert (await rest.get(f"/v1/sessions/{session_id}")).json()["available"] == 0

    cancelled = await rest.delete(f"/v1/registrations/{body['id']}")
    assert cancelled.status_code == 200
    assert cancelled.json()["state"] == "cancelled"
    assert (await rest.get(f"/v1/sessions/{session_id}")).json()["available"] == 1
    assert (await book(rest, session_id, c)).status_code == 201
    got = await rest.get(f"/v1/registrations/{body['id']}")
    assert got.json()["cancelled_by"] == "rest-admin"


async def test_hold_then_confirm_and_the_waitlist(engine, rest, participant_stub, registration_deps) -> None:
    occurrence = await create_occurrence(engine, [SessionSpec("s", 1)])
    session_id = occurrence.sessions["s"]
    a, b = await new_participants(participant_stub, 2)
    held = await book(rest, session_id, a, hold=True, hold_ttl_seconds=120)
    assert held.status_code == 202
    assert held.json()["state"] == "held" and held.json()["expires_at"]
    waiting = await book(rest, session_id, b, waitlist=True)
    assert waiting.status_code == 202
    assert (waiting.json()["state"], waiting.json()["waitlist_position"]) == ("waitlisted", 1)

    confirmed = await rest.post(f"/v1/registrations/{held.json()['id']}/confirm")
    assert confirmed.status_code == 200 and confirmed.json()["state"] == "confirmed"
    await rest.delete(f"/v1/registrations/{held.json()['id']}")
    await reconcile_once(registration_deps)
    offer = (await rest.get(f"/v1/registrations/{waiting.json()['id']}")).json()
    assert offer["state"] == "offered" and offer["expires_at"]
    accepted = await rest.post(f"/v1/registrations/{offer['id']}/confirm")
    assert accepted.json()["state"] == "confirmed"
    listed = await rest.get(f"/v1/sessions/{session_id}/registrations", params={"state": "confirmed"})
    assert [r["participant_id"] for r in listed.json()["registrations"]] == [b]


async def test_idempotency_keys(engine, rest, participant_stub, registration_deps) -> None:
    occurrence = await create_occurrence(engine, [SessionSpec("s", 5)])
    session_id = occurrence.sessions["s"]
    a, b = await new_participants(participant_stub, 2)
    key = str(uuid.uuid4())
    first = await book(rest, session_id, a, key=key)
    replay = await book(rest, session_id, a, key=key)
    assert first.status_code == replay.status_code == 201
    assert replay.json()["id"] == first.json()["id"]
    reused = await book(rest, session_id, b, key=key)
    assert (reused.status_code, reused.json()["code"]) == (422, "idempotency_key_reused")
    assert {row.participant_id for row in await registration_rows(engine, session_id)} == {a}

    # A retry while the first request is still running gets request_in_progress, not a second seat.
    real = registration_deps.ledger
    gate, reached = asyncio.Event(), asyncio.Event()

    class SlowLedger:
        def __getattr__(self, name):
            return getattr(real, name)

        async def hold(self, **kwargs):
            reached.set()
            await gate.wait()
            return await real.hold(**kwargs)

    registration_deps.ledger = SlowLedger()
    try:
        key = str(uuid.uuid4())
        slow = asyncio.create_task(book(rest, session_id, b, key=key))
        await asyncio.wait_for(reached.wait(), 10)
        twin = await book(rest, session_id, b, key=key)
        assert (twin.status_code, twin.json()["code"]) == (409, "request_in_progress")
        gate.set()
        assert (await slow).status_code == 201
    finally:
        registration_deps.ledger = real
    assert await live_seats(engine, session_id) == {a: "confirmed", b: "confirmed"}


async def test_bulk_attendance_and_a_participants_registrations(engine, rest, participant_stub) -> None:
    occurrence = await create_occurrence(engine, [SessionSpec("s", 5), SessionSpec("t", 5, starts_in=timedelta(days=4))])
    a, b = await new_participants(participant_stub, 2)
    ra = (await book(rest, occurrence.sessions["s"], a)).json()
    rb = (await book(rest, occurrence.sessions["s"], b)).json()
    later = (await book(rest, occurrence.sessions["t"], a)).json()
    unknown = str(uuid.uuid4())
    marked = await rest.post("/v1/registrations/attendance", json={
        "registration_ids": [ra["id"], unknown, rb["id"]], "attendance": "no_show", "comment": "не пришли"})
    assert marked.status_code == 200, marked.text
    assert {r["id"] for r in marked.json()["registrations"]} == {ra["id"], rb["id"]}
    assert marked.json()["failures"] == [
        {"registration_id": unknown, "code": "not_found", "detail": f"registration registrations/{unknown} "
                                                                    "does not exist"}]
    bad = await rest.post("/v1/registrations/attendance", json={"registration_ids": [ra["id"]], "attendance": "maybe"})
    assert bad.status_code == 422
    upcoming = await rest.get(f"/v1/participants/{a}/registrations", params={"when": "upcoming"})
    assert [r["id"] for r in upcoming.json()["registrations"]] == [ra["id"], later["id"]]
    assert all(r["missed"] is False for r in upcoming.json()["registrations"])
    past = await rest.get(f"/v1/participants/{a}/registrations", params={"when": "past"})
    assert past.json()["registrations"] == []


async def test_bad_input_names_the_field_and_writes_nothing(engine, rest, participant_stub) -> None:
    occurrence = await create_occurrence(engine, [SessionSpec("s", 5)])
    session_id = occurrence.sessions["s"]
    [a] = await new_participants(participant_stub, 1)
    cases = [
        (session_id, {"participant_id": a, "comment": "x" * 1001}, 400, "comment"),
        (str(uuid.uuid4()), {"participant_id": a}, 400, "session_id"),
        (session_id, {"participant_id": str(uuid.uuid4())}, 400, "participant_id"),
        (session_id, {"participant_id": 12}, 422, "participant_id"),
        (session_id, {"participant_id": a, "hold": True, "hold_ttl_seconds": 0}, 422, "hold_ttl_seconds"),
        (session_id, {"participant_id": a, "status": "confirmed"}, 422, "status"),
        # Was a 502: PostgreSQL text cannot hold NUL (found by test_schemathesis.py).
        (session_id, {"participant_id": a + "\x00"}, 400, "participant_id"),
    ]
    for target, body, status, field in cases:
        response = await rest.post(f"/v1/sessions/{target}/registrations", json=body)
        assert response.status_code == status, (body, response.text)
        assert field in {e["field"] for e in response.json()["errors"]}, (body, response.json())
    assert await registration_rows(engine, session_id) == []
    assert await live_seats(engine, session_id) == {}


async def test_roles(engine, rest, settings, participant_stub) -> None:
    occurrence = await create_occurrence(engine, [SessionSpec("s", 5)])
    session_id = occurrence.sessions["s"]
    me, other = await new_participants(participant_stub, 2)
    as_me = bearer(settings, "participant", sub="me", participant_id=me)
    for_other = await rest.post(f"/v1/sessions/{session_id}/registrations", json={"participant_id": other},
                                headers=as_me)
    assert for_other.status_code == 403
    mine = await rest.post(f"/v1/sessions/{session_id}/registrations", json={"participant_id": me}, headers=as_me)
    assert mine.status_code == 201, mine.text
    by_volunteer = await rest.post(f"/v1/sessions/{session_id}/registrations", json={"participant_id": other},
                                   headers=bearer(settings, "volunteer", sub="vol-1"))
    assert by_volunteer.json()["registered_by"] == "vol-1"
    not_theirs = await rest.delete(f"/v1/registrations/{by_volunteer.json()['id']}", headers=as_me)
    assert not_theirs.status_code == 404  # another's registration is not revealed (issue 6)
    analyst = await rest.post("/v1/registrations/attendance",
                              json={"registration_ids": [mine.json()["id"]], "attendance": "attended"},
                              headers=bearer(settings, "analyst"))
    assert analyst.status_code == 403
    own_cancel = await rest.delete(f"/v1/registrations/{mine.json()['id']}", headers=as_me)
    assert own_cancel.status_code == 200


async def test_a_participant_sees_only_their_own_registrations(engine, rest, settings, participant_stub) -> None:
    occurrence = await create_occurrence(engine, [SessionSpec("s", 5)])
    session_id = occurrence.sessions["s"]
    me, other = await new_participants(participant_stub, 2)
    theirs = (await book(rest, session_id, other)).json()
    mine = (await book(rest, session_id, me)).json()
    as_me = bearer(settings, "participant", sub="me", participant_id=me)
    assert (await rest.get(f"/v1/registrations/{mine['id']}", headers=as_me)).status_code == 200
    assert (await rest.get(f"/v1/registrations/{theirs['id']}", headers=as_me)).status_code == 404
    assert (await rest.get(f"/v1/participants/{me}/registrations", headers=as_me)).status_code == 200
    assert (await rest.get(f"/v1/participants/{other}/registrations", headers=as_me)).status_code == 403
    assert (await rest.get(f"/v1/sessions/{session_id}/registrations", headers=as_me)).status_code == 403


# --- a cancelled or finished occurrence ------------------------------------------------------


async def move_occurrence(rest, occurrence_id: str, *states: str) -> None:
    for state in states:
        moved = await rest.post(f"/v1/occurrences/{occurrence_id}/transition", json={"state": state})
        assert moved.status_code == 200, moved.text


CLOSING = {"cancelled": ("cancelled",), "finished": ("confirming", "ready", "running", "finished")}


@pytest.mark.parametrize("state", ["cancelled", "finished"])
async def test_booking_a_closed_occurrence_is_409_occurrence_closed(engine, rest, participant_stub, state) -> None:
    occurrence = await create_occurrence(engine, [SessionSpec("s", 5)])
    session_id = occurrence.sessions["s"]
    a, b = await new_participants(participant_stub, 2)
    assert (await book(rest, session_id, a)).status_code == 201
    await move_occurrence(rest, occurrence.occurrence_id, *CLOSING[state])
    before = (await live_seats(engine, session_id), len(await registration_rows(engine, session_id)),
              (await rest.get(f"/v1/sessions/{session_id}")).json())
    message = {"cancelled": "the occurrence is cancelled", "finished": "the occurrence has finished"}[state]
    for who, body in ((b, {}), (b, {"hold": True}), (b, {"waitlist": True}), (a, {})):
        refused = await book(rest, session_id, who, **body)
        assert refused.status_code == 409, refused.text
        problem = refused.json()
        assert (problem["code"], problem["state"], problem["detail"]) == ("occurrence_closed", state, message)
    after = (await live_seats(engine, session_id), len(await registration_rows(engine, session_id)),
             (await rest.get(f"/v1/sessions/{session_id}")).json())
    assert after == before


async def test_ready_and_running_occurrences_still_book(engine, rest, participant_stub) -> None:
    occurrence = await create_occurrence(engine, [SessionSpec("early", 5, starts_in=-timedelta(minutes=5)),
                                                  SessionSpec("late", 5, starts_in=timedelta(hours=2))])
    a, b, c = await new_participants(participant_stub, 3)
    await move_occurrence(rest, occurrence.occurrence_id, "confirming", "ready")
    assert (await book(rest, occurrence.sessions["late"], a)).status_code == 201
    await move_occurrence(rest, occurrence.occurrence_id, "running")
    assert (await book(rest, occurrence.sessions["late"], b)).status_code == 201
    started = await book(rest, occurrence.sessions["early"], c)
    assert (started.status_code, started.json()["code"]) == (409, "session_started")


async def test_confirming_a_hold_after_the_occurrence_was_cancelled(engine, rest, participant_stub) -> None:
    """The hold cannot become a seat any more: 409 occurrence_closed, the registration ends
    (expired, seat lost) and its hold is given back at once."""
    occurrence = await create_occurrence(engine, [SessionSpec("s", 5)])
    session_id = occurrence.sessions["s"]
    (a,) = await new_participants(participant_stub, 1)
    held = await book(rest, session_id, a, hold=True, hold_ttl_seconds=600)
    assert held.status_code == 202
    await move_occurrence(rest, occurrence.occurrence_id, "cancelled")
    refused = await rest.post(f"/v1/registrations/{held.json()['id']}/confirm")
    assert refused.status_code == 409, refused.text
    assert (refused.json()["code"], refused.json()["state"]) == ("occurrence_closed", "cancelled")
    assert (await rest.get(f"/v1/registrations/{held.json()['id']}")).json()["state"] == "expired"
    assert await live_seats(engine, session_id) == {}


async def test_bookings_racing_a_cancel_all_committed_before_it(engine, rest, participant_stub) -> None:
    """50 REST bookings (hold, record, confirm) race with a cancel of the occurrence. The cancel
    is the lifecycle's conditional UPDATE, and the same transaction then reads the seats: the
    UPDATE holds the occurrence row, which every take and confirm locks too, so that read is
    exactly what committed before the cancel. Every 201 must have its seat confirmed in it;
    every other answer is 409 occurrence_closed, and no seat is live afterwards that was not."""
    occurrence = await create_occurrence(engine, [SessionSpec("s", 100)])
    session_id = occurrence.sessions["s"]
    people = await new_participants(participant_stub, 50)

    async def cancel() -> dict[str, str]:
        while len(await live_seats(engine, session_id)) < 5:
            await asyncio.sleep(0.001)
        async with engine.begin() as connection:
            moved = await connection.execute(sa.text(
                "UPDATE event_service.occurrences SET state = 'cancelled', state_changed_at = now() "
                "WHERE id = :o AND state = 'scheduled'"), {"o": occurrence.occurrence_id})
            assert moved.rowcount == 1
            rows = await connection.execute(sa.text(
                "SELECT id, state FROM event_service.seats WHERE occurrence_id = :o "
                "AND state IN ('held', 'confirmed')"), {"o": occurrence.occurrence_id})
            return {row.id: row.state for row in rows}

    *answers, committed_before = await asyncio.gather(*(book(rest, session_id, p) for p in people), cancel())
    codes = [a.status_code for a in answers]
    assert set(codes) <= {201, 409}, [a.text for a in answers if a.status_code not in (201, 409)]
    assert {a.json()["code"] for a in answers if a.status_code == 409} <= {"occurrence_closed"}
    booked = [a.json() for a in answers if a.status_code == 201]
    assert len(booked) >= 1
    for registration in booked:
        assert committed_before.get(registration["seat_id"]) == "confirmed", registration
    live_after = await live_seats(engine, session_id)
    assert set(live_after) == {r["participant_id"] for r in booked}
    assert set(live_after.values()) <= {"confirmed"}
    async with engine.connect() as connection:
        live_ids = set((await connection.execute(sa.text(
            "SELECT id FROM event_service.seats WHERE session_id = :s AND state IN ('held', 'confirmed')"),
            {"s": session_id})).scalars())
    assert live_ids <= set(committed_before)
