"""Registrations exports against real Redis: scripted envelopes projected into a test keyspace,
exported as CSV, XLSX and HTML, parsed back and compared with the rows expected; filters,
preview, templates, phone masking and the audit entry; replays change nothing."""

from __future__ import annotations

import csv
import io
import json
import random
from datetime import UTC, datetime, timedelta

import pytest
import redis
import redis.asyncio as aioredis
from openpyxl import load_workbook

from kernel import context, topics
from kernel.errors import InvalidArgument, PermissionDenied
from kernel.unit_of_work import OutboxMessage, build_envelope
from reporting_service import exports
from reporting_service.api.exports import ExportServicer
from reporting_service.exports import ExportQuery, Filters, RowSource
from reporting_service.keyspace import Keyspace
from reporting_service.projections import export_rows
from reporting_service.projections.registry import to_change
from reporting_service.projections.store import ProjectionStore
from turnout.event.v1 import catalog_events_pb2, session_pb2
from turnout.participant.v1 import (
    participant_events_pb2,
    participant_pb2,
    registration_events_pb2,
)
from turnout.participant.v1 import registration_pb2 as reg
from turnout.reporting.v1 import export_service_pb2 as pb

pytestmark = pytest.mark.integration

ROWS = 2000
BASE = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
SESSIONS = {
    # id: (event title, service id, service name, venue id, venue name, start (UTC), occurrence date)
    "s1": ("Помощь <дома> & \"семье\"", "laundry", "Стирка", "v1", "Центр", datetime(2026, 12, 1, 7, 0, tzinfo=UTC),
           "2026-12-01"),
    "s2": ("Душ", "shower", "Душ", "v2", "Север", datetime(2026, 12, 8, 8, 30, tzinfo=UTC), "2026-12-08"),
}


def _ts(moment: datetime):
    from google.protobuf import timestamp_pb2

    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(moment)
    return stamp


class Script:
    """Emits what event_service and participant_service would publish, with their versions."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, bytes]] = []
        self.versions: dict[str, int] = {}
        self.registrations: dict[str, reg.Registration] = {}
        self.people: dict[str, participant_pb2.Participant] = {}

    def _emit(self, topic: str, aggregate: str, aggregate_id: str, payload, version: int | None = None) -> None:
        key = f"{aggregate}/{aggregate_id}"
        self.versions[key] = version or self.versions.get(key, 0) + 1
        envelope = build_envelope(OutboxMessage(topic, aggregate, aggregate_id, self.versions[key], payload))
        self.messages.append((topic, envelope.SerializeToString()))

    def session(self, session_id: str, start: datetime | None = None, scheduled: bool = True) -> None:
        title, service_id, service, venue_id, venue, begin, day = SESSIONS[session_id]
        begin = start or begin
        message = session_pb2.Session(
            name=f"sessions/{session_id}", event="events/e-" + session_id, occurrence=f"occurrences/o-{session_id}",
            service=f"services/{service_id}", venue=f"venues/{venue_id}", start_time=_ts(begin),
            end_time=_ts(begin + timedelta(hours=1)), capacity=5000, event_title=title,
            service_display_name=service, venue_display_name=venue)
        if scheduled:
            payload = catalog_events_pb2.SessionScheduled(
                session=message, occurrence=session_pb2.Occurrence(name=f"occurrences/o-{session_id}", date=day))
        else:
            payload = catalog_events_pb2.SessionUpdated(session=message, changed_fields=["start_time"])
        self._emit(topics.CATALOG, "session", session_id, payload)

    def person(self, participant_id: str, first: str, last: str, phone: str, created: bool = True) -> None:
        participant = participant_pb2.Participant(name=f"participants/{participant_id}", first_name=first,
                                                  last_name=last, card_number=f"C-{participant_id}", phone=phone)
        self.people[participant_id] = participant
        payload_type = (participant_events_pb2.ParticipantCreated if created
                        else participant_events_pb2.ParticipantUpdated)
        self._emit(topics.PARTICIPANTS, "participant", participant_id, payload_type(participant=participant))

    def register(self, registration_id: str, participant_id: str, session_id: str, at: datetime,
                 comment: str = "") -> None:
        r = reg.Registration(name=f"registrations/{registration_id}", participant=f"participants/{participant_id}",
                             session=f"sessions/{session_id}", event=f"events/e-{session_id}",
                             state=reg.REGISTRATION_STATE_HELD, attendance=reg.ATTENDANCE_EXPECTED,
                             registered_by="volunteer-1", comment=comment, create_time=_ts(at))
        self.registrations[registration_id] = r
        self._emit(topics.PARTICIPANTS, "registration", registration_id,
                   registration_events_pb2.RegistrationCreated(registration=r))

    def change(self, registration_id: str, payload_type, **values) -> None:
        r = self.registrations[registration_id]
        for name, value in values.items():
            setattr(r, name, value)
        self._emit(topics.PARTICIPANTS, "registration", registration_id, payload_type(registration=r))


def expected_row(s: Script, r: reg.Registration, registered_at: datetime, session_time: str) -> dict[str, str]:
    """The export row of every field the script's registration `r` should give."""
    title, _, service, _, venue, _, day = SESSIONS[r.session.split("/")[1]]
    person = s.people[r.participant.split("/")[1]]
    at = registered_at.astimezone(exports.TIME_ZONE)
    return {
        "event_title": title, "service": service, "session_date": day, "session_time": session_time,
        "venue": venue, "participant_name": f"{person.last_name} {person.first_name}",
        "card_number": person.card_number, "phone": person.phone,
        "attendance": reg.Attendance.Name(r.attendance).removeprefix("ATTENDANCE_").lower(),
        "state": reg.RegistrationState.Name(r.state).removeprefix("REGISTRATION_STATE_").lower(),
        "registered_at": f"{at:%Y-%m-%d %H:%M:%S}", "registered_by": "volunteer-1", "comment": r.comment,
    }


