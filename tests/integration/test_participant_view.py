"""The participant view against real Redis: a scripted scenario's envelopes, as event_service
and participant_service publish them, projected in any interleaving of aggregates (each
aggregate in order) into a test keyspace; then the upcoming/past split and order, the missed
flags, cancelled registrations with their state, a session edit showing, pagination, a replay
of everything changing nothing, and the gRPC and REST doors (authorization, bad `when`).

An unknown participant has an empty view with zero metrics (not 404): the read side cannot
tell a participant who has booked nothing yet from an unknown one.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import grpc
import httpx
import pytest
import redis
import redis.asyncio as aioredis
import sqlalchemy as sa
from grpc_details import details
from ledger_fixtures import SessionSpec, create_occurrence
from registration_fixtures import ADMIN, new_participants, register
from reporting_support import reporting_server

from kernel import topics
from kernel.errors import InvalidArgument
from kernel.unit_of_work import OutboxMessage, build_envelope
from reporting_service.keyspace import Keyspace
from reporting_service.participant_view import ParticipantViewReader
from reporting_service.projections.registry import to_change
from reporting_service.projections.store import ProjectionStore
from turnout.event.v1 import catalog_events_pb2, session_pb2
from turnout.participant.v1 import registration_events_pb2 as events
from turnout.participant.v1 import registration_pb2 as rpb
from turnout.participant.v1 import registration_service_pb2 as rs
from turnout.reporting.v1 import reporting_service_pb2 as pb
from turnout.reporting.v1 import reporting_service_pb2_grpc

pytestmark = pytest.mark.integration

NOW = datetime.now(UTC).replace(microsecond=0)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
# session id -> start (as scheduled); every session lasts an hour.
SESSIONS = {
    "old": NOW - 10 * DAY, "noshow": NOW - 5 * DAY, "forgot": NOW - 3 * DAY, "cxpast": NOW - 2 * DAY,
    "running": NOW - HOUR / 2, "soon": NOW + DAY, "later": NOW + 3 * DAY, "cxlater": NOW + 5 * DAY,
    "moved": NOW + 7 * DAY,
    # "unseen" is booked but its SessionScheduled never arrives: the view falls back to the
    # times the registration recorded.
    "unseen": NOW + 10 * DAY,
}
MOVED_TO = NOW + 8 * DAY  # "moved" is rescheduled after the booking
C, H, W, X = (rpb.REGISTRATION_STATE_CONFIRMED, rpb.REGISTRATION_STATE_HELD, rpb.REGISTRATION_STATE_WAITLISTED,
              rpb.REGISTRATION_STATE_CANCELLED)


def _session(session_id: str, start: datetime) -> session_pb2.Session:
    session = session_pb2.Session(
        name=f"sessions/{session_id}", event=f"events/E-{session_id}", occurrence=f"occurrences/O-{session_id}",
        service="services/laundry", venue="venues/V1", capacity=10, event_title=f"Событие {session_id}",
        service_display_name="Стирка", venue_display_name="Цветной")
    session.start_time.FromDatetime(start)
    session.end_time.FromDatetime(start + HOUR)
    return session


class Script:
    """What event_service and participant_service publish, per aggregate in order."""

    def __init__(self) -> None:
        self.streams: dict[str, list[tuple[str, bytes]]] = {}
        self.registrations: dict[str, rpb.Registration] = {}

    def _emit(self, topic: str, aggregate: str, aggregate_id: str, payload) -> None:
        stream = self.streams.setdefault(f"{aggregate}/{aggregate_id}", [])
        envelope = build_envelope(OutboxMessage(topic, aggregate, aggregate_id, len(stream) + 1, payload))
        stream.append((topic, envelope.SerializeToString()))

    def schedule(self, session_id: str, start: datetime, *, update: bool = False) -> None:
        session = _session(session_id, start)
        payload = (catalog_events_pb2.SessionUpdated(session=session, changed_fields=["start_time"]) if update
                   else catalog_events_pb2.SessionScheduled(session=session, occurrence=session_pb2.Occurrence(
                       name=f"occurrences/O-{session_id}", date=start.date().isoformat(), capacity=10)))
        self._emit(topics.CATALOG, "session", session_id, payload)

    def register(self, registration_id: str, participant: str, session_id: str, state: int,
                 start: datetime | None = None, **values) -> None:
        start = start or SESSIONS[session_id]
        r = rpb.Registration(name=f"registrations/{registration_id}", participant=f"participants/{participant}",
                             session=f"sessions/{session_id}", event=f"events/E-{session_id}", state=state,
                             attendance=rpb.ATTENDANCE_EXPECTED, registered_by=f"volunteer-{participant}", **values)
        r.create_time.FromDatetime(NOW - 20 * DAY + timedelta(minutes=len(self.registrations)))
        r.session_start_time.FromDatetime(start)
        r.session_end_time.FromDatetime(start + HOUR)
        self.registrations[registration_id] = r
        self._emit(topics.PARTICIPANTS, "registration", registration_id, events.RegistrationCreated(registration=r))

    def change(self, registration_id: str, payload_type, **values) -> None:
        r = self.registrations[registration_id]
        for name, value in values.items():
            setattr(r, name, value)
        self._emit(topics.PARTICIPANTS, "registration", registration_id, payload_type(registration=r))


def scenario() -> Script:
    s = Script()
    for session_id, start in SESSIONS.items():
        if session_id != "unseen":
            s.schedule(session_id, start)
    s.schedule("moved", MOVED_TO, update=True)
    s.register("a01", "pa", "old", C)
    s.change("a01", events.AttendanceMarked, attendance=rpb.ATTENDANCE_ATTENDED)
    s.register("a02", "pa", "noshow", C)
    s.change("a02", events.AttendanceMarked, attendance=rpb.ATTENDANCE_NO_SHOW)
    s.register("a03", "pa", "forgot", C)  # never marked: still expected after the end, so missed
    s.register("a04", "pa", "cxpast", C)
    s.change("a04", events.RegistrationCancelled, state=X, end_reason=rpb.END_REASON_CANCELLED)
    s.register("a05", "pa", "running", C)  # started, not ended: upcoming
    expires = NOW + 2 * HOUR
    s.register("a06", "pa", "soon", H)
    s.change("a06", events.RegistrationCreated, expire_time=expires)  # a second event, same state
    s.register("a07", "pa", "later", W, waitlist_position=2)
    s.register("a08", "pa", "cxlater", C)
    s.change("a08", events.RegistrationCancelled, state=X, end_reason=rpb.END_REASON_CANCELLED)
    s.register("a09", "pa", "moved", C)
    s.register("a10", "pa", "unseen", C)
    # Somebody else in the same sessions: never in pa's view.
    s.register("b01", "pb", "noshow", C)
    s.register("b02", "pb", "soon", C)
    return s


def interleaved(script: Script, rng: random.Random) -> list[tuple[str, bytes]]:
    """Every aggregate's messages in order, aggregates interleaved at random."""
    streams = {k: list(v) for k, v in script.streams.items()}
    order = []
    while any(streams.values()):
        key = rng.choice(sorted(k for k, v in streams.items() if v))
        order.append(streams[key].pop(0))
    return order


