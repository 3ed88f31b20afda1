"""The occurrence lifecycle end to end on real Postgres: an admin's steps over gRPC and REST
(valid, invalid naming the current state, idempotent retries, concurrent admins), and the
scheduler on a clock the tests move (catch-up after downtime, the timetable step by step,
two schedulers at once with one of them killed and restarted).

Scheduler passes here are narrowed to the events each test creates (`event_ids`), so the
occurrences other tests left in the shared database are never moved.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

import grpc
import pytest
import sqlalchemy as sa
from grpc_details import details, error_info
from ledger_fixtures import SessionSpec, create_occurrence
from prometheus_client import REGISTRY

from event_service.adapters.tables import events, occurrences, outbox
from event_service.application.lifecycle import (
    advance_all,
    refresh_gauge,
    run_scheduler,
)
from event_service.bootstrap import bootstrap as bootstrap_events
from kernel.auth import issue_token
from turnout.common.v1 import envelope_pb2
from turnout.event.v1 import catalog_events_pb2, session_pb2
from turnout.event.v1 import event_service_pb2 as pb

pytestmark = pytest.mark.integration

NOW = datetime.now(UTC).replace(microsecond=0)
HOUR = timedelta(hours=1)
ADMIN = (("x-turnout-roles", "admin"), ("x-turnout-actor", "alice"))
VOLUNTEER = (("x-turnout-roles", "volunteer"), ("x-turnout-actor", "vera"))
S = session_pb2
STATE_NAMES = {S.OCCURRENCE_STATE_SCHEDULED: "scheduled", S.OCCURRENCE_STATE_CONFIRMING: "confirming",
               S.OCCURRENCE_STATE_READY: "ready", S.OCCURRENCE_STATE_RUNNING: "running",
               S.OCCURRENCE_STATE_FINISHED: "finished", S.OCCURRENCE_STATE_CANCELLED: "cancelled"}
FORWARD = ["confirming", "ready", "running", "finished"]


def rid() -> str:
    return str(uuid.uuid4())


async def an_occurrence(event_deps, starts_in: timedelta = timedelta(days=3)):
    """One occurrence with two sessions: the first starts at NOW + starts_in and the second
    an hour later, each an hour long (so the occurrence ends two hours after it starts)."""
    return await create_occurrence(event_deps.engine, [SessionSpec("a", 5, starts_in=starts_in),
                                                       SessionSpec("b", 5, starts_in=starts_in + HOUR)], now=NOW)


async def steps(event_deps, occurrence_ids) -> list[tuple[str, catalog_events_pb2.OccurrenceStateChanged, int]]:
    """(occurrence id, payload, aggregate version) of every OccurrenceStateChanged of these
    occurrences in the outbox, in commit order."""
    async with event_deps.engine.connect() as connection:
        rows = (await connection.execute(
            sa.select(outbox.c.message_key, outbox.c.envelope)
            .where(outbox.c.message_key.in_(list(occurrence_ids)), outbox.c.topic == "turnout.catalog.v1",
                   outbox.c.event_type == "turnout.event.v1.OccurrenceStateChanged")
            .order_by(outbox.c.id))).all()
    found = []
    for key, raw in rows:
        envelope = envelope_pb2.Envelope.FromString(raw)
        assert envelope.aggregate_type == "occurrence" and envelope.aggregate_id == key
        message = catalog_events_pb2.OccurrenceStateChanged()
        assert envelope.payload.Unpack(message)
        found.append((key, message, envelope.aggregate_version))
    return found


async def published(event_deps, occurrence_id: str) -> list[tuple[str, int, object]]:
    """(payload type without package, aggregate version, payload) of every message about the
    occurrence, in commit order."""
    kinds = {"OccurrenceStateChanged": catalog_events_pb2.OccurrenceStateChanged,
             "OccurrenceReminderDue": catalog_events_pb2.OccurrenceReminderDue}
    async with event_deps.engine.connect() as connection:
        rows = (await connection.execute(sa.select(outbox.c.envelope).where(outbox.c.message_key == occurrence_id)
                                         .order_by(outbox.c.id))).scalars().all()
    found = []
    for raw in rows:
        envelope = envelope_pb2.Envelope.FromString(raw)
        kind = envelope.type.rsplit(".", 1)[1]
        payload = kinds[kind]()
        assert envelope.payload.Unpack(payload)
        found.append((kind, envelope.aggregate_version, payload))
    return found


def moves(found) -> list[tuple[str, str]]:
    return [(STATE_NAMES[m.from_state], STATE_NAMES[m.to_state]) for _, m, _ in found]


async def states(event_deps, occurrence_ids) -> dict[str, str]:
    async with event_deps.engine.connect() as connection:
        rows = await connection.execute(sa.select(occurrences.c.id, occurrences.c.state)
                                        .where(occurrences.c.id.in_(list(occurrence_ids))))
        return dict(rows.all())


async def refusal(call):
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await call
    return refused.value


# --- an admin's steps over gRPC -----------------------------------------------------------


async def test_an_admin_moves_an_occurrence_one_step_at_a_time(event_stub, event_deps):
    occ = await an_occurrence(event_deps)
    name = f"occurrences/{occ.occurrence_id}"
    got = await event_stub.GetOccurrence(pb.GetOccurrenceRequest(name=name))
    assert got.state == S.OCCURRENCE_STATE_SCHEDULED and not got.HasField("state_change_time")
    assert got.start_time.ToDatetime(tzinfo=UTC) == NOW + timedelta(days=3)
    assert got.end_time.ToDatetime(tzinfo=UTC) == NOW + timedelta(days=3) + 2 * HOUR

    moved = await event_stub.TransitionOccurrence(pb.TransitionOccurrenceRequest(
        name=name, target_state=S.OCCURRENCE_STATE_CONFIRMING, request_id=rid()), metadata=ADMIN)
    assert moved.state == S.OCCURRENCE_STATE_CONFIRMING and moved.HasField("state_change_time")

    # Not one step from confirming: refused naming the current state and what is allowed.
    error = await refusal(event_stub.TransitionOccurrence(pb.TransitionOccurrenceRequest(
        name=name, target_state=S.OCCURRENCE_STATE_RUNNING, request_id=rid()), metadata=ADMIN))
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    info = error_info(error)
    assert info.reason == "INVALID_TRANSITION"
    assert dict(info.metadata)["state"] == "confirming" and dict(info.metadata)["allowed"] == "ready,cancelled"
    assert "confirming" in error.details()
    again = await refusal(event_stub.TransitionOccurrence(pb.TransitionOccurrenceRequest(
        name=name, target_state=S.OCCURRENCE_STATE_CONFIRMING), metadata=ADMIN))
    assert "already confirming" in again.details()

    cancelled = await event_stub.TransitionOccurrence(pb.TransitionOccurrenceRequest(
        name=name, target_state=S.OCCURRENCE_STATE_CANCELLED, request_id=rid()), metadata=ADMIN)
    assert cancelled.state == S.OCCURRENCE_STATE_CANCELLED
    final = await refusal(event_stub.TransitionOccurrence(pb.TransitionOccurrenceRequest(
        name=name, target_state=S.OCCURRENCE_STATE_READY), metadata=ADMIN))
    assert details(final)[0] == "INVALID_TRANSITION" and "cancelled is final" in final.details()

    found = await steps(event_deps, [occ.occurrence_id])
    assert moves(found) == [("scheduled", "confirming"), ("confirming", "cancelled")]
    assert [version for _, _, version in found] == [2, 3]
    assert all(m.cause == catalog_events_pb2.OCCURRENCE_TRANSITION_CAUSE_ADMIN for _, m, _ in found)
    assert found[0][1].event == f"events/{occ.event_id}" and found[0][1].occurrence.state == S.OCCURRENCE_STATE_CONFIRMING
    # Final: the scheduler never looks at it again.
    async with event_deps.engine.connect() as connection:
        assert await connection.scalar(sa.select(occurrences.c.next_due_at)
                                       .where(occurrences.c.id == occ.occurrence_id)) is None


async def test_refusals_name_the_field_the_role_and_the_missing_occurrence(event_stub, event_deps):
    occ = await an_occurrence(event_deps)
    name = f"occurrences/{occ.occurrence_id}"
    unspecified = await refusal(event_stub.TransitionOccurrence(pb.TransitionOccurrenceRequest(name=name),
                                                                metadata=ADMIN))
    assert unspecified.code() == grpc.StatusCode.INVALID_ARGUMENT and "target_state" in details(unspecified)[1]
    bad_name = await refusal(event_stub.GetOccurrence(pb.GetOccurrenceRequest(name="sessions/x")))
    assert bad_name.code() == grpc.StatusCode.INVALID_ARGUMENT and "name" in details(bad_name)[1]
    missing = await refusal(event_stub.GetOccurrence(pb.GetOccurrenceRequest(name=f"occurrences/{uuid.uuid4()}")))
    assert missing.code() == grpc.StatusCode.NOT_FOUND
    volunteer = await refusal(event_stub.TransitionOccurrence(pb.TransitionOccurrenceRequest(
        name=name, target_state=S.OCCURRENCE_STATE_CANCELLED), metadata=VOLUNTEER))
    assert volunteer.code() == grpc.StatusCode.PERMISSION_DENIED
    assert await steps(event_deps, [occ.occurrence_id]) == []


async def test_a_retry_with_the_same_request_id_moves_nothing_again(event_stub, event_deps):
    occ = await an_occurrence(event_deps)
    request = pb.TransitionOccurrenceRequest(name=f"occurrences/{occ.occurrence_id}",
                                             target_state=S.OCCURRENCE_STATE_CONFIRMING, request_id=rid())
    first = await event_stub.TransitionOccurrence(request, metadata=ADMIN)
    second = await event_stub.TransitionOccurrence(request, metadata=ADMIN)
    assert first == second
    reused = await refusal(event_stub.TransitionOccurrence(pb.TransitionOccurrenceRequest(
        name=request.name, target_state=S.OCCURRENCE_STATE_CANCELLED, request_id=request.request_id),
        metadata=ADMIN))
    assert details(reused)[0] == "REQUEST_ID_REUSED"
    assert moves(await steps(event_deps, [occ.occurrence_id])) == [("scheduled", "confirming")]


async def test_of_concurrent_admins_exactly_one_moves_the_occurrence(event_stub, event_deps):
    occ = await an_occurrence(event_deps)
    name = f"occurrences/{occ.occurrence_id}"
    targets = [S.OCCURRENCE_STATE_CONFIRMING, S.OCCURRENCE_STATE_CANCELLED] * 5
    answers = await asyncio.gather(*(event_stub.TransitionOccurrence(pb.TransitionOccurrenceRequest(
        name=name, target_state=target, request_id=rid()), metadata=ADMIN) for target in targets),
        return_exceptions=True)
    won = [a for a in answers if not isinstance(a, Exception)]
    lost = [a for a in answers if isinstance(a, Exception)]
    # Either a confirming and then a cancel (cancel is allowed from confirming) or one cancel.
    found = await steps(event_deps, [occ.occurrence_id])
    assert moves(found) in ([("scheduled", "confirming"), ("confirming", "cancelled")],
                            [("scheduled", "cancelled")])
    assert len(won) == len(found)
    assert all(isinstance(a, grpc.aio.AioRpcError) and details(a)[0] == "INVALID_TRANSITION" for a in lost)
    assert (await states(event_deps, [occ.occurrence_id]))[occ.occurrence_id] == "cancelled"


# --- REST --------------------------------------------------------------------------------


async def test_rest_reads_and_moves_an_occurrence(rest, settings, event_deps):
    occ = await an_occurrence(event_deps)
    url = f"/v1/occurrences/{occ.occurrence_id}"
    got = await rest.get(url)
    assert got.status_code == 200, got.text
    assert got.json()["state"] == "scheduled" and got.json()["event_id"] == occ.event_id
    assert got.json()["starts_at"] is not None and got.json()["ends_at"] is not None

    key = rid()
    moved = await rest.post(f"{url}/transition", json={"state": "confirming"}, headers={"Idempotency-Key": key})
    assert moved.status_code == 200, moved.text
    assert moved.json()["state"] == "confirming" and moved.json()["state_changed_at"]
    retried = await rest.post(f"{url}/transition", json={"state": "confirming"}, headers={"Idempotency-Key": key})
    assert retried.status_code == 200 and retried.json() == moved.json()

    invalid = await rest.post(f"{url}/transition", json={"state": "finished"})
    assert invalid.status_code == 409, invalid.text
    problem = invalid.json()
    assert problem["code"] == "invalid_transition" and problem["state"] == "confirming"
    assert problem["allowed"] == ["ready", "cancelled"] and "confirming" in problem["detail"]

    unknown = await rest.post(f"{url}/transition", json={"state": "paused"})
    assert unknown.status_code == 422
    assert (await rest.get(f"/v1/occurrences/{uuid.uuid4()}")).status_code == 404
    assert (await rest.post(f"/v1/occurrences/{uuid.uuid4()}/transition",
                            json={"state": "cancelled"})).status_code == 404
    participant = issue_token(settings.auth_secret, sub="p", roles=["participant"], participant_id=str(uuid.uuid4()))
    forbidden = await rest.post(f"{url}/transition", json={"state": "cancelled"},
                                headers={"Authorization": f"Bearer {participant}"})
    assert forbidden.status_code == 403
    assert moves(await steps(event_deps, [occ.occurrence_id])) == [("scheduled", "confirming")]


# --- the scheduler -----------------------------------------------------------------------


async def test_after_downtime_the_scheduler_walks_every_step_in_order(event_deps):
    occ = await an_occurrence(event_deps)
    start = NOW + timedelta(days=3)
    # Down from before confirming until after the end: one pass catches up, one event per step.
    taken = await advance_all(event_deps.uow_factory, start + 3 * HOUR, event_ids=[occ.event_id])
    assert taken == 4
    found = await steps(event_deps, [occ.occurrence_id])
    assert moves(found) == [("scheduled", "confirming"), ("confirming", "ready"), ("ready", "running"),
                            ("running", "finished")]
    assert [version for _, _, version in found] == [2, 3, 4, 5]
    assert all(m.cause == catalog_events_pb2.OCCURRENCE_TRANSITION_CAUSE_SCHEDULER for _, m, _ in found)
    # Confirming and ready entered together: nobody could answer, so nobody is released.
    assert not found[1][1].release_unanswered
    assert [STATE_NAMES[m.occurrence.state] for _, m, _ in found] == FORWARD
    # Applying the steps and asking again gives nothing.
    assert await advance_all(event_deps.uow_factory, start + 4 * HOUR, event_ids=[occ.event_id]) == 0
    assert len(await steps(event_deps, [occ.occurrence_id])) == 4


async def test_the_scheduler_follows_the_timetable_and_an_admins_early_step_stands(event_deps, event_stub):
    occ = await an_occurrence(event_deps)
    early = await an_occurrence(event_deps)
    scope = [occ.event_id, early.event_id]
    start = NOW + timedelta(days=3)
    run = lambda at: advance_all(event_deps.uow_factory, at, event_ids=scope)

    assert await run(start - 25 * HOUR) == 0
    assert await run(start - 24 * HOUR) == 2  # both enter confirming 24 h before the start
    # An admin starts one early; the scheduler never moves it back.
    await event_stub.TransitionOccurrence(pb.TransitionOccurrenceRequest(
        name=f"occurrences/{early.occurrence_id}", target_state=S.OCCURRENCE_STATE_READY), metadata=ADMIN)
    await event_stub.TransitionOccurrence(pb.TransitionOccurrenceRequest(
        name=f"occurrences/{early.occurrence_id}", target_state=S.OCCURRENCE_STATE_RUNNING), metadata=ADMIN)
    assert await run(start - 2 * HOUR) == 1  # ready at the reconfirmation deadline: only `occ`
    assert await run(start) == 1  # running at the start: only `occ`, `early` runs already
    assert await states(event_deps, [occ.occurrence_id, early.occurrence_id]) == {
        occ.occurrence_id: "running", early.occurrence_id: "running"}
    assert await run(start + 2 * HOUR) == 2  # both finish at the end of the last session

    found = await steps(event_deps, [occ.occurrence_id])
    assert moves(found) == list(zip(["scheduled", *FORWARD[:-1]], FORWARD))
    # The participants had the whole answer window: unanswered registrations are released.
    assert found[1][1].release_unanswered
    assert moves(await steps(event_deps, [early.occurrence_id])) == list(zip(["scheduled", *FORWARD[:-1]], FORWARD))

    await refresh_gauge(event_deps.uow_factory)
    assert REGISTRY.get_sample_value("turnout_occurrences", {"state": "finished"}) >= 2
    assert REGISTRY.get_sample_value("turnout_occurrence_transitions_total",
                                     {"from_state": "ready", "to_state": "running", "cause": "scheduler"}) >= 1


async def test_an_admin_closing_the_answers_releases_the_unanswered_only_after_a_fair_chance(event_deps, event_stub):
    # Default policy: a 22-hour answer window (24 h to 2 h before the start), half of it fair.
    fair = await an_occurrence(event_deps, starts_in=12 * HOUR)
    rushed = await an_occurrence(event_deps, starts_in=23 * HOUR)
    # Confirming since 12 h ago and since 1 h ago, as the scheduler would have left them (a
    # new occurrence is queued for its creation time, so it is queued earlier here).
    async with event_deps.engine.begin() as connection:
        await connection.execute(occurrences.update().values(next_due_at=NOW - 13 * HOUR)
                                 .where(occurrences.c.id.in_([fair.occurrence_id, rushed.occurrence_id])))
    assert await advance_all(event_deps.uow_factory, NOW - 12 * HOUR, event_ids=[fair.event_id]) == 1
    assert await advance_all(event_deps.uow_factory, NOW - HOUR, event_ids=[rushed.event_id]) == 1
    for occ in (fair, rushed):
        await event_stub.TransitionOccurrence(pb.TransitionOccurrenceRequest(
            name=f"occurrences/{occ.occurrence_id}", target_state=S.OCCURRENCE_STATE_READY), metadata=ADMIN)
    [_, (_, fair_ready, _)] = await steps(event_deps, [fair.occurrence_id])
    [_, (_, rushed_ready, _)] = await steps(event_deps, [rushed.occurrence_id])
    assert fair_ready.cause == catalog_events_pb2.OCCURRENCE_TRANSITION_CAUSE_ADMIN
    assert fair_ready.release_unanswered
    assert not rushed_ready.release_unanswered


async def test_reminders_come_once_each_and_after_downtime_only_the_latest(event_deps):
    kept, late = await an_occurrence(event_deps), await an_occurrence(event_deps)
    start = NOW + timedelta(days=3)
    run = lambda at, occ: advance_all(event_deps.uow_factory, at, event_ids=[occ.event_id])

    assert await run(start - 24 * HOUR, kept) == 1  # confirming, and the 24 h reminder
    assert await run(start - 24 * HOUR + timedelta(minutes=1), kept) == 0
    assert await run(start - timedelta(minutes=5), kept) == 1  # ready, and the 5 min reminder
    assert await run(start, kept) == 1  # running: no reminder at or after the start
    found = await published(event_deps, kept.occurrence_id)
    assert [(kind, version) for kind, version, _ in found] == [
        ("OccurrenceStateChanged", 2), ("OccurrenceReminderDue", 3), ("OccurrenceStateChanged", 4),
        ("OccurrenceReminderDue", 5), ("OccurrenceStateChanged", 6)]
    reminders = [payload for kind, _, payload in found if kind == "OccurrenceReminderDue"]
    assert [r.offset.ToTimedelta() for r in reminders] == [24 * HOUR, timedelta(minutes=5)]
    assert [r.due_time.ToDatetime(tzinfo=UTC) for r in reminders] == [start - 24 * HOUR,
                                                                       start - timedelta(minutes=5)]
    assert reminders[0].event == f"events/{kept.event_id}"

    # Down until a minute before the start: the steps, then only the 5 min reminder.
    assert await run(start - timedelta(minutes=1), late) == 2
    assert [(kind, getattr(p, "offset", None) and p.offset.ToTimedelta())
            for kind, _, p in await published(event_deps, late.occurrence_id)] == [
        ("OccurrenceStateChanged", None), ("OccurrenceStateChanged", None),
        ("OccurrenceReminderDue", timedelta(minutes=5))]


async def test_the_events_policy_sets_the_offsets_and_a_moved_session_moves_the_timetable(event_deps, event_stub):
    occ = await an_occurrence(event_deps)
    start = NOW + timedelta(days=3)
    async with event_deps.engine.begin() as connection:
        await connection.execute(events.update().where(events.c.id == occ.event_id).values(
            lifecycle={"confirming_before_seconds": 48 * 3600, "release_unanswered": False}))
    assert await advance_all(event_deps.uow_factory, start - 47 * HOUR, event_ids=[occ.event_id]) == 1
    # Both sessions move a day later: the occurrence is queued again and ready comes a day later.
    for key in ("a", "b"):
        session = await event_stub.GetSession(pb.GetSessionRequest(name=occ.session(key)))
        session.start_time.FromDatetime(session.start_time.ToDatetime(tzinfo=UTC) + timedelta(days=1))
        request = pb.UpdateSessionRequest(session=session, request_id=rid())
        request.update_mask.paths.append("start_time")
        await event_stub.UpdateSession(request, metadata=ADMIN)
    assert await advance_all(event_deps.uow_factory, start - HOUR, event_ids=[occ.event_id]) == 0
    assert await advance_all(event_deps.uow_factory, start + 23 * HOUR, event_ids=[occ.event_id]) == 1
    found = await steps(event_deps, [occ.occurrence_id])
    assert moves(found) == [("scheduled", "confirming"), ("confirming", "ready")]
    assert not found[1][1].release_unanswered  # the event keeps unanswered registrations


async def test_an_event_with_a_broken_policy_does_not_stall_the_others(event_deps):
    broken, fine = await an_occurrence(event_deps), await an_occurrence(event_deps)
    async with event_deps.engine.begin() as connection:
        await connection.execute(events.update().where(events.c.id == broken.event_id).values(
            lifecycle={"confirming_before_seconds": -5}))
    start = NOW + timedelta(days=3)
    assert await advance_all(event_deps.uow_factory, start, event_ids=[broken.event_id, fine.event_id]) == 3
    assert await states(event_deps, [broken.occurrence_id, fine.occurrence_id]) == {
        broken.occurrence_id: "scheduled", fine.occurrence_id: "running"}
    async with event_deps.engine.connect() as connection:
        assert await connection.scalar(sa.select(occurrences.c.next_due_at)
                                       .where(occurrences.c.id == broken.occurrence_id)) is None


async def test_two_schedulers_at_once_take_each_step_exactly_once_through_a_restart(settings, event_deps):
    made = [await an_occurrence(event_deps) for _ in range(24)]
    ids = [o.occurrence_id for o in made]
    scope = [o.event_id for o in made]
    start = NOW + timedelta(days=3)
    clock = [start - 23 * HOUR]
    replicas = [bootstrap_events(settings), bootstrap_events(settings)]

    recorded: Counter[str] = Counter()  # steps each replica recorded (committed or not)

    def counting(deps, replica: str):
        def factory():
            uow = deps.uow_factory()
            record = uow.record

            def counted(event):
                recorded[replica] += 1
                record(event)
            uow.record = counted
            return uow
        return factory

    def launch(deps) -> tuple[asyncio.Task, asyncio.Event]:
        stop = asyncio.Event()
        replica = "a" if deps is replicas[0] else "b"
        task = asyncio.create_task(run_scheduler(counting(deps, replica), stop, clock=lambda: clock[0],
                                                 interval=0.01, batch=3, event_ids=scope))
        return task, stop

    async def until_all(state: str) -> None:
        for _ in range(1000):
            if set((await states(event_deps, ids)).values()) == {state}:
                return
            await asyncio.sleep(0.02)
        raise AssertionError(f"not all {state}: {Counter((await states(event_deps, ids)).values())}")

    try:
        a, a_stop = launch(replicas[0])
        b, b_stop = launch(replicas[1])
        await until_all("confirming")
        # A dies mid-way (cancelled wherever it is, perhaps inside a pass) while the clock
        # jumps past the start: B alone takes ready and running.
        clock[0] = start + HOUR
        await asyncio.sleep(0.005)
        a.cancel()
        await asyncio.gather(a, return_exceptions=True)
        await until_all("running")
        # A comes back; both finish the occurrences together.
        a, a_stop = launch(replicas[0])
        clock[0] = start + 3 * HOUR
        await until_all("finished")
    finally:
        for stop in (a_stop, b_stop):
            stop.set()
        await asyncio.gather(a, b, return_exceptions=True)
        for deps in replicas:
            await deps.engine.dispose()

    assert recorded["a"] and recorded["b"], f"both replicas must have worked: {recorded}"
    found = await steps(event_deps, ids)
    per_step = Counter((key, STATE_NAMES[m.to_state]) for key, m, _ in found)
    assert per_step == Counter({(key, state): 1 for key in ids for state in FORWARD})
    for key in ids:
        # In order, each once, and the 24 h reminder (due with confirming) once between them:
        # versions 2..6 with no gap and no repeat.
        mine = [(kind, version) for kind, version, _ in await published(event_deps, key)]
        assert mine == [("OccurrenceStateChanged", 2), ("OccurrenceReminderDue", 3),
                        *(("OccurrenceStateChanged", v) for v in (4, 5, 6))]
        assert [STATE_NAMES[m.to_state] for k, m, _ in found if k == key] == FORWARD