def scenario() -> tuple[Script, list[dict[str, str]]]:
    """The script and the rows an export of every field should give, in registered_at order."""
    s = Script()
    s.session("s1")
    s.session("s2")
    s.session("s1", start=datetime(2026, 12, 1, 10, 0, tzinfo=UTC), scheduled=False)  # moved to 13:00 Moscow
    people = 50
    for p in range(people):
        s.person(f"p{p}", f"Имя{p}", f"Фамилия{p}", f"+7 912 000-00-{p:02d}")
    s.person("p0", "Анна", "Переименованная", "+7 912 000-00-00", created=False)  # renamed after registering
    for i in range(ROWS):
        s.register(f"r{i:05d}", f"p{i % people}", "s1" if i % 3 else "s2", BASE + timedelta(minutes=i),
                   comment="<b>срочно</b>, \"да\"" if i == 7 else "")
    for i in range(0, ROWS, 5):
        s.change(f"r{i:05d}", registration_events_pb2.RegistrationConfirmed, state=reg.REGISTRATION_STATE_CONFIRMED)
    for i in range(0, ROWS, 10):
        s.change(f"r{i:05d}", registration_events_pb2.AttendanceMarked, attendance=reg.ATTENDANCE_ATTENDED)
    for i in range(3, ROWS, 50):
        s.change(f"r{i:05d}", registration_events_pb2.RegistrationCancelled, state=reg.REGISTRATION_STATE_CANCELLED)

    expected = [expected_row(s, s.registrations[f"r{i:05d}"], BASE + timedelta(minutes=i),
                             "13:00–14:00" if i % 3 else "11:30–12:30") for i in range(ROWS)]
    return s, expected


@pytest.fixture(scope="module")
def projected(settings):
    """The scenario projected once, in an order Kafka could deliver (per aggregate in order),
    then replayed whole."""
    keyspace = Keyspace(prefix=f"test-export-{random.randrange(1 << 30):x}")
    store = ProjectionStore(redis.Redis.from_url(settings.redis_url), keyspace)
    script, expected = scenario()
    store.apply([to_change(topic, raw, keyspace) for topic, raw in script.messages])
    return keyspace, store, script, expected


@pytest.fixture
async def client(settings):
    c = aioredis.from_url(settings.redis_url, decode_responses=True)
    yield c
    await c.aclose()