UPCOMING = ["a05", "a06", "a07", "a08", "a09", "a10"]
PAST = ["a04", "a03", "a02", "a01"]


async def _all_pages(reader: ParticipantViewReader, participant: str, when: str, size: int) -> list[list[str]]:
    pages, token = [], ""
    while True:
        page = await reader.page(participant, when=when, page_size=size, page_token=token)
        pages.append([e.registration_id for e in page.registrations])
        token = page.next_page_token
        if not token:
            return pages


@pytest.fixture
async def client(settings):
    c = aioredis.from_url(settings.redis_url, decode_responses=True)
    yield c
    await c.aclose()


@pytest.fixture
def projected(settings, unique):
    keyspace = Keyspace(prefix=f"test-pview-{unique}")
    store = ProjectionStore(redis.Redis.from_url(settings.redis_url), keyspace)
    script = scenario()
    store.apply([to_change(topic, raw, keyspace) for topic, raw in interleaved(script, random.Random(unique))])
    return keyspace, store, script


@pytest.mark.parametrize("seed", range(3))
async def test_split_order_missed_and_states_in_any_interleaving(settings, client, seed) -> None:
    keyspace = Keyspace(prefix=f"test-pview-seed-{seed}-{random.randrange(1 << 30):x}")
    store = ProjectionStore(redis.Redis.from_url(settings.redis_url), keyspace)
    store.apply([to_change(topic, raw, keyspace) for topic, raw in interleaved(scenario(), random.Random(seed))])
    reader = ParticipantViewReader(client, keyspace)

    upcoming = await reader.page("pa", when="upcoming")
    assert [e.registration_id for e in upcoming.registrations] == UPCOMING
    assert upcoming.next_page_token == ""
    past = await reader.page("pa", when="past")
    assert [e.registration_id for e in past.registrations] == PAST
    every = await reader.page("pa")  # "all": latest first
    assert [e.registration_id for e in every.registrations] == UPCOMING[::-1] + PAST

    by_id = {e.registration_id: e for e in every.registrations}
    assert {i for i, e in by_id.items() if e.missed} == {"a02", "a03"}
    assert (by_id["a02"].attendance, by_id["a03"].attendance, by_id["a01"].attendance) == (
        "no_show", "expected", "attended")
    assert (by_id["a04"].state, by_id["a04"].end_reason, by_id["a04"].missed) == ("cancelled", "cancelled", False)
    assert by_id["a08"].state == "cancelled" and not by_id["a08"].ended
    assert by_id["a05"].state == "confirmed" and not by_id["a05"].ended and not by_id["a05"].missed
    assert (by_id["a06"].state, by_id["a06"].expire_time) == ("held", (NOW + 2 * HOUR).isoformat()[:19] + ".000000Z")
    assert by_id["a05"].expire_time == ""
    assert (by_id["a07"].state, by_id["a07"].waitlist_position) == ("waitlisted", 2)

    a02 = by_id["a02"]
    assert (a02.session_id, a02.event_id, a02.event_title, a02.service_id, a02.service, a02.venue_id, a02.venue) \
        == ("noshow", "E-noshow", "Событие noshow", "laundry", "Стирка", "V1", "Цветной")
    assert a02.registered_by == "volunteer-pa" and a02.registered_at
    assert datetime.fromisoformat(a02.start_time) == SESSIONS["noshow"]
    assert datetime.fromisoformat(a02.end_time) == SESSIONS["noshow"] + HOUR
    # The session edit shows (joined when read); an unseen session shows the recorded times.
    assert datetime.fromisoformat(by_id["a09"].start_time) == MOVED_TO
    a10 = by_id["a10"]
    assert (a10.event_title, a10.venue, datetime.fromisoformat(a10.start_time)) == ("", "", SESSIONS["unseen"])

    m = every.metrics
    assert (m.registrations, m.cancellations, m.attended, m.no_shows, m.upcoming) == (10, 2, 1, 2, 4)

    other = await reader.page("pb")
    assert [e.registration_id for e in other.registrations] == ["b02", "b01"]
    assert [e.missed for e in other.registrations] == [False, True]


