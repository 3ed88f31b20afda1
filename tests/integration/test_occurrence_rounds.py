"""Occurrence rounds (speed dating) on real Postgres, over gRPC and REST: the schedule made
from the participants holding a confirmed seat (booked through the seat ledger), once per
occurrence however many callers race for it, the same on every call and the same as the
domain computes; the refusals (no format, wrong state, wrong role); and who sees what (staff
everything, a participant only their own group, a stranger nothing).
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import grpc
import pytest
import sqlalchemy as sa
from grpc_details import details, error_info
from ledger_fixtures import SessionSpec, create_occurrence

from event_service.adapters.tables import events, occurrence_rounds, occurrences, outbox
from event_service.domain.rounds import RoundsFormat, schedule, seed_for
from kernel.auth import issue_token
from turnout.common.v1 import envelope_pb2
from turnout.event.v1 import catalog_events_pb2, session_pb2
from turnout.event.v1 import event_service_pb2 as pb

pytestmark = pytest.mark.integration

NOW = datetime.now(UTC).replace(microsecond=0)
HOUR = timedelta(hours=1)
ADMIN = (("x-turnout-roles", "admin"), ("x-turnout-actor", "alice"))
VOLUNTEER = (("x-turnout-roles", "volunteer"), ("x-turnout-actor", "vera"))
ANALYST = (("x-turnout-roles", "analyst"), ("x-turnout-actor", "ann"))
FORMAT = {"round_minutes": 7, "break_minutes": 3, "group_size": 4}


def rid() -> str:
    return str(uuid.uuid4())


def as_participant(participant_id: str) -> tuple[tuple[str, str], ...]:
    return (("x-turnout-roles", "participant"), ("x-turnout-actor", participant_id),
            ("x-turnout-participant-id", participant_id))


async def refusal(call) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await call
    return refused.value


async def an_occurrence(event_deps, *, rounds: dict | None = FORMAT):
    """An occurrence with two sessions (the first starts in three days), its event running in
    `rounds` (None: not in rounds)."""
    occ = await create_occurrence(event_deps.engine, [SessionSpec("a", 20), SessionSpec("b", 20,
                                                                                      starts_in=timedelta(days=3) + HOUR)],
                                  now=NOW)
    if rounds is not None:
        async with event_deps.engine.begin() as connection:
            await connection.execute(events.update().where(events.c.id == occ.event_id).values(rounds=rounds))
    return occ


async def move_to(event_stub, occ, *targets: int) -> None:
    for target in targets:
        await event_stub.TransitionOccurrence(pb.TransitionOccurrenceRequest(
            name=f"occurrences/{occ.occurrence_id}", target_state=target, request_id=rid()), metadata=ADMIN)


READY = (session_pb2.OCCURRENCE_STATE_CONFIRMING, session_pb2.OCCURRENCE_STATE_READY)


async def book(event_stub, session: str, participant_id: str):
    return await event_stub.BookSeat(pb.BookSeatRequest(session=session, participant=f"participants/{participant_id}",
                                                        request_id=rid()), metadata=VOLUNTEER)


async def with_confirmed(event_stub, occ, count: int) -> list[str]:
    """`count` participants with a confirmed seat (the first in both sessions), plus one who
    only holds a seat and one whose seat was released: only the confirmed count."""
    people = [str(uuid.uuid4()) for _ in range(count)]
    for person in people:
        await book(event_stub, occ.session("a"), person)
    await book(event_stub, occ.session("b"), people[0])
    await event_stub.HoldSeat(pb.HoldSeatRequest(session=occ.session("b"), participant=f"participants/{uuid.uuid4()}",
                                                 request_id=rid()), metadata=VOLUNTEER)
    gone = await book(event_stub, occ.session("b"), str(uuid.uuid4()))
    await event_stub.ReleaseSeat(pb.ReleaseSeatRequest(name=gone.name, request_id=rid()), metadata=VOLUNTEER)
    return people


async def scheduled_events(event_deps, occurrence_id: str) -> list[tuple[int, catalog_events_pb2.OccurrenceRoundsScheduled]]:
    async with event_deps.engine.connect() as connection:
        rows = (await connection.execute(
            sa.select(outbox.c.envelope).where(
                outbox.c.message_key == occurrence_id,
                outbox.c.event_type == "turnout.event.v1.OccurrenceRoundsScheduled").order_by(outbox.c.id))).scalars()
        found = []
        for raw in rows:
            envelope = envelope_pb2.Envelope.FromString(raw)
            assert envelope.aggregate_type == "occurrence" and envelope.aggregate_id == occurrence_id
            message = catalog_events_pb2.OccurrenceRoundsScheduled()
            assert envelope.payload.Unpack(message)
            found.append((envelope.aggregate_version, message))
    return found


def names(ids) -> set[str]:
    return {f"participants/{i}" for i in ids}


async def test_the_schedule_is_made_from_the_confirmed_seats_once_and_deterministically(event_stub, event_deps):
    occ = await an_occurrence(event_deps)
    people = await with_confirmed(event_stub, occ, 7)
    await move_to(event_stub, occ, *READY)
    name = f"occurrences/{occ.occurrence_id}"

    made = await event_stub.ScheduleOccurrenceRounds(pb.ScheduleOccurrenceRoundsRequest(occurrence=name))
    assert made.name == f"{name}/rounds" and made.occurrence == name and made.event == f"events/{occ.event_id}"
    assert (made.format.round_minutes, made.format.break_minutes, made.format.group_size) == (7, 3, 4)
    assert made.seed == seed_for(occ.occurrence_id)
    start = occ.starts_at["a"]
    assert made.start_time.ToDatetime(tzinfo=UTC) == start
    assert {p for g in made.groups for p in g.participants} == names(people)
    assert sorted(len(g.participants) for g in made.groups) == [3, 4]
    # The same as the domain computes from the same participants, format, start and seed.
    expected = schedule(people, RoundsFormat(**FORMAT), start, seed_for(occ.occurrence_id))
    assert [list(g.participants) for g in made.groups] == [[f"participants/{p}" for p in g.participants]
                                                           for g in expected.groups]
    assert made.end_time.ToDatetime(tzinfo=UTC) == expected.ends_at
    for group, want in zip(made.groups, expected.groups, strict=True):
        assert [(r.index, r.start_time.ToDatetime(tzinfo=UTC), [(p.first, p.second) for p in r.pairs],
                 r.resting) for r in group.rounds] == [
            (r.index, r.starts_at, [(f"participants/{a}", f"participants/{b}") for a, b in r.pairs],
             f"participants/{r.resting}" if r.resting else "") for r in want.rounds]

    # Once: a later call (even after a new confirmed seat) answers the schedule made first.
    await book(event_stub, occ.session("b"), str(uuid.uuid4()))
    again = await event_stub.ScheduleOccurrenceRounds(pb.ScheduleOccurrenceRoundsRequest(occurrence=name),
                                                      metadata=ADMIN)
    assert again == made
    assert await event_stub.GetOccurrenceRounds(pb.GetOccurrenceRoundsRequest(name=f"{name}/rounds")) == made

    [(version, published)] = await scheduled_events(event_deps, occ.occurrence_id)
    assert published.rounds == made
    async with event_deps.engine.connect() as connection:
        assert await connection.scalar(sa.select(occurrences.c.version)
                                       .where(occurrences.c.id == occ.occurrence_id)) == version == 4


async def test_refusals_name_the_reason_the_state_and_the_field(event_stub, event_deps):
    plain = await an_occurrence(event_deps, rounds=None)
    await move_to(event_stub, plain, *READY)
    error = await refusal(event_stub.ScheduleOccurrenceRounds(pb.ScheduleOccurrenceRoundsRequest(
        occurrence=f"occurrences/{plain.occurrence_id}"), metadata=ADMIN))
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    info = error_info(error)
    assert info.reason == "ROUNDS_NOT_SCHEDULABLE" and dict(info.metadata)["state"] == "ready"
    assert "does not run in rounds" in error.details()

    early = await an_occurrence(event_deps)
    name = f"occurrences/{early.occurrence_id}"
    too_early = await refusal(event_stub.ScheduleOccurrenceRounds(pb.ScheduleOccurrenceRoundsRequest(occurrence=name)))
    assert error_info(too_early).reason == "ROUNDS_NOT_SCHEDULABLE"
    assert dict(error_info(too_early).metadata)["state"] == "scheduled"
    await move_to(event_stub, early, session_pb2.OCCURRENCE_STATE_CANCELLED)
    cancelled = await refusal(event_stub.ScheduleOccurrenceRounds(pb.ScheduleOccurrenceRoundsRequest(occurrence=name)))
    assert dict(error_info(cancelled).metadata)["state"] == "cancelled"

    volunteer = await refusal(event_stub.ScheduleOccurrenceRounds(pb.ScheduleOccurrenceRoundsRequest(occurrence=name),
                                                                  metadata=VOLUNTEER))
    assert volunteer.code() == grpc.StatusCode.PERMISSION_DENIED
    bad = await refusal(event_stub.ScheduleOccurrenceRounds(pb.ScheduleOccurrenceRoundsRequest(occurrence="events/x")))
    assert bad.code() == grpc.StatusCode.INVALID_ARGUMENT and "occurrence" in details(bad)[1]
    missing = await refusal(event_stub.ScheduleOccurrenceRounds(pb.ScheduleOccurrenceRoundsRequest(
        occurrence=f"occurrences/{uuid.uuid4()}")))
    assert missing.code() == grpc.StatusCode.NOT_FOUND
    not_made = await refusal(event_stub.GetOccurrenceRounds(pb.GetOccurrenceRoundsRequest(name=f"{name}/rounds")))
    assert not_made.code() == grpc.StatusCode.NOT_FOUND
    bad_name = await refusal(event_stub.GetOccurrenceRounds(pb.GetOccurrenceRoundsRequest(name=name)))
    assert bad_name.code() == grpc.StatusCode.INVALID_ARGUMENT and "name" in details(bad_name)[1]
    assert await scheduled_events(event_deps, plain.occurrence_id) == []
    assert await scheduled_events(event_deps, early.occurrence_id) == []


async def test_many_concurrent_callers_get_one_schedule_and_one_event(event_stub, event_deps):
    occ = await an_occurrence(event_deps)
    await with_confirmed(event_stub, occ, 9)
    await move_to(event_stub, occ, *READY, session_pb2.OCCURRENCE_STATE_RUNNING)
    request = pb.ScheduleOccurrenceRoundsRequest(occurrence=f"occurrences/{occ.occurrence_id}")
    answers = await asyncio.gather(*(event_stub.ScheduleOccurrenceRounds(request, metadata=ADMIN if i % 2 else ())
                                     for i in range(24)))
    assert all(answer == answers[0] for answer in answers)
    assert len(await scheduled_events(event_deps, occ.occurrence_id)) == 1
    async with event_deps.engine.connect() as connection:
        assert await connection.scalar(sa.select(sa.func.count()).select_from(occurrence_rounds).where(
            occurrence_rounds.c.occurrence_id == occ.occurrence_id)) == 1


async def test_a_participant_sees_only_their_own_group_and_a_stranger_nothing(event_stub, event_deps):
    occ = await an_occurrence(event_deps)
    people = await with_confirmed(event_stub, occ, 8)
    await move_to(event_stub, occ, *READY)
    name = f"occurrences/{occ.occurrence_id}"
    whole = await event_stub.ScheduleOccurrenceRounds(pb.ScheduleOccurrenceRoundsRequest(occurrence=name))
    assert len(whole.groups) == 2

    for person in people:
        seen = await event_stub.GetOccurrenceRounds(pb.GetOccurrenceRoundsRequest(name=f"{name}/rounds"),
                                                    metadata=as_participant(person))
        [group] = seen.groups
        assert f"participants/{person}" in group.participants
        assert group in whole.groups
        assert (seen.seed, seen.start_time, seen.end_time) == (whole.seed, whole.start_time, whole.end_time)
    stranger = await refusal(event_stub.GetOccurrenceRounds(pb.GetOccurrenceRoundsRequest(name=f"{name}/rounds"),
                                                            metadata=as_participant(str(uuid.uuid4()))))
    assert stranger.code() == grpc.StatusCode.NOT_FOUND
    for staff in (ANALYST, VOLUNTEER, (("x-turnout-roles", "service"),)):
        assert await event_stub.GetOccurrenceRounds(pb.GetOccurrenceRoundsRequest(name=f"{name}/rounds"),
                                                    metadata=staff) == whole


# --- REST ----------------------------------------------------------------------------------


def bearer(settings, sub: str, *roles: str, participant_id: str | None = None) -> dict[str, str]:
    token = issue_token(settings.auth_secret, sub=sub, roles=list(roles), participant_id=participant_id)
    return {"Authorization": f"Bearer {token}"}


async def test_rest_makes_and_reads_the_rounds(rest, settings, event_stub, event_deps):
    occ = await an_occurrence(event_deps)
    people = await with_confirmed(event_stub, occ, 5)
    path = f"/v1/occurrences/{occ.occurrence_id}/rounds"
    assert (await rest.get(path)).status_code == 404
    early = await rest.post(path)
    assert early.status_code == 409, early.text
    assert early.json()["code"] == "rounds_not_schedulable" and early.json()["state"] == "scheduled"

    await move_to(event_stub, occ, *READY)
    volunteer = bearer(settings, "vera", "volunteer")
    assert (await rest.post(path, headers=volunteer)).status_code == 403
    made = await rest.post(path)
    assert made.status_code == 200, made.text
    body = made.json()
    assert body["occurrence_id"] == occ.occurrence_id and body["event_id"] == occ.event_id
    assert body["format"] == FORMAT and body["seed"] == str(seed_for(occ.occurrence_id))
    assert datetime.fromisoformat(body["starts_at"]) == occ.starts_at["a"]
    assert {p for g in body["groups"] for p in g["participants"]} == names(people)
    first_round = body["groups"][0]["rounds"][0]
    assert set(first_round) == {"index", "starts_at", "ends_at", "pairs", "resting"}
    assert all(set(pair) == {"first", "second"} for pair in first_round["pairs"])
    assert (await rest.post(path)).json() == body
    assert (await rest.get(path, headers=volunteer)).json() == body

    mine = people[0]
    own = await rest.get(path, headers=bearer(settings, mine, "participant", participant_id=mine))
    assert own.status_code == 200 and [f"participants/{mine}" in g["participants"] for g in own.json()["groups"]] == [
        True]
    outsider = str(uuid.uuid4())
    hidden = await rest.get(path, headers=bearer(settings, outsider, "participant", participant_id=outsider))
    assert hidden.status_code == 404 and hidden.json()["code"] == "not_found"

    no_format = await an_occurrence(event_deps, rounds=None)
    await move_to(event_stub, no_format, *READY)
    refused = await rest.post(f"/v1/occurrences/{no_format.occurrence_id}/rounds")
    assert refused.status_code == 409 and refused.json()["state"] == "ready"
    occurrence = (await rest.get(f"/v1/occurrences/{occ.occurrence_id}")).json()
    assert occurrence["session_ids"] == [occ.sessions["a"], occ.sessions["b"]]
