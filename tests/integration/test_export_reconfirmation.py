"""The opt-in `reconfirmation` export field against real Redis: registrations asked, answered,
declined, settled at the deadline or never asked, projected with test_exports' Script and
exported as CSV and XLSX (and through the servicer's templates and preview); the default
export keeps its 13 columns; rows stored before the field existed export "" for it."""

from __future__ import annotations

import csv
import io
import json
import random
from datetime import timedelta

import pytest
import redis
import redis.asyncio as aioredis
from openpyxl import load_workbook
from test_exports import BASE, Script

from kernel import context
from kernel.errors import InvalidArgument
from reporting_service import exports
from reporting_service.api.exports import ExportServicer
from reporting_service.exports import ExportQuery, Filters, RowSource
from reporting_service.keyspace import Keyspace
from reporting_service.projections import export_rows
from reporting_service.projections.registry import to_change
from reporting_service.projections.store import ProjectionStore
from turnout.participant.v1 import registration_events_pb2 as events
from turnout.participant.v1 import registration_pb2 as reg
from turnout.reporting.v1 import export_service_pb2 as pb

pytestmark = pytest.mark.integration

# The default export's columns, as they were before reconfirmations: consumers rely on them.
DEFAULT = ("event_title", "service", "session_date", "session_time", "venue", "participant_name", "card_number",
           "phone", "attendance", "state", "registered_at", "registered_by", "comment")
# Registration id -> the reconfirmation word its export row should show.
WORDS = {"r-never": "", "r-requested": "requested", "r-confirmed": "confirmed", "r-declined": "declined",
         "r-kept": "unanswered_kept", "r-released": "unanswered_released", "r-never-2": ""}
ORDER = list(WORDS)  # registered a minute apart in this order: the export's row order


def scenario() -> Script:
    """Every reconfirmation path, through the events participant_service publishes for it."""
    s = Script()
    s.session("s1")
    s.person("p1", "Анна", "Иванова", "+79120000001")
    for i, registration_id in enumerate(ORDER):
        s.register(registration_id, "p1", "s1", BASE + timedelta(minutes=i))
        s.change(registration_id, events.RegistrationConfirmed, state=reg.REGISTRATION_STATE_CONFIRMED)
    asked = [r for r in ORDER if WORDS[r]]
    for registration_id in asked:  # the occurrence enters confirming
        s.change(registration_id, events.RegistrationReconfirmationChanged,
                 reconfirmation=reg.RECONFIRMATION_REQUESTED)
    s.change("r-confirmed", events.RegistrationReconfirmationChanged, reconfirmation=reg.RECONFIRMATION_CONFIRMED)
    s.change("r-declined", events.RegistrationCancelled, state=reg.REGISTRATION_STATE_CANCELLED,
             reconfirmation=reg.RECONFIRMATION_DECLINED, end_reason=reg.END_REASON_RECONFIRMATION_DECLINED)
    s.change("r-kept", events.RegistrationReconfirmationChanged,
             reconfirmation=reg.RECONFIRMATION_UNANSWERED_KEPT)
    s.change("r-released", events.RegistrationCancelled, state=reg.REGISTRATION_STATE_CANCELLED,
             reconfirmation=reg.RECONFIRMATION_UNANSWERED_RELEASED, end_reason=reg.END_REASON_NOT_RECONFIRMED)
    # A later event of another kind carries the reconfirmation on: the confirmed one attends.
    s.change("r-confirmed", events.AttendanceMarked, attendance=reg.ATTENDANCE_ATTENDED)
    return s


@pytest.fixture(scope="module")
def projected(settings):
    keyspace = Keyspace(prefix=f"test-export-reconf-{random.randrange(1 << 30):x}")
    sync = redis.Redis.from_url(settings.redis_url, decode_responses=True)
    store = ProjectionStore(redis.Redis.from_url(settings.redis_url), keyspace)
    script = scenario()
    store.apply([to_change(topic, raw, keyspace) for topic, raw in script.messages])
    yield keyspace, store, script
    for key in sync.scan_iter(f"{keyspace.prefix}*", count=1000):
        sync.delete(key)
    sync.close()