async def test_pagination_tokens(projected, client) -> None:
    keyspace, _, _ = projected
    reader = ParticipantViewReader(client, keyspace)
    assert await _all_pages(reader, "pa", "upcoming", 4) == [UPCOMING[:4], UPCOMING[4:]]
    assert await _all_pages(reader, "pa", "upcoming", 3) == [UPCOMING[:3], UPCOMING[3:]]
    assert await _all_pages(reader, "pa", "past", 3) == [PAST[:3], PAST[3:]]
    assert await _all_pages(reader, "pa", "all", 4) == [UPCOMING[:1:-1], UPCOMING[1::-1] + PAST[:2], PAST[2:]]
    assert await _all_pages(reader, "pa", "all", 1) == [[i] for i in UPCOMING[::-1] + PAST]
    assert await _all_pages(reader, "pa", "all", 500) == [UPCOMING[::-1] + PAST]  # capped at 200

    first = await reader.page("pa", when="upcoming", page_size=2)
    with pytest.raises(InvalidArgument) as bad:
        await reader.page("pa", when="past", page_size=2, page_token=first.next_page_token)
    assert bad.value.violations[0].field == "page_token"
    with pytest.raises(InvalidArgument) as bad:
        await reader.page("pb", when="upcoming", page_size=2, page_token=first.next_page_token)
    assert bad.value.violations[0].field == "page_token"
    for token in ("garbage!", "W10", "WyJ4IiwieSJd"):  # not base64 JSON; []; ["x","y"]
        with pytest.raises(InvalidArgument) as bad:
            await reader.page("pa", page_token=token)
        assert bad.value.violations[0].field == "page_token"
    with pytest.raises(InvalidArgument) as bad:
        await reader.page("pa", page_size=-1)
    assert bad.value.violations[0].field == "page_size"
    with pytest.raises(InvalidArgument) as bad:
        await reader.page("pa", when="soon")
    assert bad.value.violations[0].field == "when"


