"""EventService catalog (services, events, sessions) over real gRPC against real Postgres.

The servicer here runs on a fixed clock (NOW, taken once) so that horizons and "today" are
computed from the same instant the service used; a test that spans midnight cannot flake.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import grpc
import pytest
import sqlalchemy as sa
from google.protobuf import timestamp_pb2

from event_service.adapters.service_catalog import load_service_catalog, read_service_catalog
from event_service.adapters.tables import (
    events,
    occurrences,
    outbox,
    pool_sessions,
    pool_templates,
    pools,
    seats,
    session_templates,
    sessions,
    venues,
)
from event_service.api.servicer import EventServicer
from event_service.application.catalog import MAX_LOOKAHEAD_DAYS, extend_materialisation, keep_materialised
from event_service.domain import events as domain
from event_service.domain.recurrence import Frequency, Recurrence, dates_between
from grpc_details import details
from kernel.grpc_server import create_server
from turnout.common.v1 import envelope_pb2
from turnout.event.v1 import catalog_events_pb2, event_pb2, event_service_pb2, event_service_pb2_grpc, venue_pb2

pytestmark = pytest.mark.integration

NOW = datetime.now(UTC).replace(microsecond=0)
MOSCOW = ZoneInfo("Europe/Moscow")
TODAY = NOW.astimezone(MOSCOW).date()
DAY = timedelta(days=1)

ONE_OFF = event_pb2.EVENT_KIND_ONE_OFF
RECURRING = event_pb2.EVENT_KIND_RECURRING


@pytest.fixture(scope="module")
async def catalog(event_deps):
    return await load_service_catalog(event_deps.engine)


@pytest.fixture(scope="module")
async def stub(event_deps, catalog):
    servicer = EventServicer(event_deps.uow_factory, clock=lambda: NOW)
    server = create_server("127.0.0.1", 0,
                           [lambda s: event_service_pb2_grpc.add_EventServiceServicer_to_server(servicer, s)],
                           ["turnout.event.v1.EventService"])
    await server.start()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        yield event_service_pb2_grpc.EventServiceStub(channel)
    await server.stop(0)


# --- helpers ----------------------------------------------------------------------------


def template(service: str, start: str = "10:00", **fields) -> event_pb2.SessionTemplate:
    return event_pb2.SessionTemplate(service=f"services/{service}", start_time=start, **fields)


def weekly(**fields) -> event_pb2.Recurrence:
    return event_pb2.Recurrence(frequency=event_pb2.FREQUENCY_WEEKLY, interval=fields.pop("interval", 1), **fields)


def create_request(venue: str = "", *, title: str, capacity: int = 20, kind: int = ONE_OFF,
                   first_date: date | str = TODAY + 2 * DAY, recurrence: event_pb2.Recurrence | None = None,
                   sessions_: list[event_pb2.SessionTemplate] | None = None,
                   pools_: list[event_pb2.PoolTemplate] = (), max_per: int = 0, time_zone: str = "",
                   new_venue: venue_pb2.Venue | None = None,
                   request_id: str = "") -> event_service_pb2.CreateEventRequest:
    event = event_pb2.Event(
        title=title, venue=venue, capacity=capacity, kind=kind,
        first_date=first_date if isinstance(first_date, str) else first_date.isoformat(),
        sessions=sessions_ if sessions_ is not None else [template("laundry")], pools=list(pools_),
        max_sessions_per_participant=max_per, time_zone=time_zone)
    if recurrence is not None:
        event.recurrence.CopyFrom(recurrence)
    return event_service_pb2.CreateEventRequest(event=event, request_id=request_id or str(uuid.uuid4()),
                                                new_venue=new_venue)


async def make_venue(stub, name: str) -> venue_pb2.Venue:
    return await stub.CreateVenue(event_service_pb2.CreateVenueRequest(
        venue=venue_pb2.Venue(display_name=name), request_id=str(uuid.uuid4())))


def ident(name: str) -> str:
    return name.split("/", 1)[1]


async def row_counts(event_deps) -> dict[str, int]:
    async with event_deps.engine.connect() as connection:
        return {table.name: await connection.scalar(sa.select(sa.func.count()).select_from(table))
                for table in (events, venues, outbox, sessions, occurrences, session_templates)}


async def outbox_for(event_deps, keys: list[str]) -> list[tuple[str, str, envelope_pb2.Envelope]]:
    async with event_deps.engine.connect() as connection:
        rows = (await connection.execute(
            sa.select(outbox.c.event_type, outbox.c.message_key, outbox.c.envelope, outbox.c.topic)
            .where(outbox.c.message_key.in_(keys)).order_by(outbox.c.id))).all()
    for row in rows:
        assert row.topic == "turnout.catalog.v1"
    return [(row.event_type, row.message_key, envelope_pb2.Envelope.FromString(row.envelope)) for row in rows]


async def all_sessions(stub, **filters) -> list:
    found, token = [], ""
    while True:
        page = await stub.ListSessions(event_service_pb2.ListSessionsRequest(page_size=2, page_token=token,
                                                                              **filters))
        found += page.sessions
        token = page.next_page_token
        if not token:
            assert len({s.name for s in found}) == len(found), "keyset pages must not repeat"
            return found


async def all_events(stub, **filters) -> tuple[list[str], event_service_pb2.ListEventsResponse]:
    names, token, first = [], "", None
    while True:
        page = await stub.ListEvents(event_service_pb2.ListEventsRequest(page_size=1, page_token=token, **filters))
        first = first or page
        names += [e.name for e in page.events]
        token = page.next_page_token
        if not token:
            assert len(names) == len(set(names)), "keyset pages must not repeat"
            return names, first


def newest_first(*created: event_pb2.Event) -> list[str]:
    """ListEvents' order: create time descending, then name (id) descending."""
    ordered = sorted(created, key=lambda e: (e.create_time.ToDatetime(), e.name), reverse=True)
    return [e.name for e in ordered]


def timestamp(moment: datetime) -> timestamp_pb2.Timestamp:
    ts = timestamp_pb2.Timestamp()
    ts.FromDatetime(moment)
    return ts