async def _collect(source: RowSource, query: ExportQuery, fmt: str) -> bytes:
    return b"".join([chunk async for chunk in exports.export(source, query, fmt)])


def _unmasked(fields=exports.DEFAULT_FIELDS, **filters) -> ExportQuery:
    return ExportQuery(fields=tuple(fields), filters=Filters(**filters), mask_phones=False)


async def test_csv_round_trip_with_a_bom_and_every_row(projected, client) -> None:
    keyspace, _, _, expected = projected
    data = await _collect(RowSource(client, keyspace, page=300), _unmasked(), "csv")
    assert data.startswith("\ufeff".encode())
    reader = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert reader[0] == [exports.FIELDS[f] for f in exports.DEFAULT_FIELDS]
    assert [dict(zip(exports.DEFAULT_FIELDS, row, strict=True)) for row in reader[1:]] == expected


async def test_xlsx_round_trip(projected, client) -> None:
    keyspace, _, _, expected = projected
    fields = ("participant_name", "service", "session_date", "comment")
    data = await _collect(RowSource(client, keyspace), _unmasked(fields), "xlsx")
    sheet = load_workbook(io.BytesIO(data), read_only=True).active
    rows = [[cell or "" for cell in row] for row in sheet.iter_rows(values_only=True)]
    assert rows[0] == [exports.FIELDS[f] for f in fields]
    assert rows[1:] == [[row[f] for f in fields] for row in expected]


async def test_html_escapes_values(projected, client) -> None:
    keyspace, _, _, expected = projected
    data = (await _collect(RowSource(client, keyspace), _unmasked(), "html")).decode()
    assert "Помощь &lt;дома&gt; &amp; &quot;семье&quot;" in data
    assert "&lt;b&gt;срочно&lt;/b&gt;" in data and "<b>срочно" not in data
    assert data.count("<tr>") == len(expected) + 1
    assert data.rstrip().endswith("</html>")


async def test_filters_and_preview(projected, client) -> None:
    keyspace, _, _, expected = projected
    source = RowSource(client, keyspace, page=128)

    async def rows(**filters) -> list[dict[str, str]]:
        return [row async for row in source.rows(_unmasked(**filters))]

    assert await rows(service_id="shower") == [r for r in expected if r["service"] == "Душ"]
    assert await rows(venue_id="v1") == [r for r in expected if r["venue"] == "Центр"]
    assert await rows(attendance="attended") == [r for r in expected if r["attendance"] == "attended"]
    assert await rows(states=("cancelled",)) == [r for r in expected if r["state"] == "cancelled"]
    assert await rows(event_from="2026-12-02") == [r for r in expected if r["session_date"] == "2026-12-08"]
    assert await rows(event_to="2026-12-01") == [r for r in expected if r["session_date"] == "2026-12-01"]
    window = await rows(registered_from=BASE + timedelta(minutes=100), registered_to=BASE + timedelta(minutes=350))
    assert window == expected[100:350]
    both = await rows(service_id="laundry", attendance="attended", registered_from=BASE + timedelta(minutes=1000))
    assert both == [r for r in expected[1000:] if r["service"] == "Стирка" and r["attendance"] == "attended"]
    preview = [row async for row in source.rows(ExportQuery(max_rows=5, mask_phones=False))]
    assert preview == expected[:5]


async def test_a_rename_shows_in_later_exports(projected, client) -> None:
    keyspace, _, _, expected = projected
    [first] = [row async for row in RowSource(client, keyspace).rows(ExportQuery(max_rows=1, mask_phones=False))]
    assert first["participant_name"] == "Переименованная Анна" == expected[0]["participant_name"]


async def test_replaying_everything_changes_nothing(projected, client) -> None:
    keyspace, store, script, expected = projected
    before = await _collect(RowSource(client, keyspace), _unmasked(), "csv")
    assert store.apply([to_change(topic, raw, keyspace) for topic, raw in script.messages]) == 0
    assert await _collect(RowSource(client, keyspace), _unmasked(), "csv") == before
    rows = list(csv.reader(io.StringIO(before.decode("utf-8-sig"))))[1:]
    assert [dict(zip(exports.DEFAULT_FIELDS, row, strict=True)) for row in rows] == expected