async def test_replaying_the_whole_topic_twice_changes_nothing(projected, settings, client) -> None:
    keyspace, store, script = projected
    reader = ParticipantViewReader(client, keyspace)

    async def snapshot():
        views = {}
        for participant in ("pa", "pb"):
            for when in ("upcoming", "past", "all"):
                views[participant, when] = await reader.page(participant, when=when)
        keys = sorted([k async for k in client.scan_iter(match=f"{keyspace.prefix}:pview:*")])
        values = {}
        for k in keys:
            values[k] = await (client.get(k) if await client.type(k) == "string" else client.zrange(k, 0, -1))
        return views, values

    before = await snapshot()
    for seed in range(2):  # the whole history again, twice, in other interleavings
        replay = interleaved(script, random.Random(seed + 100))
        assert store.apply([to_change(topic, raw, keyspace) for topic, raw in replay]) == 0
    assert await snapshot() == before


async def test_an_unknown_participant_has_an_empty_view(projected, client) -> None:
    keyspace, _, _ = projected
    view = await ParticipantViewReader(client, keyspace).page("nobody", when="upcoming")
    assert (view.registrations, view.next_page_token) == ([], "")
    m = view.metrics
    assert (m.registrations, m.cancellations, m.attended, m.no_shows, m.upcoming) == (0, 0, 0, 0, 0)


