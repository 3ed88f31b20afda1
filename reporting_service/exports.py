"""Registrations exports: rows read from the Redis read models in pages, joined with their
session and participant at read time, filtered, and written as CSV, XLSX or HTML in chunks.

Memory stays constant whatever the size: the index is read by rank in pages of `PAGE` ids;
each page costs three pipelined round trips (registrations; their sessions and participants);
writers turn rows into byte chunks as they come (XLSX through openpyxl's write-only workbook,
which spools rows to a temporary file, saved into a spooled temporary file read back in
chunks).

Dates and times are shown in `TIME_ZONE` (the events' default zone).
"""

from __future__ import annotations

import asyncio
import csv
import html
import io
import json
import tempfile
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from kernel.errors import InvalidArgument
from reporting_service import generations
from reporting_service.keyspace import Keyspace
from reporting_service.projections import export_rows

TIME_ZONE = ZoneInfo("Europe/Moscow")
PAGE = 1000
CHUNK_BYTES = 64 * 1024

# Stable field names -> column headers.
FIELDS: dict[str, str] = {
    "event_title": "Event",
    "service": "Service",
    "session_date": "Date",
    "session_time": "Time",
    "venue": "Venue",
    "participant_name": "Participant",
    "card_number": "Card",
    "phone": "Phone",
    "attendance": "Attendance",
    "state": "State",
    "registered_at": "Registered at",
    "registered_by": "Registered by",
    "comment": "Comment",
}
DEFAULT_FIELDS = tuple(FIELDS)
ATTENDANCE = ("expected", "attended", "no_show")
STATES = ("held", "confirmed", "cancelled", "expired", "waitlisted", "offered", "declined")
FORMATS = {"csv": ("text/csv; charset=utf-8", "csv"),
           "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
           "html": ("text/html; charset=utf-8", "html")}
# Roles that see phones in full; everyone else (analysts) gets them masked.
FULL_PHONE_ROLES = frozenset({"admin"})


@dataclass(frozen=True)
class Filters:
    service_id: str = ""
    venue_id: str = ""
    attendance: str = ""
    event_from: str = ""  # ISO date, inclusive
    event_to: str = ""  # ISO date, inclusive
    registered_from: datetime | None = None  # inclusive
    registered_to: datetime | None = None  # exclusive
    states: tuple[str, ...] = ()

    def merged_over(self, base: Filters) -> Filters:
        """These filters with each unset value taken from `base`."""
        values = {name: getattr(self, name) or getattr(base, name) for name in Filters.__dataclass_fields__}
        return Filters(**values)


@dataclass(frozen=True)
class ExportQuery:
    fields: tuple[str, ...] = DEFAULT_FIELDS
    filters: Filters = field(default_factory=Filters)
    max_rows: int = 0  # 0: all
    mask_phones: bool = True


def validate_fields(fields: Sequence[str], path: str = "fields") -> tuple[str, ...]:
    if not fields:
        return DEFAULT_FIELDS
    for index, name in enumerate(fields):
        if name not in FIELDS:
            raise InvalidArgument.single(f"{path}[{index}]", f"unknown field {name!r}; known: {', '.join(FIELDS)}")
    if len(set(fields)) != len(fields):
        raise InvalidArgument.single(path, "must not repeat a field")
    return tuple(fields)


def validate_filters(filters: Filters, path: str = "filter") -> Filters:
    if filters.attendance and filters.attendance not in ATTENDANCE:
        raise InvalidArgument.single(f"{path}.attendance", f"must be one of {', '.join(ATTENDANCE)}")
    for index, state in enumerate(filters.states):
        if state not in STATES:
            raise InvalidArgument.single(f"{path}.states[{index}]", f"must be one of {', '.join(STATES)}")
    for name in ("event_from", "event_to"):
        value = getattr(filters, name)
        if value:
            try:
                datetime.strptime(value, "%Y-%m-%d")
            except ValueError:
                raise InvalidArgument.single(f"{path}.{name}", "must be an ISO date like 2026-12-01") from None
    if filters.event_from and filters.event_to and filters.event_from > filters.event_to:
        raise InvalidArgument.single(f"{path}.event_to", "must not be before event_from")
    if filters.registered_from and filters.registered_to and filters.registered_from > filters.registered_to:
        raise InvalidArgument.single(f"{path}.registered_to", "must not be before registered_from")
    return filters