@pytest.fixture
async def client(settings):
    c = aioredis.from_url(settings.redis_url, decode_responses=True)
    yield c
    await c.aclose()


def _query(fields=DEFAULT) -> ExportQuery:
    return ExportQuery(fields=tuple(fields), filters=Filters(), mask_phones=False)


async def _csv(source: RowSource, query: ExportQuery) -> list[list[str]]:
    data = b"".join([chunk async for chunk in exports.export(source, query, "csv")])
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


async def _xlsx(source: RowSource, query: ExportQuery) -> list[list[str]]:
    data = b"".join([chunk async for chunk in exports.export(source, query, "xlsx")])
    sheet = load_workbook(io.BytesIO(data), read_only=True).active
    return [["" if cell is None else str(cell) for cell in row] for row in sheet.iter_rows(values_only=True)]


def test_the_field_is_known_and_opt_in() -> None:
    assert exports.FIELDS["reconfirmation"] == "Reconfirmation"
    assert exports.DEFAULT_FIELDS == DEFAULT
    assert ExportQuery().fields == DEFAULT
    assert exports.validate_fields([]) == DEFAULT
    assert exports.validate_fields(["participant_name", "reconfirmation"]) == ("participant_name", "reconfirmation")
    with pytest.raises(InvalidArgument):
        exports.validate_fields(["reconfirmation", "reconfirmation"])


async def test_csv_and_xlsx_show_the_reconfirmation_word(projected, client) -> None:
    keyspace, _, _ = projected
    fields = ("card_number", "state", "reconfirmation")
    for read in (_csv, _xlsx):
        rows = await read(RowSource(client, keyspace, page=3), _query(fields))
        assert rows[0] == ["Card", "State", "Reconfirmation"]
        assert [row[2] for row in rows[1:]] == [WORDS[r] for r in ORDER], read.__name__
        assert [row[1] for row in rows[1:]] == [
            "cancelled" if r in ("r-declined", "r-released") else "confirmed" for r in ORDER]


async def test_every_field_with_the_reconfirmation_last_or_first(projected, client) -> None:
    """All 14 columns (the opt-in one anywhere) agree with the default export's 13."""
    keyspace, _, _ = projected
    source = RowSource(client, keyspace, page=4)
    default = await _csv(source, _query())
    everything = await _csv(source, _query((*DEFAULT, "reconfirmation")))
    first = await _csv(source, _query(("reconfirmation", *DEFAULT)))
    assert everything[0] == [*default[0], "Reconfirmation"] and first[0] == ["Reconfirmation", *default[0]]
    assert [row[:-1] for row in everything[1:]] == default[1:] == [row[1:] for row in first[1:]]
    assert [row[-1] for row in everything[1:]] == [row[0] for row in first[1:]] == [WORDS[r] for r in ORDER]
    alone = await _csv(source, _query(("reconfirmation",)))
    assert alone == [["Reconfirmation"], *[[WORDS[r]] for r in ORDER]]


async def test_the_default_export_has_no_reconfirmation_column(projected, client) -> None:
    keyspace, _, _ = projected
    source = RowSource(client, keyspace)
    for read in (_csv, _xlsx):
        rows = await read(source, ExportQuery(mask_phones=False))
        assert rows[0] == [exports.FIELDS[f] for f in DEFAULT] and "Reconfirmation" not in rows[0]
        assert {len(row) for row in rows} == {13}
    rows = [row async for row in source.rows(ExportQuery(mask_phones=False))]
    assert len(rows) == len(ORDER) and all(tuple(row) == DEFAULT for row in rows)