async def refused(call, request) -> tuple[grpc.StatusCode, str, dict[str, str]]:
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await call(request)
    return (error.value.code(), *details(error.value))


# --- the service catalog ----------------------------------------------------------------


async def test_list_services_follows_the_data_file(stub):
    expected = read_service_catalog()
    assert {"medical-consultation", "laundry", "shower", "clothes", "haircut", "case-vtb", "case-alabuga",
            "case-b1", "case-severstal", "case-alfa"} <= {s.id for s in expected}
    listed, token = [], ""
    while True:
        page = await stub.ListServices(event_service_pb2.ListServicesRequest(page_size=3, page_token=token))
        listed += page.services
        token = page.next_page_token
        if not token:
            break
    assert len({s.name for s in listed}) == len(listed)
    from_file = [s for s in listed if ident(s.name) in {e.id for e in expected}]
    assert [(ident(s.name), s.display_name, s.default_capacity, s.default_booking_window_days,
             s.default_duration_minutes) for s in from_file] == [
        (e.id, e.display_name, e.default_capacity, e.default_booking_window_days, e.default_duration_minutes)
        for e in expected]
    assert {s.display_name for s in listed} >= {
        "Консультация врача", "Стирка", "Душ", "Одежда", "Стрижка", "ВТБ", "Алабуга", "Б1", "Северсталь", "Альфа"}


async def test_loading_the_catalog_again_changes_nothing_and_updates_from_the_file(event_deps, stub, tmp_path):
    await load_service_catalog(event_deps.engine)
    first = await stub.ListServices(event_service_pb2.ListServicesRequest(page_size=1000))
    changed = tmp_path / "services.json"
    changed.write_text('{"services": [{"id": "laundry", "display_name": "Прачечная", "default_capacity": 6, '
                       '"default_booking_window_days": 7, "default_duration_minutes": 90}]}', encoding="utf-8")
    try:
        await load_service_catalog(event_deps.engine, changed)
        renamed = await stub.ListServices(event_service_pb2.ListServicesRequest(page_size=1000))
        assert {s.name: s.display_name for s in renamed.services}["services/laundry"] == "Прачечная"
    finally:
        await load_service_catalog(event_deps.engine)
    again = await stub.ListServices(event_service_pb2.ListServicesRequest(page_size=1000))
    assert again == first


# --- CreateEvent ------------------------------------------------------------------------


async def test_one_off_event_is_created_with_its_sessions_and_messages(stub, event_deps, unique):
    venue = await make_venue(stub, f"Ясная {unique}")
    first_date = TODAY + 3 * DAY
    request = create_request(
        venue.name, title=f"  Стирка и  душ {unique} ", capacity=4, first_date=first_date,
        sessions_=[template("laundry", "10:00"), template("shower", "12:30", capacity=2, duration_minutes=15)])
    created = await stub.CreateEvent(request)
    assert created.name.startswith("events/")
    assert (created.title, created.venue, created.venue_display_name, created.capacity, created.kind,
            created.first_date, created.status, created.schedule_text, created.time_zone) == (
        f"Стирка и душ {unique}", venue.name, venue.display_name, 4, ONE_OFF, first_date.isoformat(),
        event_pb2.EVENT_STATUS_ACTIVE, first_date.isoformat(), "Europe/Moscow")
    assert not created.HasField("recurrence")
    assert [(t.key, t.service, t.start_time, t.duration_minutes, t.capacity, t.booking_window_days)
            for t in created.sessions] == [("s1", "services/laundry", "10:00", 90, 4, 7),
                                           ("s2", "services/shower", "12:30", 15, 2, 3)]
    assert created.create_time.seconds > 0
    assert await stub.GetEvent(event_service_pb2.GetEventRequest(name=created.name)) == created

    listed = await all_sessions(stub, event=created.name)
    assert [s.template_key for s in listed] == ["s1", "s2"]
    laundry, shower = listed
    start = datetime.combine(first_date, time(10), tzinfo=MOSCOW)
    assert laundry.start_time.ToDatetime(tzinfo=UTC) == start
    assert laundry.end_time.ToDatetime(tzinfo=UTC) == start + timedelta(minutes=90)
    assert (laundry.capacity, laundry.held, laundry.confirmed, laundry.available, laundry.booking_window_days) == (
        4, 0, 0, 4, 7)
    assert (laundry.event, laundry.venue, laundry.service, laundry.event_title, laundry.service_display_name,
            laundry.venue_display_name) == (created.name, venue.name, "services/laundry", created.title, "Стирка",
                                            venue.display_name)
    assert shower.end_time.ToDatetime(tzinfo=UTC) - shower.start_time.ToDatetime(tzinfo=UTC) == timedelta(minutes=15)
    assert await stub.GetSession(event_service_pb2.GetSessionRequest(name=laundry.name)) == laundry

    messages = await outbox_for(event_deps, [ident(created.name)] + [ident(s.name) for s in listed])
    assert [(t, k) for t, k, _ in messages] == [
        ("turnout.event.v1.EventCreated", ident(created.name)),
        ("turnout.event.v1.SessionScheduled", ident(laundry.name)),
        ("turnout.event.v1.SessionScheduled", ident(shower.name))]
    event_env = messages[0][2]
    assert (event_env.aggregate_type, event_env.aggregate_version) == ("event", 1)
    payload = catalog_events_pb2.EventCreated()
    event_env.payload.Unpack(payload)
    assert payload.event.name == created.name and payload.event.title == created.title
    scheduled = catalog_events_pb2.SessionScheduled()
    messages[1][2].payload.Unpack(scheduled)
    assert (messages[1][2].aggregate_type, messages[1][2].aggregate_version) == ("session", 1)
    assert scheduled.session == laundry
    assert (scheduled.occurrence.name, scheduled.occurrence.event, scheduled.occurrence.date,
            scheduled.occurrence.capacity) == (laundry.occurrence, created.name, first_date.isoformat(), 4)


