"""Editing the catalog over real gRPC against real Postgres: UpdateEvent, ArchiveEvent,
ActivateEvent, DeleteEvent, UpdateSession, DeleteSession, and the automatic archiving of
past one-off events.

The servicer here runs on a clock the tests can move (CLOCK[0]), so an event can be created
"in the past" and found past by the service; every test starts with the clock at NOW.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import grpc
import pytest
import sqlalchemy as sa

from event_service.adapters.tables import events, occurrences, outbox, seats, sessions
from event_service.api.servicer import EventServicer
from event_service.application.catalog import extend_materialisation
from event_service.application.catalog_edits import archive_past_one_offs
from grpc_details import details
from kernel.grpc_server import create_server
from turnout.common.v1 import envelope_pb2
from turnout.event.v1 import (
    catalog_events_pb2,
    event_pb2,
    event_service_pb2 as pb,
    event_service_pb2_grpc,
    ledger_events_pb2,
    seat_pb2,
    session_pb2,
    venue_pb2,
)

pytestmark = pytest.mark.integration

NOW = datetime.now(UTC).replace(microsecond=0)
MOSCOW = ZoneInfo("Europe/Moscow")
TODAY = NOW.astimezone(MOSCOW).date()
DAY = timedelta(days=1)
CLOCK = [NOW]
ADMIN = (("x-turnout-roles", "admin"), ("x-turnout-actor", "alice"))
VOLUNTEER = (("x-turnout-roles", "volunteer"), ("x-turnout-actor", "vera"))


@pytest.fixture(scope="module")
async def stub(event_deps):
    servicer = EventServicer(event_deps.uow_factory, clock=lambda: CLOCK[0])
    server = create_server("127.0.0.1", 0,
                           [lambda s: event_service_pb2_grpc.add_EventServiceServicer_to_server(servicer, s)],
                           ["turnout.event.v1.EventService"])
    await server.start()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        yield event_service_pb2_grpc.EventServiceStub(channel)
    await server.stop(0)


@pytest.fixture(autouse=True)
def _clock_at_now():
    CLOCK[0] = NOW
    yield
    CLOCK[0] = NOW


# --- helpers ----------------------------------------------------------------------------


def rid() -> str:
    return str(uuid.uuid4())


def who() -> str:
    return f"participants/{uuid.uuid4()}"


async def make_event(stub, unique: str, *, capacity: int = 20, session_capacity: int = 10,
                     first_date: date = TODAY + 2 * DAY, recurrence: event_pb2.Recurrence | None = None,
                     services: tuple[str, ...] = ("laundry",), max_per: int = 0) -> event_pb2.Event:
    event = event_pb2.Event(
        title=f"Edits {unique}", capacity=capacity,
        kind=event_pb2.EVENT_KIND_RECURRING if recurrence is not None else event_pb2.EVENT_KIND_ONE_OFF,
        first_date=first_date.isoformat(), max_sessions_per_participant=max_per,
        sessions=[event_pb2.SessionTemplate(key=s, service=f"services/{s}", start_time="10:00",
                                            capacity=session_capacity, booking_window_days=30) for s in services])
    if recurrence is not None:
        event.recurrence.CopyFrom(recurrence)
    return await stub.CreateEvent(pb.CreateEventRequest(
        event=event, request_id=rid(), new_venue=venue_pb2.Venue(display_name=f"Venue {unique} {uuid.uuid4()}")))


async def sessions_of(stub, event: event_pb2.Event) -> list[session_pb2.Session]:
    return list((await stub.ListSessions(pb.ListSessionsRequest(event=event.name, page_size=1000))).sessions)


async def book(stub, session: str, participant: str | None = None, **kw) -> seat_pb2.Seat:
    return await stub.BookSeat(pb.BookSeatRequest(session=session, participant=participant or who(),
                                                  request_id=rid()), metadata=VOLUNTEER, **kw)


async def refusal(call) -> tuple[grpc.StatusCode, str, dict[str, str], str]:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await call
    return (refused.value.code(), *details(refused.value), refused.value.details())


def ident(name: str) -> str:
    return name.split("/", 1)[1]


async def catalog_messages(event_deps, key: str) -> list[tuple[str, envelope_pb2.Envelope]]:
    async with event_deps.engine.connect() as connection:
        rows = (await connection.execute(
            sa.select(outbox.c.event_type, outbox.c.envelope)
            .where(outbox.c.message_key == key, outbox.c.topic == "turnout.catalog.v1")
            .order_by(outbox.c.id))).all()
    return [(r.event_type, envelope_pb2.Envelope.FromString(r.envelope)) for r in rows]


def unpack(envelope: envelope_pb2.Envelope, kind):
    message = kind()
    assert envelope.payload.Unpack(message)
    return message


async def scalar(event_deps, query):
    async with event_deps.engine.connect() as connection:
        return await connection.scalar(query)


def update_session(name: str, *, capacity: int | None = None, start: datetime | None = None,
                   paths: list[str] | None = None, request_id: str = "") -> pb.UpdateSessionRequest:
    request = pb.UpdateSessionRequest(session=session_pb2.Session(name=name), request_id=request_id)
    mask = []
    if capacity is not None:
        request.session.capacity = capacity
        mask.append("capacity")
    if start is not None:
        request.session.start_time.FromDatetime(start)
        mask.append("start_time")
    request.update_mask.paths.extend(paths if paths is not None else mask)
    return request


def update_event(name: str, paths: list[str], request_id: str = "", **fields) -> pb.UpdateEventRequest:
    request = pb.UpdateEventRequest(event=event_pb2.Event(name=name, **fields), request_id=request_id)
    request.update_mask.paths.extend(paths)
    return request


# --- UpdateSession ----------------------------------------------------------------------


async def test_update_session_capacity_and_start_time(stub, event_deps, unique):
    event = await make_event(stub, unique)
    (session,) = await sessions_of(stub, event)
    duration = session.end_time.ToDatetime() - session.start_time.ToDatetime()
    new_start = session.start_time.ToDatetime(tzinfo=UTC) + timedelta(hours=3)

    updated = await stub.UpdateSession(update_session(session.name, capacity=4, start=new_start), metadata=ADMIN)

    assert updated.capacity == 4 and updated.available == 4
    assert updated.start_time.ToDatetime(tzinfo=UTC) == new_start
    assert updated.end_time.ToDatetime() - updated.start_time.ToDatetime() == duration
    assert await stub.GetSession(pb.GetSessionRequest(name=session.name)) == updated
    messages = await catalog_messages(event_deps, ident(session.name))
    assert [t for t, _ in messages] == ["turnout.event.v1.SessionScheduled", "turnout.event.v1.SessionUpdated"]
    envelope = messages[-1][1]
    assert envelope.aggregate_version == 2
    payload = unpack(envelope, catalog_events_pb2.SessionUpdated)
    assert payload.session.capacity == 4 and sorted(payload.changed_fields) == ["capacity", "start_time"]


async def test_update_session_refuses_capacity_below_registrations_and_writes_nothing(stub, event_deps, unique):
    event = await make_event(stub, unique)
    (session,) = await sessions_of(stub, event)
    for _ in range(3):
        await book(stub, session.name)

    code, reason, _, _ = await refusal(stub.UpdateSession(update_session(session.name, capacity=2), metadata=ADMIN))
    assert (code, reason) == (grpc.StatusCode.FAILED_PRECONDITION, "CAPACITY_BELOW_REGISTRATIONS")
    after = await stub.GetSession(pb.GetSessionRequest(name=session.name))
    assert after.capacity == 10 and after.confirmed == 3
    assert [t for t, _ in await catalog_messages(event_deps, ident(session.name))] == [
        "turnout.event.v1.SessionScheduled"]

    exact = await stub.UpdateSession(update_session(session.name, capacity=3), metadata=ADMIN)
    assert exact.capacity == 3 and exact.available == 0


async def test_update_session_validates(stub, unique):
    event = await make_event(stub, unique, capacity=12)
    (session,) = await sessions_of(stub, event)

    code, _, fields, _ = await refusal(stub.UpdateSession(update_session(session.name, capacity=13)))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "session.capacity" in fields
    code, _, fields, _ = await refusal(stub.UpdateSession(update_session(session.name, capacity=5,
                                                                         paths=["capacity", "service"])))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "update_mask" in fields
    code, _, fields, _ = await refusal(stub.UpdateSession(update_session(session.name, paths=[])))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "update_mask" in fields
    code, _, fields, _ = await refusal(stub.UpdateSession(update_session(session.name, start=NOW - DAY)))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "session.start_time" in fields
    code, _, fields, _ = await refusal(stub.UpdateSession(update_session("session/x", capacity=5)))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "session.name" in fields
    code, _, _, _ = await refusal(stub.UpdateSession(update_session(f"sessions/{uuid.uuid4()}", capacity=5)))
    assert code == grpc.StatusCode.NOT_FOUND
    assert (await stub.GetSession(pb.GetSessionRequest(name=session.name))).capacity == 10


async def test_update_session_is_idempotent(stub, event_deps, unique):
    event = await make_event(stub, unique)
    (session,) = await sessions_of(stub, event)
    key = rid()
    first = await stub.UpdateSession(update_session(session.name, capacity=7, request_id=key))
    again = await stub.UpdateSession(update_session(session.name, capacity=7, request_id=key))
    assert first == again
    version = await scalar(event_deps, sa.select(sessions.c.version).where(sessions.c.id == ident(session.name)))
    assert version == 2


async def test_lowering_capacity_while_booking_never_oversells(stub, event_stub, event_deps, unique):
    """Invariant 1 under concurrency: 30 bookings race one capacity cut from 20 to 8."""
    event = await make_event(stub, unique, capacity=100, session_capacity=20)
    (session,) = await sessions_of(stub, event)

    async def attempt():
        try:
            await event_stub.BookSeat(pb.BookSeatRequest(session=session.name, participant=who(), request_id=rid()),
                                      metadata=VOLUNTEER)
            return "booked"
        except grpc.aio.AioRpcError as error:
            return details(error)[0]

    async def cut():
        await asyncio.sleep(0.01)
        try:
            await event_stub.UpdateSession(update_session(session.name, capacity=8), metadata=ADMIN)
            return "cut"
        except grpc.aio.AioRpcError as error:
            return details(error)[0]

    outcomes = await asyncio.gather(*[attempt() for _ in range(30)], cut())
    after = await stub.GetSession(pb.GetSessionRequest(name=session.name))
    live = await scalar(event_deps, sa.select(sa.func.count()).where(
        seats.c.session_id == ident(session.name), seats.c.state.in_(("held", "confirmed"))))
    assert after.held + after.confirmed == live == outcomes.count("booked")
    assert live <= after.capacity
    if outcomes[-1] == "cut":
        assert after.capacity == 8
    else:
        assert outcomes[-1] == "CAPACITY_BELOW_REGISTRATIONS" and after.capacity == 20 and live > 8


# --- DeleteSession ----------------------------------------------------------------------


async def test_delete_session_refused_with_registrations_then_deleted_and_not_recreated(stub, event_deps, unique):
    event = await make_event(stub, unique, recurrence=event_pb2.Recurrence(
        frequency=event_pb2.FREQUENCY_DAILY, interval=1))
    first = (await sessions_of(stub, event))[0]
    seat = await book(stub, first.name)

    code, reason, _, _ = await refusal(stub.DeleteSession(pb.DeleteSessionRequest(name=first.name)))
    assert (code, reason) == (grpc.StatusCode.FAILED_PRECONDITION, "SESSION_HAS_REGISTRATIONS")
    assert (await stub.GetSession(pb.GetSessionRequest(name=first.name))).confirmed == 1

    await stub.ReleaseSeat(pb.ReleaseSeatRequest(name=seat.name, request_id=rid()), metadata=VOLUNTEER)
    await stub.DeleteSession(pb.DeleteSessionRequest(name=first.name, request_id=rid()))
    code, _, _, _ = await refusal(stub.GetSession(pb.GetSessionRequest(name=first.name)))
    assert code == grpc.StatusCode.NOT_FOUND
    types = [t for t, _ in await catalog_messages(event_deps, ident(first.name))]
    assert types[-1] == "turnout.event.v1.SessionDeleted"

    # The materialisation job, a day later and far ahead, never brings it back.
    await extend_materialisation(event_deps.uow_factory, NOW + 2 * DAY)
    remaining = {s.name for s in await sessions_of(stub, event)}
    assert first.name not in remaining and remaining

    code, _, _, _ = await refusal(stub.DeleteSession(pb.DeleteSessionRequest(name=first.name)))
    assert code == grpc.StatusCode.NOT_FOUND
    code, _, fields, _ = await refusal(stub.DeleteSession(pb.DeleteSessionRequest(name="nope")))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "name" in fields


# --- ArchiveEvent / ActivateEvent -------------------------------------------------------


async def test_archive_needs_confirmation_with_registrations_then_refuses_bookings(stub, event_deps, unique):
    event = await make_event(stub, unique)
    (session,) = await sessions_of(stub, event)
    await book(stub, session.name)
    await book(stub, session.name)

    code, reason, _, message = await refusal(stub.ArchiveEvent(pb.ArchiveEventRequest(name=event.name)))
    assert (code, reason) == (grpc.StatusCode.FAILED_PRECONDITION, "CONFIRMATION_REQUIRED")
    assert "2 live registrations" in message
    assert (await stub.GetEvent(pb.GetEventRequest(name=event.name))).status == event_pb2.EVENT_STATUS_ACTIVE

    archived = await stub.ArchiveEvent(pb.ArchiveEventRequest(name=event.name, confirm=True, request_id=rid()))
    assert archived.status == event_pb2.EVENT_STATUS_ARCHIVED
    code, reason, _, _ = await refusal(book(stub, session.name))
    assert (code, reason) == (grpc.StatusCode.FAILED_PRECONDITION, "EVENT_ARCHIVED")

    types = [(t, e) for t, e in await catalog_messages(event_deps, ident(event.name))]
    assert [t for t, _ in types] == ["turnout.event.v1.EventCreated", "turnout.event.v1.EventArchived"]
    payload = unpack(types[-1][1], catalog_events_pb2.EventArchived)
    assert types[-1][1].aggregate_version == 2 and not payload.automatic and payload.live_registrations == 2

    # Archiving again answers the archived event and publishes nothing.
    assert (await stub.ArchiveEvent(pb.ArchiveEventRequest(name=event.name))).status == archived.status
    assert len(await catalog_messages(event_deps, ident(event.name))) == 2


async def test_archive_and_activate_a_recurring_event(stub, event_deps, unique):
    event = await make_event(stub, unique, recurrence=event_pb2.Recurrence(
        frequency=event_pb2.FREQUENCY_WEEKLY, interval=1))
    await stub.ArchiveEvent(pb.ArchiveEventRequest(name=event.name))
    activated = await stub.ActivateEvent(pb.ActivateEventRequest(name=event.name, request_id=rid()))
    assert activated.status == event_pb2.EVENT_STATUS_ACTIVE
    (session, *_) = await sessions_of(stub, event)
    assert (await book(stub, session.name)).state == seat_pb2.SEAT_STATE_CONFIRMED
    messages = await catalog_messages(event_deps, ident(event.name))
    assert [t for t, _ in messages][-1] == "turnout.event.v1.EventActivated"
    assert messages[-1][1].aggregate_version == 3


async def test_activate_a_past_one_off_needs_a_new_future_date(stub, event_deps, unique):
    CLOCK[0] = NOW - 10 * DAY
    event = await make_event(stub, unique, first_date=TODAY - 8 * DAY)
    (old,) = await sessions_of(stub, event)
    await stub.ArchiveEvent(pb.ArchiveEventRequest(name=event.name))
    CLOCK[0] = NOW

    code, _, fields, _ = await refusal(stub.ActivateEvent(pb.ActivateEventRequest(name=event.name)))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "first_date" in fields
    code, _, fields, _ = await refusal(stub.ActivateEvent(pb.ActivateEventRequest(
        name=event.name, first_date=(TODAY - DAY).isoformat())))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "first_date" in fields
    assert (await stub.GetEvent(pb.GetEventRequest(name=event.name))).status == event_pb2.EVENT_STATUS_ARCHIVED

    new_date = TODAY + 5 * DAY
    activated = await stub.ActivateEvent(pb.ActivateEventRequest(name=event.name, first_date=new_date.isoformat()))
    assert activated.status == event_pb2.EVENT_STATUS_ACTIVE and activated.first_date == new_date.isoformat()
    (moved,) = await sessions_of(stub, event)
    assert moved.name != old.name
    assert moved.start_time.ToDatetime(tzinfo=UTC).astimezone(MOSCOW).date() == new_date
    assert (await book(stub, moved.name)).state == seat_pb2.SEAT_STATE_CONFIRMED


async def test_activate_refuses_to_move_an_occurrence_with_live_seats(stub, unique):
    CLOCK[0] = NOW - 10 * DAY
    event = await make_event(stub, unique, first_date=TODAY - 8 * DAY)
    (old,) = await sessions_of(stub, event)
    await book(stub, old.name)
    await stub.ArchiveEvent(pb.ArchiveEventRequest(name=event.name, confirm=True))
    CLOCK[0] = NOW
    code, reason, _, _ = await refusal(stub.ActivateEvent(pb.ActivateEventRequest(
        name=event.name, first_date=(TODAY + 3 * DAY).isoformat())))
    assert (code, reason) == (grpc.StatusCode.FAILED_PRECONDITION, "OCCURRENCE_HAS_REGISTRATIONS")
    assert (await stub.GetEvent(pb.GetEventRequest(name=event.name))).status == event_pb2.EVENT_STATUS_ARCHIVED


async def test_archive_and_activate_validate_names(stub):
    for call in (stub.ArchiveEvent(pb.ArchiveEventRequest(name="events")),
                 stub.ActivateEvent(pb.ActivateEventRequest(name="")),
                 stub.DeleteEvent(pb.DeleteEventRequest(name="venues/x"))):
        code, _, fields, _ = await refusal(call)
        assert code == grpc.StatusCode.INVALID_ARGUMENT and "name" in fields
    for call in (stub.ArchiveEvent(pb.ArchiveEventRequest(name=f"events/{uuid.uuid4()}")),
                 stub.ActivateEvent(pb.ActivateEventRequest(name=f"events/{uuid.uuid4()}")),
                 stub.DeleteEvent(pb.DeleteEventRequest(name=f"events/{uuid.uuid4()}"))):
        assert (await refusal(call))[0] == grpc.StatusCode.NOT_FOUND


# --- auto-archive -----------------------------------------------------------------------


async def test_past_one_off_events_are_archived_automatically_once(stub, event_deps, unique):
    CLOCK[0] = NOW - 10 * DAY
    past = await make_event(stub, unique, first_date=TODAY - 8 * DAY)
    CLOCK[0] = NOW
    future = await make_event(stub, unique + "f")

    # Two replicas at once: each event is archived by exactly one of them.
    counts = await asyncio.gather(archive_past_one_offs(event_deps.uow_factory, NOW),
                                  archive_past_one_offs(event_deps.uow_factory, NOW))
    assert (await stub.GetEvent(pb.GetEventRequest(name=past.name))).status == event_pb2.EVENT_STATUS_ARCHIVED
    assert (await stub.GetEvent(pb.GetEventRequest(name=future.name))).status == event_pb2.EVENT_STATUS_ACTIVE
    assert sum(counts) >= 1
    assert await archive_past_one_offs(event_deps.uow_factory, NOW) == 0

    archived = [e for t, e in await catalog_messages(event_deps, ident(past.name))
                if t == "turnout.event.v1.EventArchived"]
    assert len(archived) == 1
    assert unpack(archived[0], catalog_events_pb2.EventArchived).automatic
    assert archived[0].actor == "system"


# --- DeleteEvent ------------------------------------------------------------------------


async def test_delete_event_refused_with_registrations_and_force_needs_admin(stub, event_deps, unique):
    event = await make_event(stub, unique)
    (session,) = await sessions_of(stub, event)
    await book(stub, session.name)

    code, reason, _, _ = await refusal(stub.DeleteEvent(pb.DeleteEventRequest(name=event.name), metadata=ADMIN))
    assert (code, reason) == (grpc.StatusCode.FAILED_PRECONDITION, "EVENT_HAS_REGISTRATIONS")
    code, _, _, _ = await refusal(stub.DeleteEvent(pb.DeleteEventRequest(name=event.name, force=True),
                                                   metadata=VOLUNTEER))
    assert code == grpc.StatusCode.PERMISSION_DENIED
    after = await stub.GetSession(pb.GetSessionRequest(name=session.name))
    assert after.confirmed == 1


async def test_force_delete_releases_every_seat_with_reason_event_deleted(stub, event_deps, unique):
    event = await make_event(stub, unique, services=("laundry", "shower"))
    first, second = await sessions_of(stub, event)
    taken = [await book(stub, first.name), await book(stub, first.name), await book(stub, second.name)]

    key = rid()
    await stub.DeleteEvent(pb.DeleteEventRequest(name=event.name, force=True, request_id=key), metadata=ADMIN)
    await stub.DeleteEvent(pb.DeleteEventRequest(name=event.name, force=True, request_id=key), metadata=ADMIN)

    assert (await refusal(stub.GetEvent(pb.GetEventRequest(name=event.name))))[0] == grpc.StatusCode.NOT_FOUND
    assert await scalar(event_deps, sa.select(sa.func.count()).where(occurrences.c.event_id == ident(event.name))) == 0
    released = []
    async with event_deps.engine.connect() as connection:
        rows = (await connection.execute(sa.select(outbox.c.envelope).where(
            outbox.c.event_type == "turnout.event.v1.SeatReleased",
            outbox.c.message_key.in_([ident(first.name), ident(second.name)])))).scalars()
        for raw in rows:
            released.append(unpack(envelope_pb2.Envelope.FromString(raw), ledger_events_pb2.SeatReleased))
    assert sorted(r.seat.name for r in released) == sorted(s.name for s in taken)
    assert {r.reason for r in released} == {ledger_events_pb2.RELEASE_REASON_EVENT_DELETED}
    messages = await catalog_messages(event_deps, ident(event.name))
    deleted = [e for t, e in messages if t == "turnout.event.v1.EventDeleted"]
    assert len(deleted) == 1
    assert unpack(deleted[0], catalog_events_pb2.EventDeleted).released_seats == 3


async def test_delete_event_without_registrations(stub, event_deps, unique):
    event = await make_event(stub, unique)
    await stub.DeleteEvent(pb.DeleteEventRequest(name=event.name))
    assert await scalar(event_deps, sa.select(sa.func.count()).where(events.c.id == ident(event.name))) == 0
    assert await scalar(event_deps, sa.select(sa.func.count()).where(sessions.c.event_id == ident(event.name))) == 0


# --- UpdateEvent ------------------------------------------------------------------------


async def test_update_event_fields(stub, event_deps, unique):
    event = await make_event(stub, unique, capacity=20, services=("laundry", "shower"))
    updated = await stub.UpdateEvent(update_event(
        event.name, ["title", "capacity", "max_sessions_per_participant"], title=f"Renamed {unique}", capacity=15,
        max_sessions_per_participant=1))
    assert updated.title == f"Renamed {unique}" and updated.capacity == 15
    assert updated.max_sessions_per_participant == 1
    assert await scalar(event_deps, sa.select(sa.func.max(occurrences.c.capacity)).where(
        occurrences.c.event_id == ident(event.name))) == 15
    messages = await catalog_messages(event_deps, ident(event.name))
    assert messages[-1][0] == "turnout.event.v1.EventUpdated" and messages[-1][1].aggregate_version == 2
    assert unpack(messages[-1][1], catalog_events_pb2.EventUpdated).event.capacity == 15

    code, _, fields, _ = await refusal(stub.UpdateEvent(update_event(event.name, ["kind"])))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "update_mask" in fields
    code, _, fields, _ = await refusal(stub.UpdateEvent(update_event(event.name, ["title"], title=" ")))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "event.title" in fields
    code, _, fields, _ = await refusal(stub.UpdateEvent(update_event(event.name, ["capacity"], capacity=9)))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "event.capacity" in fields  # sessions offer 10
    code, _, _, _ = await refusal(stub.UpdateEvent(update_event(f"events/{uuid.uuid4()}", ["title"], title="x")))
    assert code == grpc.StatusCode.NOT_FOUND


async def test_update_event_capacity_never_below_participants(stub, event_deps, unique):
    event = await make_event(stub, unique, capacity=20, session_capacity=2, services=("laundry", "shower"))
    first, second = await sessions_of(stub, event)
    for session in (first, first, second):
        await book(stub, session.name)  # three distinct participants

    code, reason, _, _ = await refusal(stub.UpdateEvent(update_event(event.name, ["capacity"], capacity=2)))
    assert (code, reason) == (grpc.StatusCode.FAILED_PRECONDITION, "CAPACITY_BELOW_REGISTRATIONS")
    assert (await stub.GetEvent(pb.GetEventRequest(name=event.name))).capacity == 20
    assert (await stub.UpdateEvent(update_event(event.name, ["capacity"], capacity=3))).capacity == 3
    code, reason, _, _ = await refusal(book(stub, second.name))
    assert reason == "EVENT_FULL"


async def test_update_event_rule_rematerialises_and_refuses_dropping_booked_dates(stub, event_deps, unique):
    event = await make_event(stub, unique, recurrence=event_pb2.Recurrence(
        frequency=event_pb2.FREQUENCY_DAILY, interval=1), first_date=TODAY + DAY)
    daily = await sessions_of(stub, event)
    assert len(daily) > 20
    second_day = daily[1]
    seat = await book(stub, second_day.name)

    every_other = event_pb2.Recurrence(frequency=event_pb2.FREQUENCY_DAILY, interval=2)
    code, reason, _, message = await refusal(stub.UpdateEvent(update_event(
        event.name, ["recurrence"], recurrence=every_other)))
    assert (code, reason) == (grpc.StatusCode.FAILED_PRECONDITION, "OCCURRENCE_HAS_REGISTRATIONS")
    assert (TODAY + 2 * DAY).isoformat() in message
    assert len(await sessions_of(stub, event)) == len(daily)

    await stub.ReleaseSeat(pb.ReleaseSeatRequest(name=seat.name, request_id=rid()), metadata=VOLUNTEER)
    updated = await stub.UpdateEvent(update_event(event.name, ["recurrence"], recurrence=every_other))
    assert updated.recurrence.interval == 2 and updated.schedule_text == "every 2 days"
    dates = [s.start_time.ToDatetime(tzinfo=UTC).astimezone(MOSCOW).date() for s in await sessions_of(stub, event)]
    assert dates and all((d - (TODAY + DAY)).days % 2 == 0 for d in dates)
    assert dates[0] == TODAY + DAY and dates[1] == TODAY + 3 * DAY

    code, _, fields, _ = await refusal(stub.UpdateEvent(update_event(
        event.name, ["recurrence"], recurrence=event_pb2.Recurrence(frequency=event_pb2.FREQUENCY_DAILY))))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "event.recurrence.interval" in fields


async def test_update_event_retried_with_its_request_id_changes_nothing_more(stub, event_deps, unique):
    event = await make_event(stub, unique)
    key = rid()
    first = await stub.UpdateEvent(update_event(event.name, ["title"], request_id=key, title=f"Once {unique}"))
    again = await stub.UpdateEvent(update_event(event.name, ["title"], request_id=key, title=f"Once {unique}"))
    assert first == again
    assert await scalar(event_deps, sa.select(events.c.version).where(events.c.id == ident(event.name))) == 2
    code, reason, _, _ = await refusal(stub.UpdateEvent(update_event(event.name, ["title"], request_id=key,
                                                                     title="Different")))
    assert (code, reason) == (grpc.StatusCode.INVALID_ARGUMENT, "REQUEST_ID_REUSED")


async def test_deleting_a_session_while_it_is_booked_never_loses_a_booking(stub, event_stub, unique):
    """Invariant 6 under concurrency: either the delete is refused, or no booking succeeded."""
    event = await make_event(stub, unique, capacity=100, session_capacity=50)
    (session,) = await sessions_of(stub, event)

    async def attempt():
        try:
            await event_stub.BookSeat(pb.BookSeatRequest(session=session.name, participant=who(), request_id=rid()),
                                      metadata=VOLUNTEER)
            return "booked"
        except grpc.aio.AioRpcError as error:
            return error.code().name

    async def delete():
        await asyncio.sleep(0.005)
        try:
            await event_stub.DeleteSession(pb.DeleteSessionRequest(name=session.name))
            return "deleted"
        except grpc.aio.AioRpcError as error:
            return details(error)[0]

    *bookings, deleted = await asyncio.gather(*[attempt() for _ in range(10)], delete())
    if deleted == "deleted":
        assert "booked" not in bookings
        assert (await refusal(stub.GetSession(pb.GetSessionRequest(name=session.name))))[0] == grpc.StatusCode.NOT_FOUND
    else:
        assert deleted == "SESSION_HAS_REGISTRATIONS"
        after = await stub.GetSession(pb.GetSessionRequest(name=session.name))
        assert after.confirmed == bookings.count("booked") > 0