def test_phone_masking() -> None:
    assert exports.mask_phone("+7 912 345-67-89") == "+7 *** ***-**-89"
    assert exports.mask_phone("89123456767") == "+8 *** ***-**-67"
    assert exports.mask_phone("") == ""


def _bind(*roles: str):
    return context.bind(context.RequestContext(request_id="req-1", actor="analyst-1", roles=frozenset(roles)))


async def test_servicer_masks_phones_for_analysts_audits_and_uses_templates(projected, client) -> None:
    keyspace, _, _, expected = projected
    servicer = ExportServicer(client, keyspace)
    token = _bind("analyst")
    try:
        await servicer.CreateExportTemplate(pb.CreateExportTemplateRequest(
            template_id="laundry-attended", template=pb.ExportTemplate(
                fields=["participant_name", "phone", "attendance"],
                filter=pb.RegistrationFilter(service_id="laundry", attendance="attended"))), None)
        listed = await servicer.ListExportTemplates(pb.ListExportTemplatesRequest(), None)
        assert [t.name for t in listed.templates] == ["exportTemplates/laundry-attended"]
        chunks = [c async for c in servicer.ExportRegistrations(pb.ExportRegistrationsRequest(
            format=pb.EXPORT_FORMAT_CSV, template="exportTemplates/laundry-attended"), None)]
        assert chunks[0].content_type.startswith("text/csv") and chunks[0].file_name.endswith(".csv")
        rows = list(csv.reader(io.StringIO(b"".join(c.data for c in chunks).decode("utf-8-sig"))))
        wanted = [r for r in expected if r["service"] == "Стирка" and r["attendance"] == "attended"]
        assert chunks[-1].rows == len(wanted) == len(rows) - 1
        assert rows[1] == [wanted[0]["participant_name"], exports.mask_phone(wanted[0]["phone"]), "attended"]
        preview = await servicer.PreviewRegistrations(pb.PreviewRegistrationsRequest(
            template="exportTemplates/laundry-attended", max_rows=3), None)
        assert [list(r.values) for r in preview.rows] == rows[1:4]
        with pytest.raises(InvalidArgument) as bad:
            await servicer.PreviewRegistrations(pb.PreviewRegistrationsRequest(fields=["nope"]), None)
        assert bad.value.violations[0].field == "fields[0]"
        await servicer.DeleteExportTemplate(pb.DeleteExportTemplateRequest(name="exportTemplates/laundry-attended"),
                                            None)
    finally:
        context.reset(token)
    audited = await client.zcard(keyspace.audit_all)
    assert audited >= 2
    token = _bind("admin")
    try:
        preview = await servicer.PreviewRegistrations(pb.PreviewRegistrationsRequest(fields=["phone"], max_rows=1),
                                                      None)
        assert list(preview.rows[0].values) == [expected[0]["phone"]]
    finally:
        context.reset(token)
    token = _bind("volunteer")
    try:
        with pytest.raises(PermissionDenied):
            await servicer.PreviewRegistrations(pb.PreviewRegistrationsRequest(), None)
    finally:
        context.reset(token)


