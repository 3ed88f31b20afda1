"""RegistrationService through gRPC against the real ledger: the saga's happy paths, its
refusals, idempotency, cancellation rights and attendance."""

from __future__ import annotations

import uuid

import grpc
import pytest
import sqlalchemy as sa

from grpc_details import details
from ledger_fixtures import SessionSpec, create_occurrence
from registration_fixtures import (
    ADMIN,
    actor,
    confirmed_registrations,
    confirmed_seats,
    live_seats,
    new_participants,
    register,
    registration_rows,
)
from turnout.participant.v1 import registration_pb2 as rpb
from turnout.participant.v1 import registration_service_pb2 as pb

pytestmark = pytest.mark.integration


@pytest.fixture
def engine(event_deps):
    return event_deps.engine


async def one_session(engine, capacity: int = 5) -> tuple[str, str]:
    occurrence = await create_occurrence(engine, [SessionSpec("s", capacity)])
    return occurrence.session("s"), occurrence.sessions["s"]


async def test_register_confirms_the_seat_and_records_who_registered(
        engine, registration_stub, participant_stub) -> None:
    session, session_id = await one_session(engine)
    [who] = await new_participants(participant_stub, 1)
    registration = await registration_stub.CreateRegistration(
        register(session, who, comment="первый раз"), metadata=actor("volunteer-7", "volunteer"))
    assert registration.state == rpb.REGISTRATION_STATE_CONFIRMED
    assert registration.registered_by == "volunteer-7"
    assert registration.comment == "первый раз"
    assert registration.attendance == rpb.ATTENDANCE_EXPECTED
    assert registration.seat.startswith("seats/")
    assert await confirmed_seats(engine, session_id) == {who}
    [row] = await registration_rows(engine, session_id)
    assert row.seat_sync is None  # the confirmation is no longer owed
    async with engine.connect() as connection:
        types = (await connection.execute(sa.text(
            "SELECT event_type FROM participant_service.outbox WHERE message_key = :id"),
            {"id": registration.name.removeprefix("registrations/")})).scalars().all()
    assert types == ["turnout.participant.v1.RegistrationCreated"]


async def test_same_request_id_returns_the_first_registration_and_a_new_body_is_refused(
        engine, registration_stub, participant_stub) -> None:
    session, session_id = await one_session(engine)
    [who] = await new_participants(participant_stub, 1)
    request = register(session, who)
    first = await registration_stub.CreateRegistration(request, metadata=ADMIN)
    again = await registration_stub.CreateRegistration(request, metadata=ADMIN)
    assert again.name == first.name
    assert len(await registration_rows(engine, session_id)) == 1
    changed = register(session, who, request_id=request.request_id, comment="другое")
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await registration_stub.CreateRegistration(changed, metadata=ADMIN)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert details(refused.value)[0] == "REQUEST_ID_REUSED"


async def test_the_same_participant_twice_is_already_registered_and_a_full_session_is_sold_out(
        engine, registration_stub, participant_stub) -> None:
    session, session_id = await one_session(engine, capacity=1)
    first, second = await new_participants(participant_stub, 2)
    await registration_stub.CreateRegistration(register(session, first), metadata=ADMIN)
    for who, reason in ((first, "ALREADY_REGISTERED"), (second, "SOLD_OUT")):
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await registration_stub.CreateRegistration(register(session, who), metadata=ADMIN)
        assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert details(refused.value)[0] == reason
    assert len(await registration_rows(engine, session_id)) == 1


async def test_bad_input_names_the_field_and_writes_nothing(engine, registration_stub, participant_stub) -> None:
    session, session_id = await one_session(engine)
    [who] = await new_participants(participant_stub, 1)
    cases = [
        (register(session, who, comment="x" * 1001), "comment"),
        (register("sessions/no-such-session", who), "session"),
        (register(session, str(uuid.uuid4())), "participant"),
        (register("venues/1", who), "session"),
        (register(session, who, hold_ttl={"seconds": 90000}, hold=True), "hold_ttl"),
    ]
    for request, field in cases:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await registration_stub.CreateRegistration(request, metadata=ADMIN)
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT, field
        assert field in details(refused.value)[1], (field, details(refused.value))
    assert await registration_rows(engine, session_id) == []
    assert await live_seats(engine, session_id) == {}


async def test_only_admins_book_above_capacity(engine, registration_stub, participant_stub) -> None:
    session, session_id = await one_session(engine, capacity=1)
    first, second = await new_participants(participant_stub, 2)
    await registration_stub.CreateRegistration(register(session, first), metadata=ADMIN)
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await registration_stub.CreateRegistration(register(session, second, override_capacity=True),
                                                   metadata=actor("v", "volunteer"))
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    above = await registration_stub.CreateRegistration(register(session, second, override_capacity=True),
                                                       metadata=ADMIN)
    assert above.capacity_override and above.state == rpb.REGISTRATION_STATE_CONFIRMED
    assert await confirmed_seats(engine, session_id) == {first, second}


