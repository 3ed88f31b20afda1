"""Reconfirmation, reminders and "you missed it" in participant_service: the lifecycle
handlers fed real decoded messages (tests/integration/test_consumer.py takes them through
Kafka), answers over gRPC and REST, the settlement at the deadline and its race with answers.
Real Postgres, the in-process event_service ledger."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import grpc
import pytest
import sqlalchemy as sa
from grpc_details import details, error_info
from ledger_fixtures import SessionSpec, create_occurrence, ledger_mismatches
from lifecycle_messages import (
    last_outbox_id,
    notifications_in,
    outbox_since,
    reminder_due,
    state_changed,
)
from registration_fixtures import (
    ADMIN,
    actor,
    confirmed_registrations,
    confirmed_seats,
    new_participants,
    register,
)

from kernel.auth import issue_token
from kernel.errors import FailedPrecondition
from participant_service.adapters.tables import SCHEMA
from participant_service.application import reconciler
from participant_service.application.lifecycle import on_reminder_due, on_state_changed
from participant_service.application.reconciler import reconcile_once
from turnout.event.v1 import event_service_pb2 as epb
from turnout.event.v1 import session_pb2 as S
from turnout.participant.v1 import registration_pb2 as rpb
from turnout.participant.v1 import registration_service_pb2 as pb

pytestmark = pytest.mark.integration

CONFIRM, DECLINE = rpb.RECONFIRMATION_ANSWER_CONFIRM, rpb.RECONFIRMATION_ANSWER_DECLINE


@pytest.fixture
def engine(event_deps):
    return event_deps.engine


def answer(name: str, choice: int, **fields) -> pb.AnswerReconfirmationRequest:
    return pb.AnswerReconfirmationRequest(name=name, answer=choice,
                                          request_id=fields.pop("request_id", None) or str(uuid.uuid4()), **fields)


async def booked(stub, session: str, participants: list[str], **fields) -> list[rpb.Registration]:
    return [await stub.CreateRegistration(register(session, p, **fields), metadata=ADMIN) for p in participants]


async def get(stub, name: str) -> rpb.Registration:
    return await stub.GetRegistration(pb.GetRegistrationRequest(name=name), metadata=ADMIN)


async def refused(call) -> grpc.aio.AioRpcError:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await call
    return error.value


async def asked_occurrence(engine, registration_stub, participant_stub, registration_deps, *, seats: int,
                           people: int, deadline: datetime | None = None, waiting: int = 0):
    """An occurrence whose `people` confirmed registrations were asked to reconfirm (plus
    `waiting` more on the waitlist when the seats are fewer)."""
    occurrence = await create_occurrence(engine, [SessionSpec("s", seats)])
    everyone = await new_participants(participant_stub, people + waiting)
    registrations = await booked(registration_stub, occurrence.session("s"), everyone[:people])
    waitlisted = await booked(registration_stub, occurrence.session("s"), everyone[people:], waitlist=True)
    delivery, message = state_changed(occurrence, S.OCCURRENCE_STATE_CONFIRMING,
                                      deadline=deadline or datetime.now(UTC) + timedelta(hours=22))
    await on_state_changed(delivery, message, registration_deps)
    return occurrence, registrations, waitlisted


async def test_confirming_asks_each_confirmed_registration_once(engine, registration_stub, participant_stub,
                                                                registration_deps) -> None:
    occurrence = await create_occurrence(engine, [SessionSpec("s", 5), SessionSpec("t", 5)])
    a, b, c, late = await new_participants(participant_stub, 4)
    (first,) = await booked(registration_stub, occurrence.session("s"), [a])
    (held,) = await booked(registration_stub, occurrence.session("s"), [b], hold=True)
    (other,) = await booked(registration_stub, occurrence.session("t"), [c])
    deadline = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=22)
    before = await last_outbox_id(engine)
    delivery, message = state_changed(occurrence, S.OCCURRENCE_STATE_CONFIRMING, deadline=deadline)
    await on_state_changed(delivery, message, registration_deps)

    for registration in (first, other):
        now = await get(registration_stub, registration.name)
        assert now.reconfirmation == rpb.RECONFIRMATION_REQUESTED
        assert now.reconfirmation_deadline.ToDatetime(tzinfo=UTC) == deadline
        assert now.state == rpb.REGISTRATION_STATE_CONFIRMED
    assert (await get(registration_stub, held.name)).reconfirmation == rpb.RECONFIRMATION_UNSPECIFIED

    rows = await outbox_since(engine, before)
    asked = notifications_in(rows, "reconfirmation.request")
    assert sorted(r.participant for r in asked) == sorted([f"participants/{a}", f"participants/{c}"])
    request = next(r for r in asked if r.participant == f"participants/{a}")
    assert dict(request.parameters) == {
        "registration": first.name, "session": occurrence.session("s"), "event": f"events/{occurrence.event_id}",
        "session_start_time": request.parameters["session_start_time"],
        "reconfirmation_deadline": deadline.isoformat().replace("+00:00", "Z")}
    assert datetime.fromisoformat(request.parameters["session_start_time"]) == first.session_start_time.ToDatetime(UTC)
    assert request.dedup_key == f"reconfirmation.request/{first.name}"
    changed = [r for r in rows if r.event_type == "turnout.participant.v1.RegistrationReconfirmationChanged"]
    assert len(changed) == 2 and {r.tx for r in rows} == {changed[0].tx}, "one transaction"

    # A redelivery changes nothing and asks nobody twice; a later booking is not asked.
    (after,) = await booked(registration_stub, occurrence.session("s"), [late])
    middle = await last_outbox_id(engine)
    await on_state_changed(delivery, message, registration_deps)
    assert await outbox_since(engine, middle) == []
    assert (await get(registration_stub, after.name)).reconfirmation == rpb.RECONFIRMATION_UNSPECIFIED


async def test_answers_over_grpc(engine, registration_stub, participant_stub, registration_deps) -> None:
    occurrence, (mine, theirs, declining), (waiting,) = await asked_occurrence(
        engine, registration_stub, participant_stub, registration_deps, seats=3, people=3, waiting=1)
    owner = actor("visitor:me", "participant", participant_id=mine.participant.removeprefix("participants/"))

    kept = await registration_stub.AnswerReconfirmation(answer(mine.name, CONFIRM), metadata=owner)
    assert (kept.state, kept.reconfirmation) == (rpb.REGISTRATION_STATE_CONFIRMED, rpb.RECONFIRMATION_CONFIRMED)
    assert kept.HasField("reconfirmation_deadline") is False, "the deadline shows while the request is open"
    again = await registration_stub.AnswerReconfirmation(answer(mine.name, CONFIRM), metadata=owner)
    assert again.update_time == kept.update_time, "confirming again answers it as it is"

    # Someone else's registration does not exist for them; the answer must be given.
    other = await refused(registration_stub.AnswerReconfirmation(answer(theirs.name, CONFIRM), metadata=owner))
    assert other.code() == grpc.StatusCode.NOT_FOUND
    missing = await refused(registration_stub.AnswerReconfirmation(
        answer(mine.name, rpb.RECONFIRMATION_ANSWER_UNSPECIFIED), metadata=owner))
    assert missing.code() == grpc.StatusCode.INVALID_ARGUMENT and "answer" in details(missing)[1]
    analyst = await refused(registration_stub.AnswerReconfirmation(answer(theirs.name, CONFIRM),
                                                                   metadata=actor("a-1", "analyst")))
    assert analyst.code() == grpc.StatusCode.PERMISSION_DENIED

    # A decline cancels through the cancellation path: the seat goes back and to the waitlist.
    declined = await registration_stub.AnswerReconfirmation(answer(declining.name, DECLINE), metadata=ADMIN)
    assert declined.state == rpb.REGISTRATION_STATE_CANCELLED
    assert (declined.end_reason, declined.reconfirmation) == (rpb.END_REASON_RECONFIRMATION_DECLINED,
                                                              rpb.RECONFIRMATION_DECLINED)
    assert declined.seat.removeprefix("seats/") not in {s for s in await _seat_ids(engine, occurrence.sessions["s"])}
    await reconcile_once(registration_deps)
    assert (await get(registration_stub, waiting.name)).state == rpb.REGISTRATION_STATE_OFFERED

    closed = await refused(registration_stub.AnswerReconfirmation(answer(declining.name, CONFIRM), metadata=ADMIN))
    assert closed.code() == grpc.StatusCode.FAILED_PRECONDITION
    info = error_info(closed)
    assert info.reason == "RECONFIRMATION_CLOSED" and dict(info.metadata) == {"reconfirmation": "declined"}

    # A registration of an occurrence that never asked.
    plain = await create_occurrence(engine, [SessionSpec("s", 2)])
    (fresh,) = await booked(registration_stub, plain.session("s"), await new_participants(participant_stub, 1))
    never = await refused(registration_stub.AnswerReconfirmation(answer(fresh.name, CONFIRM), metadata=ADMIN))
    assert dict(error_info(never).metadata) == {"reconfirmation": "unspecified"}
    assert await ledger_mismatches(engine, occurrence.occurrence_id) == []


async def _seat_ids(engine, session_id: str) -> set[str]:
    async with engine.connect() as connection:
        rows = await connection.execute(sa.text(
            "SELECT id FROM event_service.seats WHERE session_id = :s AND state IN ('held', 'confirmed')"),
            {"s": session_id})
        return {row.id for row in rows}


async def test_after_the_deadline_an_answer_is_closed(engine, registration_stub, participant_stub,
                                                      registration_deps) -> None:
    deadline = datetime.now(UTC) + timedelta(seconds=2)
    _, (late,), _ = await asked_occurrence(engine, registration_stub, participant_stub, registration_deps, seats=2,
                                           people=1, deadline=deadline)
    assert (await get(registration_stub, late.name)).reconfirmation == rpb.RECONFIRMATION_REQUESTED
    await asyncio.sleep((deadline - datetime.now(UTC)).total_seconds() + 0.1)
    for choice in (CONFIRM, DECLINE):
        closed = await refused(registration_stub.AnswerReconfirmation(answer(late.name, choice), metadata=ADMIN))
        assert error_info(closed).reason == "RECONFIRMATION_CLOSED"
        assert dict(error_info(closed).metadata) == {"reconfirmation": "requested"}
    assert (await get(registration_stub, late.name)).state == rpb.REGISTRATION_STATE_CONFIRMED


def _bearer(settings, sub: str, *roles: str, participant_id: str | None = None) -> dict[str, str]:
    return {"Authorization": "Bearer " + issue_token(settings.auth_secret, sub=sub, roles=list(roles),
                                                     participant_id=participant_id)}


async def test_answers_over_rest(settings, rest, engine, registration_stub, participant_stub,
                                 registration_deps) -> None:
    _, (mine, theirs, other), _ = await asked_occurrence(engine, registration_stub, participant_stub,
                                                         registration_deps, seats=3, people=3)
    me = mine.participant.removeprefix("participants/")
    as_me = _bearer(settings, f"visitor:{me}", "participant", participant_id=me)
    url = f"/v1/registrations/{mine.name.removeprefix('registrations/')}/reconfirmation"

    shown = (await rest.get(f"/v1/registrations/{mine.name.removeprefix('registrations/')}", headers=as_me)).json()
    assert shown["reconfirmation"] == "requested" and shown["reconfirmation_deadline"]
    ok = await rest.post(url, json={"answer": "confirm"}, headers={**as_me, "Idempotency-Key": str(uuid.uuid4())})
    assert ok.status_code == 200, ok.text
    assert (ok.json()["state"], ok.json()["reconfirmation"], ok.json()["reconfirmation_deadline"]) == (
        "confirmed", "confirmed", None)

    for body, field in (({}, "answer"), ({"answer": "maybe"}, "answer"), ({"answer": "confirm", "state": "x"}, "state")):
        bad = await rest.post(url, json=body, headers=as_me)
        assert bad.status_code == 422, bad.text
        assert bad.headers["content-type"].startswith("application/problem+json")
        assert field in [e["field"] for e in bad.json()["errors"]], bad.json()

    theirs_url = f"/v1/registrations/{theirs.name.removeprefix('registrations/')}/reconfirmation"
    hidden = await rest.post(theirs_url, json={"answer": "decline"}, headers=as_me)
    assert hidden.status_code == 404 and hidden.json()["code"] == "not_found"
    assert (await get(registration_stub, theirs.name)).state == rpb.REGISTRATION_STATE_CONFIRMED

    other_url = f"/v1/registrations/{other.name.removeprefix('registrations/')}/reconfirmation"
    key = str(uuid.uuid4())
    declined = await rest.post(other_url, json={"answer": "decline"}, headers={"Idempotency-Key": key})
    assert declined.status_code == 200, declined.text
    assert (declined.json()["state"], declined.json()["end_reason"], declined.json()["reconfirmation"]) == (
        "cancelled", "reconfirmation_declined", "declined")
    retried = await rest.post(other_url, json={"answer": "decline"}, headers={"Idempotency-Key": key})
    assert retried.status_code == 200 and retried.json() == declined.json()
    closed = await rest.post(other_url, json={"answer": "confirm"})
    assert closed.status_code == 409
    assert (closed.json()["code"], closed.json()["reconfirmation"]) == ("reconfirmation_closed", "declined")


async def test_the_deadline_releases_or_keeps_what_is_unanswered(engine, registration_stub, participant_stub,
                                                                 registration_deps) -> None:
    released_occurrence, (answered, silent), (waiting,) = await asked_occurrence(
        engine, registration_stub, participant_stub, registration_deps, seats=2, people=2, waiting=1)
    await registration_stub.AnswerReconfirmation(answer(answered.name, CONFIRM), metadata=ADMIN)
    before = await last_outbox_id(engine)
    delivery, message = state_changed(released_occurrence, S.OCCURRENCE_STATE_READY, release=True)
    await on_state_changed(delivery, message, registration_deps)

    gone = await get(registration_stub, silent.name)
    assert (gone.state, gone.end_reason, gone.reconfirmation) == (
        rpb.REGISTRATION_STATE_CANCELLED, rpb.END_REASON_NOT_RECONFIRMED, rpb.RECONFIRMATION_UNANSWERED_RELEASED)
    assert (await get(registration_stub, answered.name)).reconfirmation == rpb.RECONFIRMATION_CONFIRMED
    session_id = released_occurrence.sessions["s"]
    assert await confirmed_seats(engine, session_id) == await confirmed_registrations(engine, session_id)
    rows = await outbox_since(engine, before)
    (told,) = notifications_in(rows, "reconfirmation.released")
    assert told.participant == silent.participant and told.parameters["registration"] == silent.name
    assert [r.event_type for r in rows if r.topic == "turnout.participants.v1"] == [
        "turnout.participant.v1.RegistrationCancelled"]
    await reconcile_once(registration_deps)
    assert (await get(registration_stub, waiting.name)).state == rpb.REGISTRATION_STATE_OFFERED
    # Redelivered: the settlement is done, the after-steps find nothing owed, nobody is told twice.
    middle = await last_outbox_id(engine)
    await on_state_changed(delivery, message, registration_deps)
    assert notifications_in(await outbox_since(engine, middle)) == []

    kept_occurrence, (unanswered,), _ = await asked_occurrence(engine, registration_stub, participant_stub,
                                                               registration_deps, seats=2, people=1)
    delivery, message = state_changed(kept_occurrence, S.OCCURRENCE_STATE_READY, release=False)
    await on_state_changed(delivery, message, registration_deps)
    kept = await get(registration_stub, unanswered.name)
    assert (kept.state, kept.reconfirmation) == (rpb.REGISTRATION_STATE_CONFIRMED, rpb.RECONFIRMATION_UNANSWERED_KEPT)
    closed = await refused(registration_stub.AnswerReconfirmation(answer(unanswered.name, CONFIRM), metadata=ADMIN))
    assert dict(error_info(closed).metadata) == {"reconfirmation": "unanswered_kept"}


async def test_answers_racing_the_settlement_end_in_one_outcome_each(engine, registration_stub, participant_stub,
                                                                     registration_deps) -> None:
    people = 40
    occurrence, registrations, _ = await asked_occurrence(engine, registration_stub, participant_stub,
                                                          registration_deps, seats=people, people=people)
    choices = {r.name: CONFIRM if index % 2 else DECLINE for index, r in enumerate(registrations)}
    delivery, message = state_changed(occurrence, S.OCCURRENCE_STATE_READY, release=True)

    some_answered = asyncio.Event()
    done: list[str] = []

    async def one(name: str) -> rpb.Registration | grpc.aio.AioRpcError:
        try:
            return await registration_stub.AnswerReconfirmation(answer(name, choices[name]), metadata=ADMIN)
        except grpc.aio.AioRpcError as error:
            return error
        finally:
            done.append(name)
            if len(done) >= people // 4:
                some_answered.set()

    async def settle() -> None:
        await some_answered.wait()  # the rest are in flight: they race the settlement's row locks
        await on_state_changed(delivery, message, registration_deps)

    *outcomes, _ = await asyncio.gather(*(one(name) for name in choices), settle())
    answers = dict(zip(choices, outcomes, strict=True))
    refusals = sum(isinstance(outcome, grpc.aio.AioRpcError) for outcome in answers.values())
    assert people // 4 <= people - refusals, "the first answers came before the settlement"
    for name, outcome in answers.items():
        final = await get(registration_stub, name)
        if isinstance(outcome, grpc.aio.AioRpcError):
            # The settlement got there first: released, and the answer refused saying so.
            assert error_info(outcome).reason == "RECONFIRMATION_CLOSED", outcome.details()
            assert final.reconfirmation == rpb.RECONFIRMATION_UNANSWERED_RELEASED
            assert final.state == rpb.REGISTRATION_STATE_CANCELLED
        elif choices[name] == CONFIRM:
            assert (final.state, final.reconfirmation) == (rpb.REGISTRATION_STATE_CONFIRMED,
                                                           rpb.RECONFIRMATION_CONFIRMED)
        else:
            assert (final.state, final.reconfirmation) == (rpb.REGISTRATION_STATE_CANCELLED,
                                                           rpb.RECONFIRMATION_DECLINED)
    await reconcile_once(registration_deps, grace=timedelta(0))
    session_id = occurrence.sessions["s"]
    assert await confirmed_seats(engine, session_id) == await confirmed_registrations(engine, session_id)
    assert await ledger_mismatches(engine, occurrence.occurrence_id) == []
    async with engine.connect() as connection:
        events = await connection.scalar(sa.text(
            f"SELECT count(*) FROM {SCHEMA}.outbox WHERE event_type IN "
            "('turnout.participant.v1.RegistrationCancelled', 'turnout.participant.v1.RegistrationReconfirmationChanged') "
            "AND message_key = ANY(:ids)"),
            {"ids": [name.removeprefix("registrations/") for name in choices]})
    # Per registration: asked (1) and exactly one outcome (1).
    assert events == 2 * people


async def test_a_cancelled_occurrence_tells_each_live_registration(engine, registration_stub, participant_stub,
                                                                   registration_deps) -> None:
    occurrence = await create_occurrence(engine, [SessionSpec("s", 1)])
    a, b, c = await new_participants(participant_stub, 3)
    (seated,) = await booked(registration_stub, occurrence.session("s"), [a])
    (waiting,) = await booked(registration_stub, occurrence.session("s"), [b], waitlist=True)
    (gone,) = await booked(registration_stub, occurrence.session("s"), [c], waitlist=True)
    await registration_stub.CancelRegistration(pb.CancelRegistrationRequest(name=gone.name), metadata=ADMIN)
    before = await last_outbox_id(engine)
    delivery, message = state_changed(occurrence, S.OCCURRENCE_STATE_CANCELLED)
    await on_state_changed(delivery, message, registration_deps)
    await on_state_changed(delivery, message, registration_deps)  # redelivered
    told = notifications_in(await outbox_since(engine, before), "occurrence.cancelled")
    assert sorted(r.parameters["registration"] for r in told) == sorted([seated.name, waiting.name])
    assert {r.parameters["occurrence"] for r in told} == {f"occurrences/{occurrence.occurrence_id}"}
    assert (await get(registration_stub, seated.name)).state == rpb.REGISTRATION_STATE_CONFIRMED, "nothing else"


async def test_each_reminder_reaches_each_confirmed_registration_once(engine, registration_stub, participant_stub,
                                                                     registration_deps) -> None:
    occurrence = await create_occurrence(engine, [SessionSpec("s", 1)])
    a, b = await new_participants(participant_stub, 2)
    (seated,) = await booked(registration_stub, occurrence.session("s"), [a])
    await booked(registration_stub, occurrence.session("s"), [b], waitlist=True)
    before = await last_outbox_id(engine)
    for offset in (timedelta(hours=24), timedelta(minutes=5)):
        delivery, message = reminder_due(occurrence, offset)
        await on_reminder_due(delivery, message, registration_deps)
        await on_reminder_due(delivery, message, registration_deps)  # redelivered
    reminders = notifications_in(await outbox_since(engine, before), "occurrence.reminder")
    assert [(r.participant, r.parameters["offset_minutes"]) for r in reminders] == [
        (f"participants/{a}", "1440"), (f"participants/{a}", "5")]
    assert set(reminders[0].parameters) == {"registration", "session", "event", "session_start_time",
                                            "offset_minutes"}
    assert reminders[0].parameters["registration"] == seated.name


async def test_a_no_show_is_told_once(engine, registration_stub, participant_stub) -> None:
    occurrence = await create_occurrence(engine, [SessionSpec("s", 2)])
    (a,) = await new_participants(participant_stub, 1)
    (seated,) = await booked(registration_stub, occurrence.session("s"), [a])
    before = await last_outbox_id(engine)
    for attendance in (rpb.ATTENDANCE_NO_SHOW, rpb.ATTENDANCE_NO_SHOW, rpb.ATTENDANCE_EXPECTED, rpb.ATTENDANCE_NO_SHOW):
        await registration_stub.BatchUpdateAttendance(pb.BatchUpdateAttendanceRequest(
            names=[seated.name], attendance=attendance, request_id=str(uuid.uuid4())), metadata=ADMIN)
    rows = await outbox_since(engine, before)
    (missed,) = notifications_in(rows, "attendance.missed")
    assert missed.participant == f"participants/{a}" and missed.parameters["registration"] == seated.name
    marked = [r for r in rows if r.event_type == "turnout.participant.v1.AttendanceMarked"]
    notification_row = next(r for r in rows if r.topic == "turnout.notifications.v1")
    assert notification_row.tx == marked[0].tx, "recorded with the attendance change"


async def test_the_pending_gauge_counts_unanswered_requests(engine, registration_stub, participant_stub,
                                                            registration_deps) -> None:
    _, (first, _second), _ = await asked_occurrence(engine, registration_stub, participant_stub, registration_deps,
                                                   seats=2, people=2)
    await reconcile_once(registration_deps)
    pending = reconciler.RECONFIRMATIONS_PENDING._value.get()
    assert pending >= 2
    await registration_stub.AnswerReconfirmation(answer(first.name, CONFIRM), metadata=ADMIN)
    await reconcile_once(registration_deps)
    assert reconciler.RECONFIRMATIONS_PENDING._value.get() == pending - 1


async def test_once_the_answers_are_settled_the_rounds_are_scheduled_without_the_released(
        engine, event_stub, registration_stub, participant_stub, registration_deps) -> None:
    occurrence, (coming, silent), _ = await asked_occurrence(engine, registration_stub, participant_stub,
                                                             registration_deps, seats=2, people=2)
    await registration_stub.AnswerReconfirmation(answer(coming.name, CONFIRM), metadata=ADMIN)
    async with engine.begin() as connection:
        await connection.execute(sa.text(
            "UPDATE event_service.events SET rounds = CAST(:r AS jsonb) WHERE id = :e"),
            {"r": '{"round_minutes": 10, "break_minutes": 0, "group_size": 4}', "e": occurrence.event_id})
    for target in (S.OCCURRENCE_STATE_CONFIRMING, S.OCCURRENCE_STATE_READY):
        await event_stub.TransitionOccurrence(epb.TransitionOccurrenceRequest(
            name=f"occurrences/{occurrence.occurrence_id}", target_state=target, request_id=str(uuid.uuid4())),
            metadata=ADMIN)
    delivery, message = state_changed(occurrence, S.OCCURRENCE_STATE_READY, release=True, rounds=True)
    await on_state_changed(delivery, message, registration_deps)
    await on_state_changed(delivery, message, registration_deps)  # redelivered: asks again, gets the same

    rounds = await event_stub.GetOccurrenceRounds(epb.GetOccurrenceRoundsRequest(
        name=f"occurrences/{occurrence.occurrence_id}/rounds"), metadata=ADMIN)
    scheduled = {p for group in rounds.groups for p in group.participants}
    assert scheduled == {coming.participant}, "the released seat is gone before the schedule is made"
    assert (await get(registration_stub, silent.name)).state == rpb.REGISTRATION_STATE_CANCELLED


async def test_rounds_refused_for_good_fail_the_message(engine, registration_stub, participant_stub,
                                                        registration_deps) -> None:
    occurrence, _, _ = await asked_occurrence(engine, registration_stub, participant_stub, registration_deps,
                                              seats=1, people=1)
    delivery, message = state_changed(occurrence, S.OCCURRENCE_STATE_READY, release=False, rounds=True)
    with pytest.raises(FailedPrecondition) as refused_for_good:  # the consumer skips it and tells the admins
        await on_state_changed(delivery, message, registration_deps)
    assert refused_for_good.value.reason == "ROUNDS_NOT_SCHEDULABLE"


async def test_the_volunteer_who_registered_them_may_answer_another_may_not_see_it(
        engine, registration_stub, participant_stub, registration_deps, unique) -> None:
    occurrence = await create_occurrence(engine, [SessionSpec("s", 2)])
    (a,) = await new_participants(participant_stub, 1)
    booker, stranger = actor(f"vol-a-{unique}", "volunteer"), actor(f"vol-b-{unique}", "volunteer")
    seated = await registration_stub.CreateRegistration(register(occurrence.session("s"), a), metadata=booker)
    delivery, message = state_changed(occurrence, S.OCCURRENCE_STATE_CONFIRMING,
                                      deadline=datetime.now(UTC) + timedelta(hours=1))
    await on_state_changed(delivery, message, registration_deps)
    hidden = await refused(registration_stub.AnswerReconfirmation(answer(seated.name, DECLINE), metadata=stranger))
    assert hidden.code() == grpc.StatusCode.NOT_FOUND
    kept = await registration_stub.AnswerReconfirmation(answer(seated.name, CONFIRM), metadata=booker)
    assert kept.reconfirmation == rpb.RECONFIRMATION_CONFIRMED


async def test_messages_read_after_their_moment_ask_and_tell_nobody(engine, registration_stub, participant_stub,
                                                                    registration_deps) -> None:
    """A new consumer group reads the topic's history: no request whose deadline is gone, no
    reminder of an occurrence that started."""
    past = datetime.now(UTC) - timedelta(hours=1)
    occurrence, (seated,), _ = await asked_occurrence(engine, registration_stub, participant_stub, registration_deps,
                                                      seats=1, people=1, deadline=past)
    assert (await get(registration_stub, seated.name)).reconfirmation == rpb.RECONFIRMATION_UNSPECIFIED
    before = await last_outbox_id(engine)
    delivery, message = reminder_due(occurrence, timedelta(minutes=5))
    message.occurrence.start_time.FromDatetime(past)
    await on_reminder_due(delivery, message, registration_deps)
    assert notifications_in(await outbox_since(engine, before)) == []
