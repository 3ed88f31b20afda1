"""The issue's proof at full size: 100,000 projected registrations exported in each format,
streamed to a file, parsed back (csv module, openpyxl, an HTML parser) and compared row by row
with the source registrations."""

from __future__ import annotations

import csv
import random
from datetime import timedelta
from html.parser import HTMLParser

import pytest
import redis
import redis.asyncio as aioredis
from openpyxl import load_workbook
from test_exports import BASE, SESSIONS, Script, expected_row

from reporting_service import exports
from reporting_service.exports import ExportQuery, Filters, RowSource
from reporting_service.keyspace import Keyspace
from reporting_service.projections.registry import to_change
from reporting_service.projections.store import ProjectionStore
from turnout.participant.v1 import registration_events_pb2
from turnout.participant.v1 import registration_pb2 as reg

pytestmark = pytest.mark.integration

ROWS = 100_000
PEOPLE = 1_000
HOSTILE = 'комментарий, "в кавычках"; <b>&amp;</b>\nвторая строка'


def scenario() -> tuple[Script, list[dict[str, str]]]:
    s = Script()
    s.session("s1")
    s.session("s2")
    for p in range(PEOPLE):
        s.person(f"p{p}", f"Имя{p}", f"Фамилия{p}", f"+7 912 {p:03d}-00-00")
    for i in range(ROWS):
        s.register(f"r{i:06d}", f"p{i % PEOPLE}", "s1" if i % 3 else "s2", BASE + timedelta(seconds=i),
                   comment=HOSTILE if i % 997 == 0 else "")
    for i in range(0, ROWS, 4):
        s.change(f"r{i:06d}", registration_events_pb2.RegistrationConfirmed, state=reg.REGISTRATION_STATE_CONFIRMED)
    for i in range(0, ROWS, 8):
        s.change(f"r{i:06d}", registration_events_pb2.AttendanceMarked, attendance=reg.ATTENDANCE_NO_SHOW)
    expected = []
    for i in range(ROWS):
        r = s.registrations[f"r{i:06d}"]
        local = SESSIONS[r.session.split("/")[1]][5].astimezone(exports.TIME_ZONE)
        expected.append(expected_row(s, r, BASE + timedelta(seconds=i),
                                     f"{local:%H:%M}–{local + timedelta(hours=1):%H:%M}"))
    return s, expected


@pytest.fixture(scope="module")
def projected(settings):
    keyspace = Keyspace(prefix=f"test-export-scale-{random.randrange(1 << 30):x}")
    sync_client = redis.Redis.from_url(settings.redis_url)
    store = ProjectionStore(sync_client, keyspace)
    script, expected = scenario()
    for start in range(0, len(script.messages), 5000):
        store.apply([to_change(topic, raw, keyspace) for topic, raw in script.messages[start:start + 5000]])
    yield keyspace, expected
    keys = list(sync_client.scan_iter(match=f"{keyspace.prefix}:*", count=5000))
    for start in range(0, len(keys), 5000):
        sync_client.unlink(*keys[start:start + 5000])


async def _export_to(path, settings, keyspace: Keyspace, fmt: str) -> int:
    client = aioredis.from_url(settings.redis_url, decode_responses=True)
    counter = [0]
    try:
        with path.open("wb") as sink:
            query = ExportQuery(fields=exports.DEFAULT_FIELDS, filters=Filters(), mask_phones=False)
            async for chunk in exports.export(RowSource(client, keyspace), query, fmt, counter):
                sink.write(chunk)
    finally:
        await client.aclose()
    return counter[0]


def _as_dicts(rows: list[list[str]]) -> list[dict[str, str]]:
    assert rows[0] == [exports.FIELDS[f] for f in exports.DEFAULT_FIELDS]
    return [dict(zip(exports.DEFAULT_FIELDS, row, strict=True)) for row in rows[1:]]


async def test_csv_of_100000_rows_parses_back_to_the_source(projected, settings, tmp_path) -> None:
    keyspace, expected = projected
    path = tmp_path / "registrations.csv"
    assert await _export_to(path, settings, keyspace, "csv") == ROWS
    assert path.read_bytes()[:3] == "\ufeff".encode()
    with path.open(encoding="utf-8-sig", newline="") as source:
        assert _as_dicts(list(csv.reader(source))) == expected


async def test_xlsx_of_100000_rows_parses_back_to_the_source(projected, settings, tmp_path) -> None:
    keyspace, expected = projected
    path = tmp_path / "registrations.xlsx"
    assert await _export_to(path, settings, keyspace, "xlsx") == ROWS
    workbook = load_workbook(path, read_only=True)
    rows = [["" if cell is None else str(cell) for cell in row] for row in workbook.active.iter_rows(values_only=True)]
    workbook.close()
    assert _as_dicts(rows) == expected


class _Table(HTMLParser):
    """The text of every header and data cell, row by row."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs) -> None:
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "br" and self._cell is not None:
            self._cell.append("\n")

    def handle_endtag(self, tag) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data) -> None:
        if self._cell is not None:
            self._cell.append(data)


async def test_html_of_100000_rows_parses_back_to_the_source(projected, settings, tmp_path) -> None:
    keyspace, expected = projected
    path = tmp_path / "registrations.html"
    assert await _export_to(path, settings, keyspace, "html") == ROWS
    table = _Table()
    table.feed(path.read_text(encoding="utf-8"))
    assert _as_dicts([row for row in table.rows if row]) == expected