async def test_hold_then_confirm(engine, registration_stub, participant_stub) -> None:
    session, session_id = await one_session(engine)
    [who] = await new_participants(participant_stub, 1)
    held = await registration_stub.CreateRegistration(register(session, who, hold=True), metadata=ADMIN)
    assert held.state == rpb.REGISTRATION_STATE_HELD
    assert held.HasField("expire_time")
    assert await live_seats(engine, session_id) == {who: "held"}
    confirmed = await registration_stub.ConfirmRegistration(
        pb.ConfirmRegistrationRequest(name=held.name, request_id=str(uuid.uuid4())), metadata=ADMIN)
    assert confirmed.state == rpb.REGISTRATION_STATE_CONFIRMED
    assert not confirmed.HasField("expire_time")
    assert await live_seats(engine, session_id) == {who: "confirmed"}
    again = await registration_stub.ConfirmRegistration(
        pb.ConfirmRegistrationRequest(name=held.name, request_id=str(uuid.uuid4())), metadata=ADMIN)
    assert again.state == rpb.REGISTRATION_STATE_CONFIRMED


async def test_cancel_frees_the_seat_for_the_next_participant(engine, registration_stub, participant_stub) -> None:
    session, session_id = await one_session(engine, capacity=1)
    first, second = await new_participants(participant_stub, 2)
    booked = await registration_stub.CreateRegistration(register(session, first), metadata=ADMIN)
    cancelled = await registration_stub.CancelRegistration(
        pb.CancelRegistrationRequest(name=booked.name, request_id=str(uuid.uuid4())), metadata=ADMIN)
    assert cancelled.state == rpb.REGISTRATION_STATE_CANCELLED
    assert cancelled.cancelled_by == "admin-1"
    assert cancelled.end_reason == rpb.END_REASON_CANCELLED
    assert await live_seats(engine, session_id) == {}
    await registration_stub.CreateRegistration(register(session, second), metadata=ADMIN)
    assert await confirmed_seats(engine, session_id) == {second}
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await registration_stub.CancelRegistration(
            pb.CancelRegistrationRequest(name=booked.name, request_id=str(uuid.uuid4())), metadata=ADMIN)
    assert details(refused.value)[0] == "REGISTRATION_NOT_ACTIVE"


async def test_who_may_cancel(engine, registration_stub, participant_stub) -> None:
    session, session_id = await one_session(engine)
    visitor, other = await new_participants(participant_stub, 2)
    by_volunteer = await registration_stub.CreateRegistration(
        register(session, visitor), metadata=actor("volunteer-1", "volunteer"))
    outsiders = [actor("volunteer-2", "volunteer"), actor("p-other", "participant", participant_id=other)]
    for caller in outsiders:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await registration_stub.CancelRegistration(
                pb.CancelRegistrationRequest(name=by_volunteer.name, request_id=str(uuid.uuid4())), metadata=caller)
        # Not theirs to see, so not theirs to know of (issue 6): not found rather than forbidden.
        assert refused.value.code() == grpc.StatusCode.NOT_FOUND
    assert await confirmed_registrations(engine, session_id) == {visitor}
    # The participant themself may.
    cancelled = await registration_stub.CancelRegistration(
        pb.CancelRegistrationRequest(name=by_volunteer.name, request_id=str(uuid.uuid4())),
        metadata=actor("p-visitor", "participant", participant_id=visitor))
    assert cancelled.state == rpb.REGISTRATION_STATE_CANCELLED
    # And the volunteer who registered them may cancel their next one.
    again = await registration_stub.CreateRegistration(register(session, visitor),
                                                       metadata=actor("volunteer-1", "volunteer"))
    await registration_stub.CancelRegistration(
        pb.CancelRegistrationRequest(name=again.name, request_id=str(uuid.uuid4())),
        metadata=actor("volunteer-1", "volunteer"))
    assert await live_seats(engine, session_id) == {}