async def test_rest_streams_every_format_with_problems_naming_the_field(projected, settings) -> None:
    import httpx

    from gateway.app import create_app
    from kernel.auth import issue_token
    from kernel.grpc_server import create_server
    from turnout.reporting.v1 import export_service_pb2_grpc

    keyspace, _, _, expected = projected
    client = aioredis.from_url(settings.redis_url, decode_responses=True)
    servicer = ExportServicer(client, keyspace)
    server = create_server("127.0.0.1", 0, [
        lambda s: export_service_pb2_grpc.add_ExportServiceServicer_to_server(servicer, s)],
        ["turnout.reporting.v1.ExportService"])
    await server.start()
    app = create_app(settings.model_copy(update={"reporting_service_target": f"127.0.0.1:{server.port}"}))

    def bearer(*roles: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {issue_token(settings.auth_secret, sub='rest-analyst', roles=list(roles))}"}

    try:
        async with app.router.lifespan_context(app), httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://gateway", headers=bearer("analyst")) as rest:
                answer = await rest.get("/v1/exports/registrations", params={
                    "format": "csv", "fields": "participant_name,phone,service", "service_id": "shower",
                    "registered_to": "2026-11-01T10:00:00Z"})
                assert answer.status_code == 200, answer.text
                assert answer.headers["content-type"].startswith("text/csv")
                assert "attachment" in answer.headers["content-disposition"]
                rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
                wanted = [r for r in expected[:60] if r["service"] == "Душ"]
                assert rows[1:] == [[r["participant_name"], exports.mask_phone(r["phone"]), "Душ"] for r in wanted]

                answer = await rest.get("/v1/exports/registrations", params={"format": "xlsx", "preview": 3})
                assert answer.status_code == 200
                assert len(list(load_workbook(io.BytesIO(answer.content)).active.iter_rows())) == 4
                answer = await rest.get("/v1/exports/registrations", params={"format": "html", "preview": 2})
                assert answer.headers["content-type"].startswith("text/html") and answer.text.count("<tr>") == 3

                created = await rest.post("/v1/exports/templates", json={
                    "template_id": "short", "fields": ["card_number", "attendance"],
                    "filter": {"attendance": "no_show"}})
                assert created.status_code == 201, created.text
                updated = await rest.put("/v1/exports/templates/short", json={
                    "fields": ["card_number", "attendance"], "filter": {"attendance": "attended"}})
                assert updated.json()["filter"]["attendance"] == "attended"
                misspelt = await rest.put("/v1/exports/templates/short", json={
                    "fields": ["card_number"], "filter": {"atendance": "no_show"}})
                assert misspelt.status_code == 422, misspelt.text
                assert "filter.atendance" in {e["field"] for e in misspelt.json()["errors"]}
                answer = await rest.get("/v1/exports/registrations", params={"template": "short", "preview": 2})
                assert answer.content.decode("utf-8-sig").splitlines() == [
                    "Card,Attendance", *[f"{r['card_number']},attended" for r in expected if
                                         r["attendance"] == "attended"][:2]]
                listed = await rest.get("/v1/exports/templates")
                assert [t["template_id"] for t in listed.json()] == ["short"]
                assert (await rest.delete("/v1/exports/templates/short")).status_code == 204
                assert (await rest.get("/v1/exports/templates/short")).status_code == 404

                bad = await rest.get("/v1/exports/registrations", params={"fields": "phone,shoe_size"})
                assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "fields"
                bad = await rest.get("/v1/exports/registrations", params={"format": "pdf"})
                assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "format"
                bad = await rest.get("/v1/exports/registrations", params={"attendance": "maybe"})
                assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "attendance"
                bad = await rest.get("/v1/exports/registrations", params={"registered_from": "yesterday"})
                assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "registered_from"
                # Was a 500 (int32 overflow building the request); found by test_schemathesis.py.
                bad = await rest.get("/v1/exports/registrations", params={"preview": 2**31})
                assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "preview"
                forbidden = await rest.get("/v1/exports/registrations", headers=bearer("volunteer"))
                assert forbidden.status_code == 403
                preview = await rest.get("/v1/exports/registrations:preview",
                                         params={"fields": "phone", "rows": 1}, headers=bearer("admin"))
                assert preview.json() == {"columns": ["phone"], "rows": [[expected[0]["phone"]]]}
    finally:
        await server.stop(0)
        await client.aclose()


async def test_registrations_projected_during_an_export_neither_repeat_nor_shift_rows(settings, client,
                                                                                    unique) -> None:
    keyspace = Keyspace(prefix=f"test-export-live-{unique}")
    store = ProjectionStore(redis.Redis.from_url(settings.redis_url), keyspace)
    script = Script()
    script.session("s1")
    script.person("p1", "Имя", "Фамилия", "+79120000001")
    for i in range(250):
        script.register(f"r{i:04d}", "p1", "s1", BASE + timedelta(minutes=2 * i))
    store.apply([to_change(topic, raw, keyspace) for topic, raw in script.messages])
    seen = []
    async for row in RowSource(client, keyspace, page=40).rows(ExportQuery(mask_phones=False)):
        seen.append(row["registered_at"])
        if len(seen) == 60:  # an early and a late registration arrive mid-export
            script.messages.clear()
            script.register("early", "p1", "s1", BASE - timedelta(days=1))
            script.register("late", "p1", "s1", BASE + timedelta(days=30))
            store.apply([to_change(topic, raw, keyspace) for topic, raw in script.messages])
    assert len(seen) == len(set(seen)) == 251  # every original row once, plus the late one
    assert seen == sorted(seen)


async def test_a_generation_projected_before_the_person_strings_and_row_arrays_still_exports(projected, client,
                                                                                             settings) -> None:
    """Older generations hold registrations as JSON objects and no export person strings:
    the reader takes the objects and joins the participants' profile hashes instead."""
    keyspace, _, _, expected = projected
    old = Keyspace(prefix=f"{keyspace.prefix}-old")
    sync = redis.Redis.from_url(settings.redis_url, decode_responses=True)
    try:
        pipe = sync.pipeline(transaction=False)
        for key in sync.scan_iter(f"{keyspace.prefix}:*", count=1000):
            suffix = key.removeprefix(keyspace.prefix)
            if suffix.startswith(":export:person:"):
                continue
            kind = sync.type(key)
            if suffix.startswith(":export:registration:"):
                values = json.loads(sync.get(key))
                as_object = dict(zip([*export_rows.REGISTRATION_FIELDS, "update_time"], values, strict=True))
                pipe.set(old.prefix + suffix, json.dumps(as_object, ensure_ascii=False))
            elif kind == "hash":
                pipe.hset(old.prefix + suffix, mapping=sync.hgetall(key))
            elif kind == "zset":
                pipe.zadd(old.prefix + suffix, dict(sync.zrange(key, 0, -1, withscores=True)))
        pipe.execute()
        assert not list(sync.scan_iter(f"{old.prefix}:export:person:*"))
        data = await _collect(RowSource(client, old, page=300), _unmasked(), "csv")
        rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))[1:]
        assert [dict(zip(exports.DEFAULT_FIELDS, row, strict=True)) for row in rows] == expected
        assert [row async for row in RowSource(client, old).rows(_unmasked(attendance="attended"))] == [
            r for r in expected if r["attendance"] == "attended"]
    finally:
        for key in sync.scan_iter(f"{old.prefix}:*", count=1000):
            sync.delete(key)
        sync.close()