async def test_recurring_event_materialises_its_horizon_with_stable_ids_and_pools(stub, event_deps, unique):
    venue = await make_venue(stub, f"Цветной {unique}")
    request = create_request(
        venue.name, title=f"Неделя {unique}", capacity=10, kind=RECURRING, first_date=TODAY,
        recurrence=weekly(),
        sessions_=[template("laundry", "09:00", key="wash"),  # window 7
                   template("haircut", "11:00", key="cut"),  # window 14: the longest
                   template("shower", "13:00", key="shower", booking_window_days=5)],
        pools_=[event_pb2.PoolTemplate(display_name="Уход", limit=5, session_keys=["cut", "shower"])],
        max_per=1)
    created = await stub.CreateEvent(request)
    event_id = ident(created.name)
    assert created.schedule_text == "every week"
    assert created.max_sessions_per_participant == 1
    assert created.recurrence == weekly()
    assert [(p.display_name, p.limit, list(p.session_keys)) for p in created.pools] == [
        ("Уход", 5, ["cut", "shower"])]

    horizon = TODAY + timedelta(days=14 + 1)
    expected_dates = dates_between(TODAY, Recurrence(Frequency.WEEKLY), TODAY, horizon)
    assert len(expected_dates) == 3  # today, +7, +14
    async with event_deps.engine.connect() as connection:
        stored = (await connection.execute(sa.select(events.c.materialized_until)
                                           .where(events.c.id == event_id))).scalar_one()
        occurrence_rows = (await connection.execute(
            sa.select(occurrences).where(occurrences.c.event_id == event_id).order_by(occurrences.c.date))).all()
        templates = {row.key: row.id for row in await connection.execute(
            sa.select(session_templates.c.key, session_templates.c.id).where(session_templates.c.event_id == event_id))}
        session_rows = (await connection.execute(sa.select(sessions).where(sessions.c.event_id == event_id))).all()
        pool_rows = (await connection.execute(
            sa.select(pools).join(occurrences, occurrences.c.id == pools.c.occurrence_id)
            .where(occurrences.c.event_id == event_id))).all()
        members = (await connection.execute(
            sa.select(pool_sessions).where(pool_sessions.c.pool_id.in_([p.id for p in pool_rows])))).all()
    assert stored == horizon
    assert [row.date for row in occurrence_rows] == expected_dates
    assert all(row.capacity == 10 for row in occurrence_rows)
    for row in occurrence_rows:
        assert row.id == str(uuid.uuid5(domain.NAMESPACE, f"{event_id}/{row.date.isoformat()}"))
    expected_sessions = {str(uuid.uuid5(domain.NAMESPACE, f"{o.id}/{t}")) for o in occurrence_rows
                         for t in templates.values()}
    assert {row.id for row in session_rows} == expected_sessions
    assert len(session_rows) == 9
    assert len(pool_rows) == 3
    async with event_deps.engine.connect() as connection:
        (pool_template,) = (await connection.execute(sa.select(pool_templates.c.id)
                                                     .where(pool_templates.c.event_id == event_id))).scalars()
    assert {p.occurrence_id for p in pool_rows} == {o.id for o in occurrence_rows}
    for pool in pool_rows:
        assert pool.template_id == pool_template
        assert pool.id == str(uuid.uuid5(domain.NAMESPACE, f"{pool.occurrence_id}/{pool_template}"))
        assert (pool.display_name, pool.limit, pool.used) == ("Уход", 5, 0)
        assert {m.session_id for m in members if m.pool_id == pool.id} == {
            str(uuid.uuid5(domain.NAMESPACE, f"{pool.occurrence_id}/{templates[k]}")) for k in ("cut", "shower")}
    listed = await all_sessions(stub, event=created.name)
    assert [s.pools for s in listed if s.template_key == "wash"] == [[]] * 3
    assert all(len(s.pools) == 1 for s in listed if s.template_key != "wash")
    starts = [s.start_time.ToDatetime(tzinfo=UTC) for s in listed]
    assert starts == sorted(starts)
    assert max(starts).astimezone(MOSCOW).date() == TODAY + 14 * DAY

    keys = [event_id] + [row.id for row in session_rows]
    messages = await outbox_for(event_deps, keys)
    assert [t for t, _, _ in messages].count("turnout.event.v1.EventCreated") == 1
    assert sorted(k for t, k, _ in messages if t == "turnout.event.v1.SessionScheduled") == sorted(expected_sessions)

    # Materialising again creates nothing: same ids, ON CONFLICT DO NOTHING, no new messages.
    before = await row_counts(event_deps)
    await extend_materialisation(event_deps.uow_factory, NOW)
    assert len(await all_sessions(stub, event=created.name)) == 9
    assert len(await outbox_for(event_deps, keys)) == len(messages)
    after = await row_counts(event_deps)
    assert after["events"] == before["events"]

    # A week later the horizon has moved by one week: one more date, three sessions, three messages.
    await extend_materialisation(event_deps.uow_factory, NOW + 7 * DAY)
    later = await all_sessions(stub, event=created.name)
    assert len(later) == 12
    assert max(s.start_time.ToDatetime(tzinfo=UTC) for s in later).astimezone(MOSCOW).date() == TODAY + 21 * DAY
    new_ids = [ident(s.name) for s in later if ident(s.name) not in expected_sessions]
    assert sorted(k for t, k, _ in await outbox_for(event_deps, new_ids)) == sorted(new_ids)
    async with event_deps.engine.connect() as connection:
        assert await connection.scalar(sa.select(events.c.materialized_until).where(events.c.id == event_id)) == (
            TODAY + 22 * DAY)