async def test_stored_rows_end_at_update_time_unless_asked(projected, client) -> None:
    """Existing positions keep their meaning; the word is appended after update_time."""
    keyspace, _, script = projected
    for registration_id, word in WORDS.items():
        stored = json.loads(await client.get(export_rows.registration_key(keyspace, registration_id)))
        r = script.registrations[registration_id]
        assert stored[:len(export_rows.REGISTRATION_FIELDS)] == [
            "p1", "s1", "e-s1", reg.RegistrationState.Name(r.state).removeprefix("REGISTRATION_STATE_").lower(),
            reg.Attendance.Name(r.attendance).removeprefix("ATTENDANCE_").lower(),
            r.create_time.ToDatetime().isoformat(timespec="microseconds") + "Z", "volunteer-1", ""]
        assert stored[export_rows.RECONFIRMATION_AT:] == ([word] if word else [])
        assert len(stored) == export_rows.RECONFIRMATION_AT + bool(word)


async def test_rows_stored_before_the_field_export_empty(projected, client, settings) -> None:
    """A generation projected before reconfirmations were exported (arrays ending at
    update_time) or before the arrays (JSON objects) exports "" until a rebuild."""
    keyspace, _, _ = projected
    sync = redis.Redis.from_url(settings.redis_url, decode_responses=True)
    olds = [Keyspace(prefix=f"{keyspace.prefix}-old-array"), Keyspace(prefix=f"{keyspace.prefix}-old-object")]
    try:
        for old in olds:
            pipe = sync.pipeline(transaction=False)
            for key in sync.scan_iter(f"{keyspace.prefix}:export:*", count=1000):
                suffix = key.removeprefix(keyspace.prefix)
                if suffix.startswith(":export:registration:"):
                    values = json.loads(sync.get(key))[:export_rows.RECONFIRMATION_AT]  # as projected before
                    if old is olds[1]:
                        values = dict(zip([*export_rows.REGISTRATION_FIELDS, "update_time"], values, strict=True))
                    pipe.set(old.prefix + suffix, json.dumps(values, ensure_ascii=False))
                elif sync.type(key) == "hash":
                    pipe.hset(old.prefix + suffix, mapping=sync.hgetall(key))
                elif sync.type(key) == "zset":
                    pipe.zadd(old.prefix + suffix, dict(sync.zrange(key, 0, -1, withscores=True)))
                else:
                    pipe.set(old.prefix + suffix, sync.get(key))
            pipe.execute()
            source = RowSource(client, old, page=2)
            for read in (_csv, _xlsx):
                rows = await read(source, _query(("card_number", "state", "reconfirmation")))
                assert rows[0] == ["Card", "State", "Reconfirmation"]
                assert [row[2] for row in rows[1:]] == [""] * len(ORDER), (old.prefix, read.__name__)
                assert [row[0] for row in rows[1:]] == ["C-p1"] * len(ORDER)
        # Mixed within one page: one row rewritten by the current projection shows its word.
        current = export_rows.registration_key(keyspace, "r-confirmed")
        sync.set(export_rows.registration_key(olds[0], "r-confirmed"), sync.get(current))
        rows = await _csv(RowSource(client, olds[0]), _query(("reconfirmation", "state")))
        assert [row[0] for row in rows[1:]] == ["confirmed" if r == "r-confirmed" else "" for r in ORDER]
    finally:
        for old in olds:
            for key in sync.scan_iter(f"{old.prefix}:*", count=1000):
                sync.delete(key)
        sync.close()


async def test_replaying_changes_nothing(projected, client) -> None:
    keyspace, store, script = projected
    query = _query((*DEFAULT, "reconfirmation"))
    before = await _csv(RowSource(client, keyspace), query)
    assert store.apply([to_change(topic, raw, keyspace) for topic, raw in script.messages]) == 0
    assert await _csv(RowSource(client, keyspace), query) == before