async def test_grpc_and_rest(projected, settings) -> None:
    from gateway.app import create_app
    from kernel.auth import issue_token

    keyspace, _, _ = projected
    async with reporting_server(settings.redis_url, keyspace) as server:
        app = create_app(settings.model_copy(update={"reporting_service_target": f"127.0.0.1:{server.port}"}))

        def bearer(*roles: str, participant_id: str | None = None) -> dict[str, str]:
            token = issue_token(settings.auth_secret, sub=participant_id or "rest-analyst", roles=list(roles),
                                participant_id=participant_id)
            return {"Authorization": f"Bearer {token}"}

        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            stub = reporting_service_pb2_grpc.ReportingServiceStub(channel)
            view = await stub.GetParticipantView(pb.GetParticipantViewRequest(
                name="participants/pa/view", when=pb.PARTICIPANT_VIEW_TIMING_PAST, page_size=3))
            assert [r.registration for r in view.registrations] == [f"registrations/{i}" for i in PAST[:3]]
            assert [r.missed for r in view.registrations] == [False, True, True]
            assert view.metrics.name == "participants/pa/metrics" and view.metrics.no_shows == 2
            assert view.registrations[0].venue == "venues/V1" and view.registrations[0].service == "services/laundry"
            assert view.registrations[0].start_time.ToDatetime(tzinfo=UTC) == SESSIONS["cxpast"]
            rest_of = await stub.GetParticipantView(pb.GetParticipantViewRequest(
                name="participants/pa/view", when=pb.PARTICIPANT_VIEW_TIMING_PAST, page_token=view.next_page_token))
            assert [r.registration for r in rest_of.registrations] == ["registrations/a01"]
            held = await stub.GetParticipantView(pb.GetParticipantViewRequest(
                name="participants/pa/view", when=pb.PARTICIPANT_VIEW_TIMING_UPCOMING, page_size=2))
            assert held.registrations[1].HasField("expire_time")
            assert not held.registrations[0].HasField("expire_time")
            unspecified = await stub.GetParticipantView(pb.GetParticipantViewRequest(name="participants/pa/view"))
            assert len(unspecified.registrations) == 10  # UNSPECIFIED is ALL
            for request, field in [
                    (pb.GetParticipantViewRequest(name="participants/pa/view", when=9), "when"),
                    (pb.GetParticipantViewRequest(name="participants/pa/metrics"), "name"),
                    (pb.GetParticipantViewRequest(name="participants/pa/view", page_size=-1), "page_size"),
                    (pb.GetParticipantViewRequest(name="participants/pa/view", page_token="x"), "page_token")]:
                with pytest.raises(grpc.aio.AioRpcError) as refused:
                    await stub.GetParticipantView(request)
                assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
                assert field in details(refused.value)[1]

        async with app.router.lifespan_context(app), httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://gateway", headers=bearer("analyst")) as rest:
            answer = await rest.get("/v1/participants/pa/view", params={"when": "upcoming", "page_size": 4})
            assert answer.status_code == 200, answer.text
            body = answer.json()
            assert [r["id"] for r in body["registrations"]] == UPCOMING[:4]
            assert body["metrics"]["upcoming"] == 4 and body["metrics"]["participant_id"] == "pa"
            first = body["registrations"][0]
            assert (first["session_id"], first["event_title"], first["venue"], first["state"], first["missed"]) == (
                "running", "Событие running", "Цветной", "confirmed", False)
            assert body["registrations"][1]["expires_at"] is not None
            assert body["registrations"][2]["waitlist_position"] == 2
            answer = await rest.get("/v1/participants/pa/view",
                                    params={"when": "upcoming", "page_token": body["next_page_token"]})
            assert [r["id"] for r in answer.json()["registrations"]] == UPCOMING[4:]
            assert answer.json()["next_page_token"] is None

            # A participant sees their own view, and only theirs.
            own = await rest.get("/v1/participants/pa/view", params={"when": "past"},
                                 headers=bearer("participant", participant_id="pa"))
            assert own.status_code == 200
            assert [(r["id"], r["missed"]) for r in own.json()["registrations"]] == [
                ("a04", False), ("a03", True), ("a02", True), ("a01", False)]
            assert own.json()["registrations"][0]["state"] == "cancelled"
            other = await rest.get("/v1/participants/pb/view", headers=bearer("participant", participant_id="pa"))
            assert other.status_code == 403 and other.json()["code"] == "forbidden"
            assert (await rest.get("/v1/participants/pb/view", headers=bearer("volunteer"))).status_code == 200

            bad = await rest.get("/v1/participants/pa/view", params={"when": "tomorrow"})
            assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "when"
            bad = await rest.get("/v1/participants/pa/view", params={"page_token": "nonsense"})
            assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "page_token"
            bad = await rest.get("/v1/participants/pa/view", params={"page_size": -1})
            assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "page_size"

            nobody = await rest.get("/v1/participants/nobody/view")
            assert nobody.status_code == 200
            assert nobody.json()["registrations"] == [] and nobody.json()["metrics"]["registrations"] == 0