async def test_horizon_never_passes_the_end_of_the_series(stub, event_deps, unique):
    venue = await make_venue(stub, f"Конец {unique}")
    created = await stub.CreateEvent(create_request(
        venue.name, title=f"Три дня {unique}", kind=RECURRING, first_date=TODAY + DAY,
        recurrence=event_pb2.Recurrence(frequency=event_pb2.FREQUENCY_DAILY, interval=1, count=3),
        sessions_=[template("case-vtb")]))  # window 30
    assert created.schedule_text == "every day, 3 times"
    listed = await all_sessions(stub, event=created.name)
    assert [s.start_time.ToDatetime(tzinfo=UTC).astimezone(MOSCOW).date() for s in listed] == [
        TODAY + DAY, TODAY + 2 * DAY, TODAY + 3 * DAY]
    async with event_deps.engine.connect() as connection:
        assert await connection.scalar(sa.select(events.c.materialized_until)
                                       .where(events.c.id == ident(created.name))) == TODAY + 3 * DAY
    await extend_materialisation(event_deps.uow_factory, NOW + 40 * DAY)
    assert len(await all_sessions(stub, event=created.name)) == 3


async def test_one_off_beyond_the_horizon_waits_for_it(stub, event_deps, unique):
    venue = await make_venue(stub, f"Потом {unique}")
    first_date = TODAY + 20 * DAY  # laundry: window 7, horizon today + 8
    created = await stub.CreateEvent(create_request(venue.name, title=f"Потом {unique}", first_date=first_date))
    assert await all_sessions(stub, event=created.name) == []
    await extend_materialisation(event_deps.uow_factory, NOW + 11 * DAY)  # horizon today + 19
    assert await all_sessions(stub, event=created.name) == []
    await extend_materialisation(event_deps.uow_factory, NOW + 12 * DAY)  # horizon today + 20
    (session,) = await all_sessions(stub, event=created.name)
    assert session.start_time.ToDatetime(tzinfo=UTC).astimezone(MOSCOW).date() == first_date


async def test_a_dst_zone_keeps_local_start_times_for_a_year(stub, unique):
    venue = await make_venue(stub, f"Berlin {unique}")
    created = await stub.CreateEvent(create_request(
        venue.name, title=f"Berlin {unique}", kind=RECURRING, first_date=TODAY, time_zone="Europe/Berlin",
        recurrence=weekly(), sessions_=[template("case-alfa", "10:00")]))
    # A year ahead (materialised on demand) crosses both of Berlin's clock changes.
    listed = await all_sessions(stub, event=created.name, start_time_to=timestamp(NOW + 365 * DAY))
    berlin = ZoneInfo("Europe/Berlin")
    assert len(listed) >= 52
    assert {s.start_time.ToDatetime(tzinfo=UTC).astimezone(berlin).time() for s in listed} == {time(10)}
    assert {s.start_time.ToDatetime(tzinfo=UTC).hour for s in listed} == {8, 9}


async def test_concurrent_materialisers_create_each_session_once(stub, event_deps, unique):
    venue = await make_venue(stub, f"Replicas {unique}")
    created = await stub.CreateEvent(create_request(venue.name, title=f"Replicas {unique}", kind=RECURRING,
                                                    first_date=TODAY, recurrence=weekly(),
                                                    sessions_=[template("laundry"), template("shower")]))
    before = {s.name for s in await all_sessions(stub, event=created.name)}
    await asyncio.gather(*[extend_materialisation(event_deps.uow_factory, NOW + 21 * DAY) for _ in range(4)])
    after = await all_sessions(stub, event=created.name)
    new = [ident(s.name) for s in after if s.name not in before]
    # Three weeks on, today + 21 and today + 28 (horizon today + 29; today + 14 is past by then).
    assert len(new) == 2 * 2
    assert sorted(k for _, k, _ in await outbox_for(event_deps, new)) == sorted(new), "one message per session"


async def test_the_background_job_extends_until_stopped(stub, event_deps, unique):
    venue = await make_venue(stub, f"Job {unique}")
    created = await stub.CreateEvent(create_request(venue.name, title=f"Job {unique}", kind=RECURRING,
                                                    first_date=TODAY, recurrence=weekly()))
    before = len(await all_sessions(stub, event=created.name))
    stop = asyncio.Event()
    job = asyncio.create_task(keep_materialised(event_deps.uow_factory, stop, every=0.05,
                                                clock=lambda: NOW + 14 * DAY))
    try:
        for _ in range(200):
            if len(await all_sessions(stub, event=created.name)) == before + 2:
                break
            await asyncio.sleep(0.05)
        assert len(await all_sessions(stub, event=created.name)) == before + 2
    finally:
        stop.set()
        await asyncio.wait_for(job, timeout=5)


async def test_same_request_id_returns_the_first_event_and_writes_nothing_more(stub, event_deps, unique):
    venue = await make_venue(stub, f"Idem {unique}")
    request = create_request(venue.name, title=f"Idem {unique}")
    first = await stub.CreateEvent(request)
    before = await row_counts(event_deps)
    again = await stub.CreateEvent(request)
    assert again == first
    assert await row_counts(event_deps) == before

    other = create_request(venue.name, title=f"Other {unique}", request_id=request.request_id)
    code, reason, fields = await refused(stub.CreateEvent, other)
    assert (code, reason, fields) == (grpc.StatusCode.INVALID_ARGUMENT, "REQUEST_ID_REUSED",
                                      {"request_id": "was already used for a different request"})
    assert await row_counts(event_deps) == before


async def test_concurrent_twins_create_one_event(stub, event_deps, unique):
    venue = await make_venue(stub, f"Twins {unique}")
    request = create_request(venue.name, title=f"Twins {unique}")
    answers = await asyncio.gather(*[stub.CreateEvent(request) for _ in range(10)])
    assert len({a.name for a in answers}) == 1
    async with event_deps.engine.connect() as connection:
        assert await connection.scalar(sa.select(sa.func.count()).select_from(events)
                                       .where(events.c.title == f"Twins {unique}")) == 1


async def test_new_venue_is_created_in_the_same_transaction(stub, event_deps, unique):
    request = create_request(
        title=f"С новым местом {unique}",
        new_venue=venue_pb2.Venue(display_name=f"Новое место {unique}", address="ул. 1"))
    created = await stub.CreateEvent(request)
    venue = await stub.GetVenue(event_service_pb2.GetVenueRequest(name=created.venue))
    assert (venue.display_name, venue.address) == (f"Новое место {unique}", "ул. 1")
    assert created.venue_display_name == venue.display_name
    messages = await outbox_for(event_deps, [ident(venue.name), ident(created.name)])
    assert [t for t, _, _ in messages] == ["turnout.event.v1.VenueCreated", "turnout.event.v1.EventCreated"]