async def test_templates_and_preview_take_the_field(projected, client) -> None:
    keyspace, _, _ = projected
    servicer = ExportServicer(client, keyspace)
    token = context.bind(context.RequestContext(request_id="req-1", actor="analyst-1", roles=frozenset({"analyst"})))
    try:
        created = await servicer.CreateExportTemplate(pb.CreateExportTemplateRequest(
            template_id="coming", template=pb.ExportTemplate(
                fields=["participant_name", "reconfirmation"],
                filter=pb.RegistrationFilter(states=["confirmed"]))), None)
        assert list(created.fields) == ["participant_name", "reconfirmation"]
        fetched = await servicer.GetExportTemplate(pb.GetExportTemplateRequest(name="exportTemplates/coming"), None)
        assert list(fetched.fields) == ["participant_name", "reconfirmation"]
        chunks = [c async for c in servicer.ExportRegistrations(pb.ExportRegistrationsRequest(
            format=pb.EXPORT_FORMAT_CSV, template="exportTemplates/coming"), None)]
        rows = list(csv.reader(io.StringIO(b"".join(c.data for c in chunks).decode("utf-8-sig"))))
        confirmed = [r for r in ORDER if r not in ("r-declined", "r-released")]
        assert rows == [["Participant", "Reconfirmation"], *[["Иванова Анна", WORDS[r]] for r in confirmed]]
        preview = await servicer.PreviewRegistrations(pb.PreviewRegistrationsRequest(
            template="exportTemplates/coming", max_rows=3), None)
        assert list(preview.columns) == ["participant_name", "reconfirmation"]
        assert [list(r.values) for r in preview.rows] == rows[1:4]
        updated = await servicer.UpdateExportTemplate(pb.UpdateExportTemplateRequest(template=pb.ExportTemplate(
            name="exportTemplates/coming", fields=["reconfirmation"])), None)
        assert list(updated.fields) == ["reconfirmation"]
        default = await servicer.PreviewRegistrations(pb.PreviewRegistrationsRequest(max_rows=1), None)
        assert tuple(default.columns) == DEFAULT
        await servicer.DeleteExportTemplate(pb.DeleteExportTemplateRequest(name="exportTemplates/coming"), None)
    finally:
        context.reset(token)


async def test_rest_fields_parameter_takes_the_field(projected, settings) -> None:
    import httpx

    from gateway.app import create_app
    from kernel.auth import issue_token
    from kernel.grpc_server import create_server
    from turnout.reporting.v1 import export_service_pb2_grpc

    keyspace, _, _ = projected
    client = aioredis.from_url(settings.redis_url, decode_responses=True)
    servicer = ExportServicer(client, keyspace)
    server = create_server("127.0.0.1", 0, [
        lambda s: export_service_pb2_grpc.add_ExportServiceServicer_to_server(servicer, s)],
        ["turnout.reporting.v1.ExportService"])
    await server.start()
    app = create_app(settings.model_copy(update={"reporting_service_target": f"127.0.0.1:{server.port}"}))
    token = issue_token(settings.auth_secret, sub="rest-analyst", roles=["analyst"])
    try:
        async with app.router.lifespan_context(app), httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://gateway",
                headers={"Authorization": f"Bearer {token}"}) as rest:
            answer = await rest.get("/v1/exports/registrations",
                                    params={"format": "csv", "fields": "card_number,reconfirmation"})
            assert answer.status_code == 200, answer.text
            assert list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig")))) == [
                ["Card", "Reconfirmation"], *[["C-p1", WORDS[r]] for r in ORDER]]
            answer = await rest.get("/v1/exports/registrations", params={"format": "csv"})
            assert answer.content.decode("utf-8-sig").splitlines()[0] == ",".join(
                exports.FIELDS[f] for f in DEFAULT)
            preview = await rest.get("/v1/exports/registrations:preview",
                                     params={"fields": "reconfirmation", "rows": 3})
            assert preview.json() == {"columns": ["reconfirmation"], "rows": [[WORDS[r]] for r in ORDER[:3]]}
            created = await rest.post("/v1/exports/templates", json={
                "template_id": "coming-rest", "fields": ["participant_name", "reconfirmation"]})
            assert created.status_code == 201, created.text
            assert created.json()["fields"] == ["participant_name", "reconfirmation"]
            assert (await rest.delete("/v1/exports/templates/coming-rest")).status_code == 204
    finally:
        await server.stop(0)
        await client.aclose()