async def test_writers_keep_awkward_values() -> None:
    """Commas, quotes, line breaks, markup, leading spaces and empty values come back as they
    went in (XLSX leaves out the control characters XML cannot hold, and reads \r\n as \n)."""
    awkward = ["a,b", 'say "hi"', "two\nlines", "cr\r\nlf", "<b>&amp;</b>", "  padded ", "", "Дебаты, серия 3",
               "bell\x07", "'single'", "x", "y", "z"]
    fields = exports.DEFAULT_FIELDS

    async def pages(fmt: str):
        row = tuple(awkward)
        yield [row, row]

    async def collect(fmt: str, selected=fields) -> bytes:
        counter = [0]
        return b"".join([c async for c in exports.WRITERS[fmt](exports.chosen(pages(fmt), selected, counter),
                                                              selected)])

    rows = list(csv.reader(io.StringIO((await collect("csv")).decode("utf-8-sig"), newline="")))
    assert rows[1:] == [awkward, awkward]
    sheet = load_workbook(io.BytesIO(await collect("xlsx"))).active
    values = [[cell or "" for cell in row] for row in sheet.iter_rows(values_only=True)]
    # openpyxl writes \r\n as is and XML reads it back as \n (Excel shows a line break either way).
    assert values[1:] == [[v.replace("\x07", "").replace("\r\n", "\n") for v in awkward]] * 2
    text = (await collect("html")).decode()
    assert "<td>&lt;b&gt;&amp;amp;&lt;/b&gt;</td>" in text and text.count("<tr>") == 3
    # One field, empty: csv.writer writes "" so the row is not taken for a blank line.
    alone = list(csv.reader(io.StringIO((await collect("csv", ("card_number",))).decode("utf-8-sig"))))
    assert alone == [["Card"], [""], [""]]