async def test_invalid_event_with_a_new_venue_writes_no_venue_either(stub, event_deps, unique):
    before = await row_counts(event_deps)
    request = create_request(title=f"Плохое {unique}", capacity=0,
                             new_venue=venue_pb2.Venue(display_name=f"Не создано {unique}"))
    code, reason, fields = await refused(stub.CreateEvent, request)
    assert (code, reason, list(fields)) == (grpc.StatusCode.INVALID_ARGUMENT, "VALIDATION_FAILED", ["event.capacity"])
    assert await row_counts(event_deps) == before
    both = create_request(title="", new_venue=venue_pb2.Venue(display_name=" "))
    code, _, fields = await refused(stub.CreateEvent, both)
    assert {"event.title", "new_venue.display_name"} <= fields.keys()
    assert await row_counts(event_deps) == before


async def test_a_new_venue_with_a_taken_name_is_already_exists_and_writes_nothing(stub, event_deps, unique):
    await make_venue(stub, f"Занято {unique}")
    before = await row_counts(event_deps)
    code, reason, _ = await refused(stub.CreateEvent, create_request(
        title=f"Занято {unique}", new_venue=venue_pb2.Venue(display_name=f"занято {unique}")))
    assert (code, reason) == (grpc.StatusCode.ALREADY_EXISTS, "ALREADY_EXISTS")
    assert await row_counts(event_deps) == before


def _bad(**changes):
    """A mutation of a valid recurring request with two sessions and a pool."""

    def mutate(request: event_service_pb2.CreateEventRequest) -> None:
        for path, value in changes.items():
            target = request
            *parents, leaf = path.split("__")
            for part in parents:
                target = target[int(part)] if part.isdigit() else getattr(target, part)
            if leaf == "clear":
                target.ClearField(value)
            elif isinstance(value, list):
                del getattr(target, leaf)[:]
                getattr(target, leaf).extend(value)
            else:
                setattr(target, leaf, value)
    return mutate


BAD_INPUTS = [
    ("zero capacity", _bad(event__capacity=0), "event.capacity"),
    ("negative capacity", _bad(event__capacity=-5), "event.capacity"),
    ("huge capacity", _bad(event__capacity=10_000_000), "event.capacity"),
    ("session above the event", _bad(event__sessions__0__capacity=21), "event.sessions[0].capacity"),
    ("negative session capacity", _bad(event__sessions__1__capacity=-1), "event.sessions[1].capacity"),
    ("unknown venue", _bad(event__venue=f"venues/{uuid.uuid4()}"), "event.venue"),
    ("malformed venue", _bad(event__venue="rooms/1"), "event.venue"),
    ("no venue", _bad(event__venue=""), "event.venue"),
    ("unknown service", _bad(event__sessions__1__service="services/massage"), "event.sessions[1].service"),
    ("malformed service", _bad(event__sessions__0__service="laundry"), "event.sessions[0].service"),
    ("until before start", _bad(event__recurrence__until_date=(TODAY - DAY).isoformat()),
     "event.recurrence.until_date"),
    ("malformed until", _bad(event__recurrence__until_date="2027/03/01"), "event.recurrence.until_date"),
    ("until and count", _bad(event__recurrence__until_date=(TODAY + 30 * DAY).isoformat(), event__recurrence__count=3),
     "event.recurrence.count"),
    ("negative count", _bad(event__recurrence__count=-1), "event.recurrence.count"),
    ("interval 0", _bad(event__recurrence__interval=0), "event.recurrence.interval"),
    ("interval too big", _bad(event__recurrence__interval=1000), "event.recurrence.interval"),
    ("no frequency", _bad(event__recurrence__frequency=0), "event.recurrence.frequency"),
    ("recurring without a rule", _bad(event__clear="recurrence"), "event.recurrence"),
    ("one-off with a rule", _bad(event__kind=ONE_OFF), "event.recurrence"),
    ("no kind", _bad(event__kind=0), "event.kind"),
    ("10 KB title", _bad(event__title="x" * 10_240), "event.title"),
    ("blank title", _bad(event__title="   "), "event.title"),
    ("NUL in title", _bad(event__title="a\x00b"), "event.title"),
    ("malformed first date", _bad(event__first_date="01.12.2026"), "event.first_date"),
    ("impossible first date", _bad(event__first_date="2026-02-30"), "event.first_date"),
    ("week first date", _bad(event__first_date="2026-W49-1"), "event.first_date"),
    ("no first date", _bad(event__first_date=""), "event.first_date"),
    ("malformed start time", _bad(event__sessions__0__start_time="9:30"), "event.sessions[0].start_time"),
    ("impossible start time", _bad(event__sessions__1__start_time="24:00"), "event.sessions[1].start_time"),
    ("long duration", _bad(event__sessions__0__duration_minutes=1441), "event.sessions[0].duration_minutes"),
    ("negative window", _bad(event__sessions__0__booking_window_days=-1), "event.sessions[0].booking_window_days"),
    ("duplicate keys", _bad(event__sessions__1__key="a"), "event.sessions[1].key"),
    ("no sessions", _bad(event__sessions=[]), "event.sessions"),
    ("unknown pool key", _bad(event__pools__0__session_keys=["a", "zzz"]), "event.pools[0].session_keys"),
    ("pool of one", _bad(event__pools__0__session_keys=["a"]), "event.pools[0].session_keys"),
    ("pool limit 0", _bad(event__pools__0__limit=0), "event.pools[0].limit"),
    ("pool without a name", _bad(event__pools__0__display_name=" "), "event.pools[0].display_name"),
    ("bad time zone", _bad(event__time_zone="Mars/Olympus"), "event.time_zone"),
    ("path time zone", _bad(event__time_zone="../../etc/passwd"), "event.time_zone"),
    ("negative per-participant limit", _bad(event__max_sessions_per_participant=-1),
     "event.max_sessions_per_participant"),
    ("per-participant limit above sessions", _bad(event__max_sessions_per_participant=3),
     "event.max_sessions_per_participant"),
    ("first date too far", _bad(event__first_date="2999-01-01"), "event.first_date"),
]


