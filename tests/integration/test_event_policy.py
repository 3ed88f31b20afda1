"""An event's lifecycle policy and rounds format (issue 7) on real Postgres, over gRPC and
REST: created, read and updated with the defaults filled in; invalid input refused naming
each field, with nothing written; a changed policy requeues the occurrences so the scheduler
follows the new offsets; the lifecycle events carry the reconfirmation deadline, the rounds
format and the sessions; an occurrence whose timetable cannot be worked out is reported to
the admins once.

Scheduler passes are narrowed to the events each test creates (`event_ids`).
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import grpc
import pytest
import sqlalchemy as sa
from google.protobuf import duration_pb2
from grpc_details import details
from ledger_fixtures import SessionSpec, create_occurrence
from test_occurrence_lifecycle import moves, published, steps

from event_service.adapters.tables import events, occurrences, outbox
from event_service.application.lifecycle import advance_all
from turnout.common.v1 import envelope_pb2
from turnout.event.v1 import catalog_events_pb2, event_pb2, session_pb2, venue_pb2
from turnout.event.v1 import event_service_pb2 as pb
from turnout.notification.v1 import notification_pb2

pytestmark = pytest.mark.integration

NOW = datetime.now(UTC).replace(microsecond=0)
HOUR = timedelta(hours=1)
MINUTE = timedelta(minutes=1)
ADMIN = (("x-turnout-roles", "admin"), ("x-turnout-actor", "alice"))


def rid() -> str:
    return str(uuid.uuid4())


def span(value: timedelta) -> duration_pb2.Duration:
    message = duration_pb2.Duration()
    message.FromTimedelta(value)
    return message


def create_request(unique: str, **fields) -> pb.CreateEventRequest:
    event = event_pb2.Event(
        title=f"Политика {unique}", capacity=20, kind=event_pb2.EVENT_KIND_ONE_OFF,
        first_date=(date.today() + timedelta(days=3)).isoformat(),
        sessions=[event_pb2.SessionTemplate(service="services/laundry", start_time="12:00", capacity=10,
                                            booking_window_days=30)], **fields)
    return pb.CreateEventRequest(event=event, request_id=rid(),
                                 new_venue=venue_pb2.Venue(display_name=f"Площадка политики {unique}"))


def policy(**fields) -> event_pb2.LifecyclePolicy:
    return event_pb2.LifecyclePolicy(**fields)


def offsets(message: event_pb2.LifecyclePolicy) -> list[timedelta]:
    return [r.ToTimedelta() for r in message.reminders]


async def refusal(call) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await call
    return refused.value


async def event_messages(event_deps, event_id: str, kind) -> list:
    async with event_deps.engine.connect() as connection:
        rows = (await connection.execute(
            sa.select(outbox.c.envelope).where(outbox.c.message_key == event_id,
                                               outbox.c.event_type == kind.DESCRIPTOR.full_name)
            .order_by(outbox.c.id))).scalars().all()
    found = []
    for raw in rows:
        message = kind()
        assert envelope_pb2.Envelope.FromString(raw).payload.Unpack(message)
        found.append(message)
    return found


async def count_titled(event_deps, title: str) -> int:
    async with event_deps.engine.connect() as connection:
        return await connection.scalar(sa.select(sa.func.count()).select_from(events).where(events.c.title == title))


# --- gRPC ----------------------------------------------------------------------------------


async def test_an_event_without_a_policy_gets_the_defaults_and_no_rounds(event_stub, event_deps, unique):
    created = await event_stub.CreateEvent(create_request(unique), metadata=ADMIN)
    assert created.lifecycle.confirming_before.ToTimedelta() == 24 * HOUR
    assert created.lifecycle.reconfirmation_deadline_before.ToTimedelta() == 2 * HOUR
    assert not created.lifecycle.keep_unanswered and not created.lifecycle.reminders_default
    assert offsets(created.lifecycle) == [24 * HOUR, 5 * MINUTE]
    assert not created.HasField("rounds")
    [published] = await event_messages(event_deps, created.name.split("/")[1], catalog_events_pb2.EventCreated)
    assert published.event.lifecycle == created.lifecycle


async def test_a_policy_and_rounds_are_stored_and_read_back_with_the_defaults_filled(event_stub, event_deps, unique):
    request = create_request(unique, lifecycle=policy(
        confirming_before=span(48 * HOUR), keep_unanswered=True,
        reminders=[span(30 * MINUTE), span(3 * HOUR), span(26 * HOUR)]),
        rounds=event_pb2.RoundsFormat(round_minutes=7, break_minutes=2, group_size=6))
    created = await event_stub.CreateEvent(request, metadata=ADMIN)
    got = await event_stub.GetEvent(pb.GetEventRequest(name=created.name))
    assert got == created
    assert got.lifecycle.confirming_before.ToTimedelta() == 48 * HOUR
    assert got.lifecycle.reconfirmation_deadline_before.ToTimedelta() == 2 * HOUR  # unset: the default
    assert got.lifecycle.keep_unanswered
    assert offsets(got.lifecycle) == [26 * HOUR, 3 * HOUR, 30 * MINUTE]  # earliest first
    assert (got.rounds.round_minutes, got.rounds.break_minutes, got.rounds.group_size) == (7, 2, 6)
    listed = await event_stub.ListEvents(pb.ListEventsRequest(query=f"Политика {unique}"))
    assert [e.lifecycle for e in listed.events] == [got.lifecycle]
    assert [e.rounds for e in listed.events] == [got.rounds]

    # reminders_default ignores the list; an empty list without it means no reminders.
    defaults = await event_stub.CreateEvent(create_request(f"{unique}-d", lifecycle=policy(
        reminders_default=True, reminders=[span(HOUR)])), metadata=ADMIN)
    assert offsets(defaults.lifecycle) == [24 * HOUR, 5 * MINUTE]
    silent = await event_stub.CreateEvent(create_request(f"{unique}-s", lifecycle=policy()), metadata=ADMIN)
    assert offsets(silent.lifecycle) == []


async def test_an_invalid_policy_or_format_is_refused_naming_each_field_and_writes_nothing(event_stub, event_deps,
                                                                                        unique):
    request = create_request(unique, lifecycle=policy(
        confirming_before=span(3 * HOUR), reconfirmation_deadline_before=span(5 * HOUR),
        reminders=[span(HOUR), span(HOUR), span(timedelta(seconds=90, milliseconds=500))]),
        rounds=event_pb2.RoundsFormat(round_minutes=0, break_minutes=5, group_size=1))
    error = await refusal(event_stub.CreateEvent(request, metadata=ADMIN))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    _, fields = details(error)
    assert set(fields) == {"event.lifecycle.reconfirmation_deadline_before", "event.lifecycle.reminders[1]",
                           "event.lifecycle.reminders[2]", "event.rounds.round_minutes", "event.rounds.group_size"}
    assert "whole number of seconds" in fields["event.lifecycle.reminders[2]"]
    assert "less than confirming_before" in fields["event.lifecycle.reconfirmation_deadline_before"]
    assert await count_titled(event_deps, f"Политика {unique}") == 0

    repeated = await refusal(event_stub.CreateEvent(create_request(unique, lifecycle=policy(
        reminders=[span(HOUR), span(HOUR)])), metadata=ADMIN))
    assert set(details(repeated)[1]) == {"event.lifecycle.reminders[1]"}
    assert await count_titled(event_deps, f"Политика {unique}") == 0


async def test_update_replaces_the_policy_and_the_rounds_and_refuses_without_a_partial_write(event_stub, event_deps,
                                                                                             unique):
    created = await event_stub.CreateEvent(create_request(unique, rounds=event_pb2.RoundsFormat(
        round_minutes=5, break_minutes=0, group_size=4)), metadata=ADMIN)

    def update(*paths: str, **fields) -> pb.UpdateEventRequest:
        request = pb.UpdateEventRequest(event=event_pb2.Event(name=created.name, **fields), request_id=rid())
        request.update_mask.paths.extend(paths)
        return request

    changed = await event_stub.UpdateEvent(update("lifecycle", lifecycle=policy(
        reconfirmation_deadline_before=span(3 * HOUR), reminders=[span(10 * MINUTE)])), metadata=ADMIN)
    assert changed.lifecycle.confirming_before.ToTimedelta() == 24 * HOUR
    assert changed.lifecycle.reconfirmation_deadline_before.ToTimedelta() == 3 * HOUR
    assert offsets(changed.lifecycle) == [10 * MINUTE]
    assert changed.rounds.group_size == 4  # not in the mask: unchanged

    # Title and an invalid policy in one request: refused as a whole, the title stays.
    error = await refusal(event_stub.UpdateEvent(update("title", "lifecycle", title="Другое", lifecycle=policy(
        confirming_before=span(timedelta(days=31)))), metadata=ADMIN))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert set(details(error)[1]) == {"event.lifecycle.confirming_before"}
    bad_rounds = await refusal(event_stub.UpdateEvent(update("rounds", rounds=event_pb2.RoundsFormat(
        round_minutes=5, break_minutes=121, group_size=4)), metadata=ADMIN))
    assert set(details(bad_rounds)[1]) == {"event.rounds.break_minutes"}
    unchanged = await event_stub.GetEvent(pb.GetEventRequest(name=created.name))
    assert unchanged.title == created.title and unchanged.lifecycle == changed.lifecycle
    assert unchanged.rounds == changed.rounds

    # In the mask but unset: the defaults, and no rounds.
    reset = await event_stub.UpdateEvent(update("lifecycle", "rounds"), metadata=ADMIN)
    assert reset.lifecycle == created.lifecycle and not reset.HasField("rounds")
    updates = await event_messages(event_deps, created.name.split("/")[1], catalog_events_pb2.EventUpdated)
    assert [list(u.changed_fields) for u in updates] == [["lifecycle"], ["lifecycle", "rounds"]]
    assert updates[0].event.lifecycle == changed.lifecycle and not updates[1].event.HasField("rounds")


async def test_a_changed_policy_requeues_the_occurrences_and_the_scheduler_follows_it(event_stub, event_deps):
    occ = await create_occurrence(event_deps.engine, [SessionSpec("a", 5, starts_in=timedelta(days=3)),
                                                      SessionSpec("b", 5, starts_in=timedelta(days=3) + HOUR)],
                                  now=NOW)
    start = NOW + timedelta(days=3)
    # Under the default policy nothing is due 47 hours ahead; the next look is at 24 hours.
    assert await advance_all(event_deps.uow_factory, start - 47 * HOUR, event_ids=[occ.event_id]) == 0
    async with event_deps.engine.connect() as connection:
        assert await connection.scalar(sa.select(occurrences.c.next_due_at)
                                       .where(occurrences.c.id == occ.occurrence_id)) == start - 24 * HOUR

    request = pb.UpdateEventRequest(event=event_pb2.Event(name=f"events/{occ.event_id}", lifecycle=policy(
        confirming_before=span(48 * HOUR), reconfirmation_deadline_before=span(5 * HOUR), reminders_default=True)),
        request_id=rid())
    request.update_mask.paths.append("lifecycle")
    await event_stub.UpdateEvent(request, metadata=ADMIN)

    assert await advance_all(event_deps.uow_factory, start - 47 * HOUR, event_ids=[occ.event_id]) == 1
    assert await advance_all(event_deps.uow_factory, start - 5 * HOUR, event_ids=[occ.event_id]) == 1
    found = await steps(event_deps, [occ.occurrence_id])
    assert moves(found) == [("scheduled", "confirming"), ("confirming", "ready")]
    confirming, ready = found[0][1], found[1][1]
    assert confirming.reconfirmation_deadline.ToDatetime(tzinfo=UTC) == start - 5 * HOUR
    assert not ready.HasField("reconfirmation_deadline") and not ready.HasField("rounds")  # no format
    assert list(confirming.occurrence.sessions) == [occ.session("a"), occ.session("b")]
    assert list(ready.occurrence.sessions) == [occ.session("a"), occ.session("b")]
    reminders = [payload for kind, _, payload in await published(event_deps, occ.occurrence_id)
                 if kind == "OccurrenceReminderDue"]
    assert [r.offset.ToTimedelta() for r in reminders] == [24 * HOUR]
    assert list(reminders[0].occurrence.sessions) == [occ.session("a"), occ.session("b")]


async def test_entering_ready_carries_the_rounds_format_in_both_paths(event_stub, event_deps):
    scheduled = await create_occurrence(event_deps.engine, [SessionSpec("a", 5)], now=NOW)
    by_admin = await create_occurrence(event_deps.engine, [SessionSpec("a", 5)], now=NOW)
    for occ in (scheduled, by_admin):
        async with event_deps.engine.begin() as connection:
            await connection.execute(events.update().where(events.c.id == occ.event_id).values(
                rounds={"round_minutes": 8, "break_minutes": 2, "group_size": 6}))
    start = NOW + timedelta(days=3)
    assert await advance_all(event_deps.uow_factory, start - HOUR, event_ids=[scheduled.event_id]) == 2
    name = f"occurrences/{by_admin.occurrence_id}"
    for target in (session_pb2.OCCURRENCE_STATE_CONFIRMING, session_pb2.OCCURRENCE_STATE_READY):
        moved = await event_stub.TransitionOccurrence(pb.TransitionOccurrenceRequest(
            name=name, target_state=target, request_id=rid()), metadata=ADMIN)
        assert list(moved.sessions) == [by_admin.session("a")]
    for occ in (scheduled, by_admin):
        confirming, ready = [m for _, m, _ in await steps(event_deps, [occ.occurrence_id])]
        assert confirming.reconfirmation_deadline.ToDatetime(tzinfo=UTC) == start - 2 * HOUR
        assert not confirming.HasField("rounds")
        assert (ready.rounds.round_minutes, ready.rounds.break_minutes, ready.rounds.group_size) == (8, 2, 6)
        assert list(ready.occurrence.sessions) == [occ.session("a")]
    got = await event_stub.GetOccurrence(pb.GetOccurrenceRequest(name=name))
    assert list(got.sessions) == [by_admin.session("a")]


# --- system errors -------------------------------------------------------------------------


async def system_errors(event_deps, occurrence_id: str) -> list[notification_pb2.NotificationRequested]:
    async with event_deps.engine.connect() as connection:
        rows = (await connection.execute(
            sa.select(outbox.c.envelope).where(outbox.c.topic == "turnout.notifications.v1",
                                               outbox.c.message_key == "roles/admin")
            .order_by(outbox.c.id))).scalars().all()
    found = []
    for raw in rows:
        message = notification_pb2.NotificationRequested()
        assert envelope_pb2.Envelope.FromString(raw).payload.Unpack(message)
        if message.parameters.get("occurrence") == f"occurrences/{occurrence_id}":
            found.append(message)
    return found


async def test_an_occurrence_without_a_valid_timetable_is_reported_to_the_admins_once(event_stub, event_deps):
    broken = await create_occurrence(event_deps.engine, [SessionSpec("a", 5)], now=NOW)
    fine = await create_occurrence(event_deps.engine, [SessionSpec("a", 5)], now=NOW)
    async with event_deps.engine.begin() as connection:
        await connection.execute(events.update().where(events.c.id == broken.event_id).values(
            lifecycle={"confirming_before_seconds": -5}))
    start = NOW + timedelta(days=3)
    scope = [broken.event_id, fine.event_id]
    for moment in (start - HOUR, start, start + HOUR):  # the broken one is out of the queue after the first
        await advance_all(event_deps.uow_factory, moment, event_ids=scope)
    [notice] = await system_errors(event_deps, broken.occurrence_id)
    assert notice.role == "admin" and notice.template_key == "system.error"
    parameters = dict(notice.parameters)
    assert parameters["error_code"] == "invalid_timetable"
    assert parameters["component"] == "event-service/lifecycle-scheduler"
    assert parameters["event"] == f"events/{broken.event_id}" and parameters["state"] == "scheduled"
    assert "lifecycle.confirming_before" in parameters["detail"] and parameters["summary"]
    assert notice.dedup_key.startswith(f"system.error/invalid_timetable/occurrences/{broken.occurrence_id}/")
    assert await system_errors(event_deps, fine.occurrence_id) == []
    # Reads still answer for the broken event (without a policy), never an internal error.
    got = await event_stub.GetEvent(pb.GetEventRequest(name=f"events/{broken.event_id}"))
    assert not got.HasField("lifecycle")

    # An admin fixes the policy: the occurrence is queued again and walks its timetable.
    request = pb.UpdateEventRequest(event=event_pb2.Event(name=f"events/{broken.event_id}"), request_id=rid())
    request.update_mask.paths.append("lifecycle")
    await event_stub.UpdateEvent(request, metadata=ADMIN)
    assert await advance_all(event_deps.uow_factory, start + HOUR, event_ids=[broken.event_id]) == 4
    assert len(await system_errors(event_deps, broken.occurrence_id)) == 1


# --- REST ----------------------------------------------------------------------------------


def rest_body(unique: str, **overrides) -> dict:
    body = {
        "title": f"REST политика {unique}", "new_venue": {"name": f"REST площадка политики {unique}"},
        "capacity": 30, "kind": "one_off", "first_date": (date.today() + timedelta(days=3)).isoformat(),
        "sessions": [{"key": "l", "service_id": "laundry", "start_time": "12:00", "capacity": 10,
                      "booking_window_days": 30}],
    }
    body.update(overrides)
    return body


DEFAULT_LIFECYCLE = {"confirming_before_minutes": 1440, "reconfirmation_deadline_before_minutes": 120,
                     "release_unanswered": True, "reminders_minutes": [1440, 5]}


async def test_rest_creates_reads_and_patches_the_policy_and_the_rounds(rest, unique):
    plain = await rest.post("/v1/events", json=rest_body(f"{unique}-p"))
    assert plain.status_code == 201, plain.text
    assert plain.json()["lifecycle"] == DEFAULT_LIFECYCLE and plain.json()["rounds"] is None

    created = await rest.post("/v1/events", json=rest_body(unique, lifecycle={
        "confirming_before_minutes": 2880, "release_unanswered": False, "reminders_minutes": [30, 180]},
        rounds={"round_minutes": 6, "break_minutes": 1, "group_size": 8}))
    assert created.status_code == 201, created.text
    event = created.json()
    assert event["lifecycle"] == {"confirming_before_minutes": 2880, "reconfirmation_deadline_before_minutes": 120,
                                  "release_unanswered": False, "reminders_minutes": [180, 30]}
    assert event["rounds"] == {"round_minutes": 6, "break_minutes": 1, "group_size": 8}
    assert (await rest.get(f"/v1/events/{event['id']}")).json() == event

    none = await rest.patch(f"/v1/events/{event['id']}", json={"lifecycle": {"reminders_minutes": []}})
    assert none.status_code == 200, none.text
    assert none.json()["lifecycle"] == {**DEFAULT_LIFECYCLE, "reminders_minutes": []}
    assert none.json()["rounds"] == event["rounds"]
    cleared = await rest.patch(f"/v1/events/{event['id']}", json={"lifecycle": None, "rounds": None})
    assert cleared.status_code == 200, cleared.text
    assert cleared.json()["lifecycle"] == DEFAULT_LIFECYCLE and cleared.json()["rounds"] is None


async def test_rest_refusals_name_the_rest_fields_and_write_nothing(rest, unique):
    refused = await rest.post("/v1/events", json=rest_body(unique, lifecycle={
        "confirming_before_minutes": 60, "reconfirmation_deadline_before_minutes": 90, "reminders_minutes": [0]},
        rounds={"round_minutes": 300, "group_size": 2}))
    assert refused.status_code == 400, refused.text
    problem = refused.json()
    assert problem["code"] == "validation_failed"
    assert {e["field"] for e in problem["errors"]} == {"lifecycle.reconfirmation_deadline_before_minutes",
                                                       "lifecycle.reminders_minutes[0]", "rounds.round_minutes"}
    listed = (await rest.get("/v1/events", params={"q": f"REST политика {unique}"})).json()
    assert listed["events"] == []

    unknown = await rest.post("/v1/events", json=rest_body(unique, lifecycle={"confirming_before_hours": 5}))
    assert unknown.status_code == 422 and unknown.json()["code"] == "validation_failed"
    assert any("confirming_before_hours" in e["field"] for e in unknown.json()["errors"])
    missing = await rest.post("/v1/events", json=rest_body(unique, rounds={"break_minutes": 5}))
    assert missing.status_code == 422

    event = (await rest.post("/v1/events", json=rest_body(unique))).json()
    patched = await rest.patch(f"/v1/events/{event['id']}", json={
        "title": "Не сохранится", "rounds": {"round_minutes": 5, "group_size": 101}})
    assert patched.status_code == 400 and [e["field"] for e in patched.json()["errors"]] == ["rounds.group_size"]
    after = (await rest.get(f"/v1/events/{event['id']}")).json()
    assert after["title"] == event["title"] and after["rounds"] is None