def mask_phone(phone: str) -> str:
    """"+7 912 345-67-89" -> "+7 *** ***-**-89": the country code and the last two digits."""
    digits = "".join(c for c in phone if c.isdigit())
    if not digits:
        return ""
    if len(digits) < 4:
        return "*" * len(digits)
    country = f"+{digits[0]} " if phone.lstrip().startswith("+") or len(digits) == 11 else ""
    return f"{country}*** ***-**-{digits[-2:]}"


def _local(iso: str) -> datetime | None:
    if not iso:
        return None
    moment = datetime.fromisoformat(iso)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(TIME_ZONE)


def _millis(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def _row(registration: dict[str, str], session: dict[str, str], person: dict[str, str],
         mask_phones: bool) -> dict[str, str]:
    start, end = _local(session.get("start_time", "")), _local(session.get("end_time", ""))
    registered = _local(registration.get("registered_at", ""))
    name = " ".join(p for p in (person.get("last_name", ""), person.get("first_name", "")) if p)
    phone = person.get("phone", "")
    return {
        "event_title": session.get("event_title", ""),
        "service": session.get("service", "") or session.get("service_id", ""),
        "session_date": session.get("date", "") or (start.date().isoformat() if start else ""),
        "session_time": (f"{start:%H:%M}" + (f"–{end:%H:%M}" if end else "")) if start else "",
        "venue": session.get("venue", "") or session.get("venue_id", ""),
        "participant_name": name,
        "card_number": person.get("card_number", ""),
        "phone": mask_phone(phone) if mask_phones else phone,
        "attendance": registration.get("attendance", ""),
        "state": registration.get("state", ""),
        "registered_at": f"{registered:%Y-%m-%d %H:%M:%S}" if registered else "",
        "registered_by": registration.get("registered_by", ""),
        "comment": registration.get("comment", ""),
    }


def _keep(filters: Filters, registration: dict[str, str], session: dict[str, str], row: dict[str, str]) -> bool:
    if filters.service_id and session.get("service_id") != filters.service_id:
        return False
    if filters.venue_id and session.get("venue_id") != filters.venue_id:
        return False
    if filters.attendance and registration.get("attendance") != filters.attendance:
        return False
    if filters.states and registration.get("state") not in filters.states:
        return False
    if filters.event_from and not (row["session_date"] and row["session_date"] >= filters.event_from):
        return False
    return not (filters.event_to and not (row["session_date"] and row["session_date"] <= filters.event_to))


_PERSON_FIELDS = ("first_name", "last_name", "card_number", "phone")


class RowSource:
    """Reads export rows from the read models through a redis.asyncio client
    (decode_responses=True)."""

    def __init__(self, client: Any, keys: Keyspace, *, page: int = PAGE):
        self._client = client
        self._keys = keys
        self._page = page

    def _bounds(self, filters: Filters) -> tuple[str, str]:
        low = f"[{max(0, _millis(filters.registered_from)):013d}" if filters.registered_from else "-"
        high = f"({max(0, _millis(filters.registered_to)):013d}" if filters.registered_to else "+"
        return low, high

    async def estimate(self, filters: Filters) -> int:
        """An upper bound of the rows: the registrations in the registered_at range."""
        low, high = self._bounds(filters)
        return int(await self._client.zlexcount(export_rows.index_key(self._keys), low, high))

    async def rows(self, query: ExportQuery) -> AsyncIterator[dict[str, str]]:
        """Rows in registered_at order, every field (callers pick the columns)."""
        # One generation throughout, held against retirement while the export streams.
        keys = self._keys.pinned()
        async with generations.reading(self._client, keys) as lease:
            async for row in self._rows(keys, query, lease):
                yield row

    async def _rows(self, keys: Keyspace, query: ExportQuery,
                    lease: generations.ReaderLease) -> AsyncIterator[dict[str, str]]:
        filters = query.filters
        index = export_rows.index_key(keys)
        low, high = self._bounds(filters)
        emitted = 0
        while True:
            # Keyset paging: each page starts after the last member read, so registrations
            # projected meanwhile neither repeat nor shift a row out.
            page = await self._client.zrangebylex(index, low, high, start=0, num=self._page)
            if not page:
                return
            low = f"({page[-1]}"
            ids = [member.split(":", 1)[1] for member in page]
            done = len(page) < self._page
            stored = await self._client.mget([export_rows.registration_key(keys, i) for i in ids])
            # A registration indexed but gone (never, as things are) is skipped.
            registrations = [json.loads(value) for value in stored if value]
            session_ids = sorted({r.get("session_id", "") for r in registrations} - {""})
            participant_ids = sorted({r.get("participant_id", "") for r in registrations} - {""})
            second = self._client.pipeline(transaction=False)
            for session_id in session_ids:
                second.hmget(export_rows.session_key(keys, session_id), *export_rows.SESSION_FIELDS)
            for participant_id in participant_ids:
                second.hmget(keys.participant(participant_id), *_PERSON_FIELDS)
            answers = await second.execute()
            sessions = {sid: {k: v or "" for k, v in zip(export_rows.SESSION_FIELDS, values, strict=True)}
                        for sid, values in zip(session_ids, answers[:len(session_ids)], strict=True)}
            people = {pid: {k: v or "" for k, v in zip(_PERSON_FIELDS, values, strict=True)}
                      for pid, values in zip(participant_ids, answers[len(session_ids):], strict=True)}
            for registration in registrations:
                session = sessions.get(registration.get("session_id", ""), {})
                row = _row(registration, session, people.get(registration.get("participant_id", ""), {}),
                           query.mask_phones)
                if not _keep(filters, registration, session, row):
                    continue
                yield row
                emitted += 1
                if query.max_rows and emitted >= query.max_rows:
                    return
            if done:
                return
            await lease.renew()


# --- writers: rows in, byte chunks out ------------------------------------------------------------


async def _csv(rows: AsyncIterator[dict[str, str]], fields: Sequence[str]) -> AsyncIterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([FIELDS[f] for f in fields])
    first = True
    async for row in rows:
        writer.writerow([row[f] for f in fields])
        if buffer.tell() >= CHUNK_BYTES:
            yield (("\ufeff" if first else "") + buffer.getvalue()).encode("utf-8")
            first = False
            buffer.seek(0)
            buffer.truncate()
    yield (("\ufeff" if first else "") + buffer.getvalue()).encode("utf-8")


_HTML_HEAD = """<!DOCTYPE html>
<html lang="ru"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: sans-serif; font-size: 10pt; }}
table {{ border-collapse: collapse; width: 100%; }}
th, td {{ border: 1px solid #999; padding: 2px 4px; text-align: left; vertical-align: top; }}
thead {{ display: table-header-group; }}
tr {{ page-break-inside: avoid; }}
@page {{ size: A4 landscape; margin: 1cm; }}
</style></head><body>
<h1>{title}</h1>
<table><thead><tr>{header}</tr></thead><tbody>
"""


async def _html(rows: AsyncIterator[dict[str, str]], fields: Sequence[str]) -> AsyncIterator[bytes]:
    title = "Registrations"
    parts = [_HTML_HEAD.format(title=title, header="".join(f"<th>{html.escape(FIELDS[f])}</th>" for f in fields))]
    size = 0
    async for row in rows:
        line = "<tr>" + "".join(f"<td>{html.escape(row[f])}</td>" for f in fields) + "</tr>\n"
        parts.append(line)
        size += len(line)
        if size >= CHUNK_BYTES:
            yield "".join(parts).encode("utf-8")
            parts, size = [], 0
    parts.append("</tbody></table></body></html>\n")
    yield "".join(parts).encode("utf-8")


async def _xlsx(rows: AsyncIterator[dict[str, str]], fields: Sequence[str]) -> AsyncIterator[bytes]:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Registrations")
    sheet.append([FIELDS[f] for f in fields])
    async for row in rows:
        sheet.append([row[f] for f in fields])
    with tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024) as spool:
        await asyncio.to_thread(workbook.save, spool)
        spool.seek(0)
        while chunk := spool.read(CHUNK_BYTES):
            yield chunk


WRITERS = {"csv": _csv, "xlsx": _xlsx, "html": _html}


async def counted(rows: AsyncIterator[dict[str, str]], counter: list[int]) -> AsyncIterator[dict[str, str]]:
    """Passes rows through, counting them in counter[0]."""
    async for row in rows:
        counter[0] += 1
        yield row


def file_name(fmt: str, now: datetime | None = None) -> str:
    moment = (now or datetime.now(UTC)).astimezone(TIME_ZONE)
    return f"registrations-{moment:%Y%m%d-%H%M%S}.{FORMATS[fmt][1]}"


async def export(source: RowSource, query: ExportQuery, fmt: str,
                 counter: list[int] | None = None) -> AsyncIterator[bytes]:
    """The file's bytes in chunks; `counter[0]` counts the rows written so far."""
    counter = counter if counter is not None else [0]
    async for chunk in WRITERS[fmt](counted(source.rows(query), counter), query.fields):
        if chunk:
            yield chunk


__all__ = ["DEFAULT_FIELDS", "FIELDS", "FORMATS", "ExportQuery", "Filters", "RowSource", "export", "file_name",
           "mask_phone", "validate_fields", "validate_filters"]
