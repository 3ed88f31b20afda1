"""Many clients against one session through the gRPC saga: never more confirmed than seats,
never two registrations of one participant, and the ledger and the registrations agree."""

from __future__ import annotations

import asyncio
from collections import Counter

import grpc
import pytest

from grpc_details import details
from ledger_fixtures import SessionSpec, create_occurrence, ledger_mismatches
from registration_fixtures import (
    ADMIN,
    confirmed_registrations,
    confirmed_seats,
    live_seats,
    new_participants,
    register,
    registration_rows,
)
from turnout.participant.v1 import registration_pb2 as rpb

pytestmark = pytest.mark.integration


async def outcome(stub, request) -> str:
    try:
        registration = await stub.CreateRegistration(request, metadata=ADMIN)
    except grpc.aio.AioRpcError as refused:
        return details(refused)[0] or refused.code().name
    return rpb.RegistrationState.Name(registration.state)


async def test_500_concurrent_registrations_for_50_seats(event_deps, registration_stub, participant_stub) -> None:
    engine = event_deps.engine
    occurrence = await create_occurrence(engine, [SessionSpec("s", 50)], event_capacity=500)
    session, session_id = occurrence.session("s"), occurrence.sessions["s"]
    people = await new_participants(participant_stub, 500)
    # Half of them would rather wait than be turned away.
    requests = [register(session, who, waitlist=index % 2 == 0) for index, who in enumerate(people)]
    outcomes = Counter(await asyncio.gather(*(outcome(registration_stub, r) for r in requests)))

    assert outcomes["REGISTRATION_STATE_CONFIRMED"] == 50, outcomes
    assert set(outcomes) <= {"REGISTRATION_STATE_CONFIRMED", "REGISTRATION_STATE_WAITLISTED", "SOLD_OUT"}, outcomes
    assert outcomes["REGISTRATION_STATE_WAITLISTED"] + outcomes["SOLD_OUT"] == 450
    confirmed = await confirmed_registrations(engine, session_id)
    assert confirmed == await confirmed_seats(engine, session_id)
    assert len(confirmed) == 50
    assert set((await live_seats(engine, session_id)).values()) == {"confirmed"}  # no stray hold
    rows = await registration_rows(engine, session_id)
    assert Counter(row.state for row in rows) == {"confirmed": 50,
                                                  "waitlisted": outcomes["REGISTRATION_STATE_WAITLISTED"]}
    assert all(row.seat_sync is None for row in rows)
    assert await ledger_mismatches(engine, occurrence.occurrence_id) == []


async def test_one_participant_racing_themself_gets_one_registration(
        event_deps, registration_stub, participant_stub) -> None:
    engine = event_deps.engine
    occurrence = await create_occurrence(engine, [SessionSpec("s", 10)])
    session, session_id = occurrence.session("s"), occurrence.sessions["s"]
    [who] = await new_participants(participant_stub, 1)
    outcomes = Counter(await asyncio.gather(*(outcome(registration_stub, register(session, who)) for _ in range(30))))
    assert outcomes["REGISTRATION_STATE_CONFIRMED"] == 1, outcomes
    assert outcomes["ALREADY_REGISTERED"] == 29, outcomes
    assert [row.state for row in await registration_rows(engine, session_id)] == ["confirmed"]
    assert await confirmed_seats(engine, session_id) == {who}