@pytest.mark.parametrize(("mutate", "field"), [pytest.param(m, f, id=name) for name, m, f in BAD_INPUTS])
async def test_invalid_input_names_the_field_and_writes_nothing(stub, event_deps, unique, mutate, field):
    venue = await make_venue(stub, f"Bad {unique}")
    request = create_request(
        venue.name, title=f"Bad {unique}", kind=RECURRING, first_date=TODAY, recurrence=weekly(),
        sessions_=[template("laundry", key="a"), template("shower", key="b")],
        pools_=[event_pb2.PoolTemplate(display_name="P", limit=3, session_keys=["a", "b"])])
    mutate(request)
    before = await row_counts(event_deps)
    code, reason, fields = await refused(stub.CreateEvent, request)
    assert (code, reason) == (grpc.StatusCode.INVALID_ARGUMENT, "VALIDATION_FAILED")
    assert field in fields, fields
    assert await row_counts(event_deps) == before


async def test_past_one_off_and_finished_series_are_refused(stub, event_deps, unique):
    venue = await make_venue(stub, f"Past {unique}")
    before = await row_counts(event_deps)
    _, _, fields = await refused(stub.CreateEvent, create_request(venue.name, title="p", first_date=TODAY - DAY))
    assert list(fields) == ["event.first_date"]
    _, _, fields = await refused(stub.CreateEvent, create_request(
        venue.name, title="p", kind=RECURRING, first_date=TODAY - 30 * DAY, recurrence=weekly(count=2)))
    assert list(fields) == ["event.recurrence.count"]
    _, _, fields = await refused(stub.CreateEvent, create_request(
        venue.name, title="p", kind=RECURRING, first_date=TODAY - 30 * DAY,
        recurrence=weekly(until_date=(TODAY - DAY).isoformat())))
    assert list(fields) == ["event.recurrence.until_date"]
    assert await row_counts(event_deps) == before
    # A series that began before today is fine: only today onwards is materialised.
    created = await stub.CreateEvent(create_request(venue.name, title=f"Past {unique}", kind=RECURRING,
                                                    first_date=TODAY - 30 * DAY, recurrence=weekly()))
    listed = await all_sessions(stub, event=created.name)
    assert listed and all(s.start_time.ToDatetime(tzinfo=UTC).astimezone(MOSCOW).date() >= TODAY for s in listed)


async def test_every_violation_is_reported_at_once(stub, unique):
    request = create_request(
        f"venues/{uuid.uuid4()}", title="", capacity=0, kind=RECURRING, first_date="tomorrow",
        recurrence=event_pb2.Recurrence(interval=0),
        sessions_=[template("nope", "25:61"), template("laundry", booking_window_days=400)],
        pools_=[event_pb2.PoolTemplate(display_name="x", limit=0, session_keys=["s1", "s9"])], max_per=-1,
        time_zone="Nowhere/City")
    _, _, fields = await refused(stub.CreateEvent, request)
    assert {"event.venue", "event.title", "event.capacity", "event.first_date", "event.recurrence.frequency",
            "event.recurrence.interval", "event.sessions[0].service", "event.sessions[0].start_time",
            "event.sessions[1].booking_window_days", "event.pools[0].limit", "event.pools[0].session_keys",
            "event.max_sessions_per_participant", "event.time_zone"} <= fields.keys()


async def test_a_session_may_belong_to_several_pools(stub, unique):
    venue = await make_venue(stub, f"Дебаты {unique}")
    created = await stub.CreateEvent(create_request(
        venue.name, title=f"Дебаты {unique}", capacity=60, first_date=TODAY + DAY,
        sessions_=[template(s, "12:00", key=k) for k, s in
                   (("vtb", "case-vtb"), ("alabuga", "case-alabuga"), ("b1", "case-b1"))],
        pools_=[event_pb2.PoolTemplate(display_name="Алабуга+Б1", limit=41, session_keys=["alabuga", "b1"]),
                event_pb2.PoolTemplate(display_name="Все", limit=50, session_keys=["vtb", "alabuga", "b1"])]))
    by_key = {s.template_key: s for s in await all_sessions(stub, event=created.name)}
    assert len(by_key["alabuga"].pools) == len(by_key["b1"].pools) == 2
    assert len(by_key["vtb"].pools) == 1
    assert [p.display_name for p in created.pools] == ["Алабуга+Б1", "Все"]


# --- reading ----------------------------------------------------------------------------


async def test_get_unknown_and_malformed_names(stub):
    for call, request_type in ((stub.GetEvent, event_service_pb2.GetEventRequest),
                               (stub.GetSession, event_service_pb2.GetSessionRequest)):
        collection = "events" if request_type is event_service_pb2.GetEventRequest else "sessions"
        code, reason, _ = await refused(call, request_type(name=f"{collection}/{uuid.uuid4()}"))
        assert (code, reason) == (grpc.StatusCode.NOT_FOUND, "NOT_FOUND")
        for bad in ("", "venues/1", f"{collection}/", f"{collection}/a/b", f"{collection}/a\x00"):
            code, _, fields = await refused(call, request_type(name=bad))
            assert code == grpc.StatusCode.INVALID_ARGUMENT and "name" in fields, bad