async def test_chunked_scans_page_through_many_registrations(settings, client, unique) -> None:
    """More registrations than one round trip reads: the upcoming tab skips every past one."""
    keyspace = Keyspace(prefix=f"test-pview-many-{unique}")
    store = ProjectionStore(redis.Redis.from_url(settings.redis_url), keyspace)
    s = Script()
    for i in range(260):
        session_id, start = f"m{i:03d}", NOW + (i - 250) * DAY + HOUR  # 250 past, then 10 upcoming, daily
        s.schedule(session_id, start)
        s.register(f"x{i:03d}", "pc", session_id, C, start=start)
    store.apply([to_change(topic, raw, keyspace) for topic, raw in interleaved(s, random.Random(unique))])
    reader = ParticipantViewReader(client, keyspace)
    upcoming = await _all_pages(reader, "pc", "upcoming", 3)
    assert upcoming == [[f"x{i:03d}" for i in range(j, min(j + 3, 260))] for j in range(250, 260, 3)]
    past = await _all_pages(reader, "pc", "past", 0)  # default 50
    assert [len(p) for p in past] == [50] * 5
    assert [i for p in past for i in p] == [f"x{i:03d}" for i in range(249, -1, -1)]
    assert sum(e.missed for e in (await reader.page("pc", when="past", page_size=200)).registrations) == 200
    every = await _all_pages(reader, "pc", "all", 200)
    assert [len(p) for p in every] == [200, 60]


async def test_agrees_with_participant_service_on_real_bookings(
        settings, client, unique, event_deps, registration_stub, participant_stub) -> None:
    """Bookings through the real services, their outbox envelopes projected: the view lists
    what participant_service's ListRegistrations lists, in the same order, with the same
    states, expiry and missed flags."""
    occurrence = await create_occurrence(event_deps.engine, [
        SessionSpec("a", 3, starts_in=timedelta(days=3)), SessionSpec("b", 3, starts_in=timedelta(days=2)),
        SessionSpec("c", 3, starts_in=timedelta(days=4))])
    [person] = await new_participants(participant_stub, 1)
    made = [await registration_stub.CreateRegistration(register(occurrence.session("a"), person), metadata=ADMIN),
            await registration_stub.CreateRegistration(register(occurrence.session("b"), person, hold=True),
                                                       metadata=ADMIN),
            await registration_stub.CreateRegistration(register(occurrence.session("c"), person), metadata=ADMIN)]
    await registration_stub.CancelRegistration(rs.CancelRegistrationRequest(
        name=made[2].name, request_id=f"cancel-{unique}"), metadata=ADMIN)
    ids = [r.name.removeprefix("registrations/") for r in made]

    keyspace = Keyspace(prefix=f"test-pview-real-{unique}")
    store = ProjectionStore(redis.Redis.from_url(settings.redis_url), keyspace)
    async with event_deps.engine.connect() as connection:
        envelopes = [(row.topic, row.envelope) for row in await connection.execute(sa.text(
            "SELECT topic, envelope FROM participant_service.outbox WHERE message_key = ANY(:keys) ORDER BY id"),
            {"keys": ids})]
    assert len(envelopes) >= 4
    store.apply([to_change(topic, raw, keyspace) for topic, raw in envelopes])
    reader = ParticipantViewReader(client, keyspace)
    for timing, when in [(rs.REGISTRATION_TIMING_UPCOMING, "upcoming"), (rs.REGISTRATION_TIMING_PAST, "past"),
                         (rs.REGISTRATION_TIMING_UNSPECIFIED, "all")]:
        listed = await registration_stub.ListRegistrations(rs.ListRegistrationsRequest(
            parent=f"participants/{person}", timing=timing), metadata=ADMIN)
        view = await reader.page(person, when=when)
        assert [e.registration_id for e in view.registrations] == [
            r.name.removeprefix("registrations/") for r in listed.registrations], when
        for entry, r in zip(view.registrations, listed.registrations, strict=True):
            assert entry.state == rpb.RegistrationState.Name(r.state).removeprefix("REGISTRATION_STATE_").lower()
            assert entry.missed == r.missed
            assert entry.registered_by == r.registered_by
            assert datetime.fromisoformat(entry.start_time) == r.session_start_time.ToDatetime(tzinfo=UTC)
            if entry.state == "held":
                assert datetime.fromisoformat(entry.expire_time) == r.expire_time.ToDatetime(tzinfo=UTC)
    assert [e.state for e in (await reader.page(person, when="upcoming")).registrations] == [
        "held", "confirmed", "cancelled"]