async def test_bulk_attendance_reports_every_unknown_or_ineligible_id(
        engine, registration_stub, participant_stub) -> None:
    session, _ = await one_session(engine)
    a, b, c = await new_participants(participant_stub, 3)
    ra = await registration_stub.CreateRegistration(register(session, a), metadata=ADMIN)
    rb = await registration_stub.CreateRegistration(register(session, b), metadata=ADMIN)
    rc = await registration_stub.CreateRegistration(register(session, c, hold=True), metadata=ADMIN)
    unknown = f"registrations/{uuid.uuid4()}"
    reply = await registration_stub.BatchUpdateAttendance(pb.BatchUpdateAttendanceRequest(
        names=[ra.name, unknown, rb.name, rc.name, "nonsense"], attendance=rpb.ATTENDANCE_ATTENDED,
        comment="пришли", request_id=str(uuid.uuid4())), metadata=ADMIN)
    assert {r.name for r in reply.registrations} == {ra.name, rb.name}
    assert all(r.attendance == rpb.ATTENDANCE_ATTENDED and r.attendance_comment == "пришли"
               for r in reply.registrations)
    assert {(f.name, f.reason) for f in reply.failures} == {
        (unknown, "NOT_FOUND"), ("nonsense", "NOT_FOUND"), (rc.name, "NOT_CONFIRMED")}
    got = await registration_stub.GetRegistration(pb.GetRegistrationRequest(name=ra.name), metadata=ADMIN)
    assert got.attendance == rpb.ATTENDANCE_ATTENDED

    for request, field in (
        (pb.BatchUpdateAttendanceRequest(names=[ra.name], request_id=str(uuid.uuid4())), "attendance"),
        (pb.BatchUpdateAttendanceRequest(names=[ra.name, ra.name], attendance=rpb.ATTENDANCE_NO_SHOW,
                                         request_id=str(uuid.uuid4())), "names[1]"),
        (pb.BatchUpdateAttendanceRequest(names=[], attendance=rpb.ATTENDANCE_NO_SHOW,
                                         request_id=str(uuid.uuid4())), "names"),
        # PostgreSQL text and jsonb cannot hold NUL (found by tests/integration/test_schemathesis.py).
        (pb.BatchUpdateAttendanceRequest(names=[ra.name, "registrations/\x00"], attendance=rpb.ATTENDANCE_NO_SHOW,
                                         request_id=str(uuid.uuid4())), "names[1]"),
        (pb.BatchUpdateAttendanceRequest(names=[ra.name], attendance=rpb.ATTENDANCE_NO_SHOW, comment="a\x00b",
                                         request_id=str(uuid.uuid4())), "comment"),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await registration_stub.BatchUpdateAttendance(request, metadata=ADMIN)
        assert field in details(refused.value)[1]
    still = await registration_stub.GetRegistration(pb.GetRegistrationRequest(name=ra.name), metadata=ADMIN)
    assert still.attendance == rpb.ATTENDANCE_ATTENDED


async def test_a_participants_upcoming_and_past_registrations_flag_missed_ones(
        engine, registration_stub, participant_stub) -> None:
    occurrence = await create_occurrence(engine, [SessionSpec("a", 5), SessionSpec("b", 5), SessionSpec("c", 5)])
    [who] = await new_participants(participant_stub, 1)
    made = {key: await registration_stub.CreateRegistration(register(occurrence.session(key), who), metadata=ADMIN)
            for key in "abc"}
    await registration_stub.BatchUpdateAttendance(pb.BatchUpdateAttendanceRequest(
        names=[made["a"].name], attendance=rpb.ATTENDANCE_ATTENDED, request_id=str(uuid.uuid4())), metadata=ADMIN)
    # Sessions a and b took place (the copy of their times the registration keeps is moved).
    async with engine.begin() as connection:
        await connection.execute(sa.text(
            "UPDATE participant_service.registrations SET session_starts_at = now() - make_interval(days => :d), "
            "session_ends_at = now() - make_interval(days => :d) + interval '1 hour' WHERE id = :id"),
            [{"d": 2, "id": made["a"].name.split("/")[1]}, {"d": 1, "id": made["b"].name.split("/")[1]}])
    past = await registration_stub.ListRegistrations(pb.ListRegistrationsRequest(
        parent=f"participants/{who}", timing=pb.REGISTRATION_TIMING_PAST), metadata=ADMIN)
    assert [(r.name, r.missed) for r in past.registrations] == [(made["b"].name, True), (made["a"].name, False)]
    upcoming = await registration_stub.ListRegistrations(pb.ListRegistrationsRequest(
        parent=f"participants/{who}", timing=pb.REGISTRATION_TIMING_UPCOMING), metadata=ADMIN)
    assert [r.name for r in upcoming.registrations] == [made["c"].name]
    assert not upcoming.registrations[0].missed


async def test_list_a_sessions_registrations_in_pages(engine, registration_stub, participant_stub) -> None:
    session, _ = await one_session(engine, capacity=10)
    people = await new_participants(participant_stub, 5)
    for who in people:
        await registration_stub.CreateRegistration(register(session, who), metadata=ADMIN)
    seen, token = [], ""
    while True:
        page = await registration_stub.ListRegistrations(
            pb.ListRegistrationsRequest(parent=session, page_size=2, page_token=token), metadata=ADMIN)
        seen += [r.participant.removeprefix("participants/") for r in page.registrations]
        token = page.next_page_token
        if not token:
            break
    assert seen == people
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await registration_stub.ListRegistrations(pb.ListRegistrationsRequest(parent="venues/x"), metadata=ADMIN)
    assert "parent" in details(refused.value)[1]