@pytest.fixture(scope="module")
async def listed_world(stub, event_deps):
    """Events to filter, all titled with one marker: A one-off, B weekly, C monthly (both never
    ending), D archived; venues V1 (A, D) and V2 (B, C)."""
    marker = uuid.uuid4().hex[:10]
    v1 = await make_venue(stub, f"Гиляровского {marker}")
    v2 = await make_venue(stub, f"Цветной бульвар {marker}")
    a = await stub.CreateEvent(create_request(
        v1.name, title=f"Стирка у Ясной {marker}", first_date=TODAY + 2 * DAY,
        sessions_=[template("laundry", "10:00")]))
    b = await stub.CreateEvent(create_request(
        v2.name, title=f"Стрижки {marker}", kind=RECURRING, first_date=TODAY, recurrence=weekly(),
        sessions_=[template("haircut", "11:00")]))
    c = await stub.CreateEvent(create_request(
        v2.name, title=f"Консультации {marker}", kind=RECURRING, first_date=TODAY + DAY,
        recurrence=event_pb2.Recurrence(frequency=event_pb2.FREQUENCY_MONTHLY, interval=1),
        sessions_=[template("medical-consultation", "15:00"), template("shower", "16:00")]))
    d = await stub.CreateEvent(create_request(v1.name, title=f"Архив {marker}", first_date=TODAY + 2 * DAY,
                                              sessions_=[template("laundry", "18:00")]))
    # No method archives events yet (a later issue): set the state the way ArchiveEvent will.
    async with event_deps.engine.begin() as connection:
        await connection.execute(events.update().where(events.c.id == ident(d.name)).values(status="archived"))
    return {"marker": marker, "v1": v1, "v2": v2, "a": a, "b": b, "c": c, "d": d}


async def test_list_events_by_query_with_tab_counts_and_pages(stub, listed_world):
    w = listed_world
    names, first = await all_events(stub, query=w["marker"])
    assert names == newest_first(w["a"], w["b"], w["c"])
    assert (first.active_count, first.archived_count) == (3, 1)
    archived, first = await all_events(stub, query=w["marker"], status=event_pb2.EVENT_STATUS_ARCHIVED)
    assert archived == [w["d"].name]
    assert (first.active_count, first.archived_count) == (3, 1)
    page = await stub.ListEvents(event_service_pb2.ListEventsRequest(query=w["marker"]))
    assert {e.name: (e.venue_display_name, e.schedule_text) for e in page.events} == {
        w["a"].name: (w["v1"].display_name, (TODAY + 2 * DAY).isoformat()),
        w["b"].name: (w["v2"].display_name, "every week"),
        w["c"].name: (w["v2"].display_name, "every month")}
    assert [e.name for e in page.events] == names


async def test_list_events_query_is_case_insensitive_on_title_and_venue_and_escapes_wildcards(stub, listed_world):
    w = listed_world
    names, _ = await all_events(stub, query=f"  СТИРКА   у ясной {w['marker'].upper()} ")
    assert names == [w["a"].name]
    names, _ = await all_events(stub, query=f"цветной БУЛЬВАР {w['marker']}")
    assert names == newest_first(w["b"], w["c"])
    for wild in (f"{w['marker']}%", f"%{w['marker']}", f"_{w['marker']}", f"\\{w['marker']}"):
        names, first = await all_events(stub, query=wild)
        assert names == [] and (first.active_count, first.archived_count) == (0, 0), wild


async def test_list_events_by_kind_venue_and_service(stub, listed_world):
    w = listed_world
    q = w["marker"]
    names, first = await all_events(stub, query=q, kind=ONE_OFF)
    assert names == [w["a"].name] and (first.active_count, first.archived_count) == (1, 1)
    names, _ = await all_events(stub, query=q, kind=RECURRING)
    assert names == newest_first(w["b"], w["c"])
    names, first = await all_events(stub, venue=w["v1"].name)
    assert names == [w["a"].name] and (first.active_count, first.archived_count) == (1, 1)
    names, _ = await all_events(stub, query=q, service="services/haircut")
    assert names == [w["b"].name]
    names, first = await all_events(stub, query=q, service="services/laundry")
    assert names == [w["a"].name] and first.archived_count == 1


async def test_list_events_by_dates_including_beyond_what_is_materialised(stub, listed_world):
    w = listed_world
    q = w["marker"]

    async def on(start: date, end: date | None = None) -> list[str]:
        names, _ = await all_events(stub, query=q, from_date=start.isoformat(),
                                    to_date=(end or start).isoformat())
        return names

    assert await on(TODAY + 2 * DAY) == [w["a"].name]
    assert await on(TODAY + 7 * DAY) == [w["b"].name]
    assert await on(TODAY + DAY) == [w["c"].name]
    assert await on(TODAY + 3 * DAY, TODAY + 6 * DAY) == []
    # Far beyond the horizon the rule decides: a weekly series on its day, not on its off days.
    far = TODAY + 7 * 60 * DAY
    assert await on(far) == [w["b"].name]
    c_dates = dates_between(TODAY + DAY, Recurrence(Frequency.MONTHLY), far + DAY, far + DAY)
    assert await on(far + DAY) == ([w["c"].name] if c_dates else [])
    monthly = dates_between(TODAY + DAY, Recurrence(Frequency.MONTHLY), TODAY + 200 * DAY, TODAY + 240 * DAY)[0]
    expected = [w["c"]] + ([w["b"]] if (monthly - TODAY).days % 7 == 0 else [])
    assert await on(monthly) == newest_first(*expected)
    names, first = await all_events(stub, query=q, from_date=(TODAY + 400 * DAY).isoformat())
    assert names == newest_first(w["b"], w["c"]) and (first.active_count, first.archived_count) == (2, 0)
    names, first = await all_events(stub, query=q, to_date=(TODAY + DAY).isoformat())
    assert names == newest_first(w["b"], w["c"])


async def test_list_events_and_sessions_by_participant_live_seats(stub, event_deps, listed_world):
    w = listed_world
    b_session = (await all_sessions(stub, event=w["b"].name))[0]
    a_session = (await all_sessions(stub, event=w["a"].name))[0]
    participant = f"p-{uuid.uuid4()}"
    # The ledger writes seats; here they are put in place directly to read them back.
    async with event_deps.engine.begin() as connection:
        for session, state in ((b_session, "confirmed"), (a_session, "released")):
            occurrence = await connection.scalar(sa.select(sessions.c.occurrence_id)
                                                 .where(sessions.c.id == ident(session.name)))
            await connection.execute(seats.insert().values(
                id=str(uuid.uuid4()), session_id=ident(session.name), occurrence_id=occurrence,
                participant_id=participant, state=state, actor="test", created_at=NOW, updated_at=NOW))
    names, first = await all_events(stub, participants=[f"participants/{participant}", "participants/nobody"])
    assert names == [w["b"].name] and (first.active_count, first.archived_count) == (1, 0)
    found = await all_sessions(stub, participants=[f"participants/{participant}"])
    assert [s.name for s in found] == [b_session.name]


async def test_list_sessions_filters_and_pages(stub, listed_world):
    w = listed_world
    everything = await all_sessions(stub, venue=w["v2"].name)
    assert {s.event for s in everything} == {w["b"].name, w["c"].name}
    keys = [(s.start_time.ToDatetime(tzinfo=UTC), s.name) for s in everything]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    assert {s.event for s in await all_sessions(stub, service="services/shower", venue=w["v2"].name)} == {w["c"].name}
    b_sessions = await all_sessions(stub, event=w["b"].name)
    assert len(b_sessions) == 3  # haircut: window 14, today .. today + 15
    start = datetime.combine(TODAY + 7 * DAY, time(), tzinfo=MOSCOW)
    window = await all_sessions(stub, event=w["b"].name, start_time_from=timestamp(start),
                                start_time_to=timestamp(start + DAY))
    assert [s.name for s in window] == [b_sessions[1].name]
    # B's first session is today at 11:00 Moscow: past or upcoming depending on the clock.
    started = b_sessions[0].start_time.ToDatetime(tzinfo=UTC) <= NOW
    past = await all_sessions(stub, event=w["b"].name, timing=event_service_pb2.SESSION_TIMING_PAST)
    upcoming = await all_sessions(stub, event=w["b"].name, timing=event_service_pb2.SESSION_TIMING_UPCOMING)
    assert [s.name for s in past] == ([b_sessions[0].name] if started else [])
    assert [s.name for s in past + upcoming] == [s.name for s in b_sessions]


async def test_list_sessions_shows_a_past_session_as_past(stub, unique):
    venue = await make_venue(stub, f"Утро {unique}")
    created = await stub.CreateEvent(create_request(venue.name, title=f"Утро {unique}", first_date=TODAY,
                                                    sessions_=[template("shower", "00:00"),
                                                               template("shower", "23:59")]))
    past = await all_sessions(stub, event=created.name, timing=event_service_pb2.SESSION_TIMING_PAST)
    upcoming = await all_sessions(stub, event=created.name, timing=event_service_pb2.SESSION_TIMING_UPCOMING)
    assert [s.template_key for s in past] == ["s1"]
    late = datetime.combine(TODAY, time(23, 59), tzinfo=MOSCOW)
    assert [s.template_key for s in upcoming] == (["s2"] if late > NOW else [])


async def test_list_sessions_beyond_the_horizon_materialises_that_event(stub, event_deps, listed_world):
    c = listed_world["c"]
    before = await all_sessions(stub, event=c.name)
    assert len(before) == 2  # one monthly date within the 14-day horizon, two sessions
    until = datetime.combine(TODAY + 100 * DAY, time(), tzinfo=MOSCOW)
    ahead = await all_sessions(stub, event=c.name, start_time_to=timestamp(until))
    dates = dates_between(TODAY + DAY, Recurrence(Frequency.MONTHLY), TODAY, TODAY + 99 * DAY)
    assert sorted({s.start_time.ToDatetime(tzinfo=UTC).astimezone(MOSCOW).date() for s in ahead}) == dates
    assert len(ahead) == 2 * len(dates)
    new = [ident(s.name) for s in ahead if s.name not in {b.name for b in before}]
    assert len(await outbox_for(event_deps, new)) == len(new) > 0
    # Asked for years ahead, it stops MAX_LOOKAHEAD_DAYS after today.
    years = await all_sessions(stub, event=c.name, start_time_to=timestamp(until + 3000 * DAY))
    last = max(s.start_time.ToDatetime(tzinfo=UTC).astimezone(MOSCOW).date() for s in years)
    assert TODAY + (MAX_LOOKAHEAD_DAYS - 31) * DAY <= last <= TODAY + MAX_LOOKAHEAD_DAYS * DAY
    assert len(await all_sessions(stub, event=c.name, start_time_to=timestamp(until + 3000 * DAY))) == len(years)


@pytest.mark.parametrize(
    ("method", "request_", "field"),
    [("ListEvents", event_service_pb2.ListEventsRequest(page_size=-1), "page_size"),
     ("ListEvents", event_service_pb2.ListEventsRequest(page_token="%%%"), "page_token"),
     ("ListEvents", event_service_pb2.ListEventsRequest(from_date="1 May"), "from_date"),
     ("ListEvents", event_service_pb2.ListEventsRequest(from_date="2026-05-02", to_date="2026-05-01"), "to_date"),
     ("ListEvents", event_service_pb2.ListEventsRequest(venue="places/1"), "venue"),
     ("ListEvents", event_service_pb2.ListEventsRequest(service="laundry"), "service"),
     ("ListEvents", event_service_pb2.ListEventsRequest(participants=["p1"]), "participants[0]"),
     ("ListEvents", event_service_pb2.ListEventsRequest(query="x" * 300), "query"),
     ("ListEvents", event_service_pb2.ListEventsRequest(status=9), "status"),
     ("ListSessions", event_service_pb2.ListSessionsRequest(page_size=-1), "page_size"),
     ("ListSessions", event_service_pb2.ListSessionsRequest(event="event/1"), "event"),
     ("ListSessions", event_service_pb2.ListSessionsRequest(start_time_from=timestamp(NOW),
                                                            start_time_to=timestamp(NOW)), "start_time_to"),
     ("ListSessions", event_service_pb2.ListSessionsRequest(page_token="WyJ4IiwieSJd"), "page_token"),
     ("ListServices", event_service_pb2.ListServicesRequest(page_size=-1), "page_size"),
     ("ListServices", event_service_pb2.ListServicesRequest(page_token="WyJ4IiwieSJd"), "page_token")],
)
async def test_bad_list_requests_name_the_field(stub, method, request_, field):
    code, _, fields = await refused(getattr(stub, method), request_)
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert field in fields, fields
