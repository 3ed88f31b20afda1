"""Registrations exports: rows read from the Redis read models in pages, joined with their
session and participant at read time, filtered, and written as CSV, XLSX or HTML in chunks.

Memory stays constant whatever the size: the index is read in keyset pages of `PAGE`
registrations. A page costs one small script call (the index range, its registrations and
their people; a few arguments however many keys it reads), sent before the page before it is
joined and written; sessions are read once per export (they repeat), and generations
projected before the people strings existed are joined from the profile hashes. Rows are
tuples, and writers turn whole pages into byte chunks as they come: CSV with the csv module
(a BOM first, for Excel), escaped HTML, and XLSX with openpyxl's write-only workbook.

Dates and times are shown in `TIME_ZONE` (the events' default zone).
"""

from __future__ import annotations

import asyncio
import csv
import html
import io
import json
import re
import tempfile
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from operator import itemgetter
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
    # Opt-in (OPT_IN_FIELDS): the registration's reconfirmation word, "" when never asked.
    "reconfirmation": "Reconfirmation",
}
# Fields an export shows only when asked for by name: the default export (no fields given)
# keeps the columns it had before they existed. They come last in FIELDS, after the defaults.
OPT_IN_FIELDS = ("reconfirmation",)
DEFAULT_FIELDS = tuple(f for f in FIELDS if f not in OPT_IN_FIELDS)
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
    if phone[:1] == "+" and phone.isascii() and phone[1:].isdigit() and len(phone) >= 5:
        return f"{phone[:2]} *** ***-**-{phone[-2:]}"  # stored E.164: the common case, quickly
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


# A row is a tuple of the fields' texts in COLUMNS order (the DEFAULT_FIELDS first, then the
# opt-in ones): every field when the query asks for an opt-in one, otherwise the DEFAULT_FIELDS
# alone (no opt-in value to read for every row). Writers get tuples of the chosen ones.
COLUMNS = tuple(FIELDS)
assert COLUMNS[:len(DEFAULT_FIELDS)] == DEFAULT_FIELDS


def _session_columns(session: dict[str, str], filters: Filters) -> tuple[str, ...] | None:
    """What a row shows of its session (once per session and export); None when the session
    filters leave its rows out."""
    if filters.service_id and session.get("service_id") != filters.service_id:
        return None
    if filters.venue_id and session.get("venue_id") != filters.venue_id:
        return None
    start, end = _local(session.get("start_time", "")), _local(session.get("end_time", ""))
    date = session.get("date", "") or (start.date().isoformat() if start else "")
    if filters.event_from and not (date and date >= filters.event_from):
        return None
    if filters.event_to and not (date and date <= filters.event_to):
        return None
    return (session.get("event_title", ""), session.get("service", "") or session.get("service_id", ""), date,
            (f"{start:%H:%M}" + (f"–{end:%H:%M}" if end else "")) if start else "",
            session.get("venue", "") or session.get("venue_id", ""))


class _Moments:
    """registered_at (ISO 8601 UTC, as the projection writes it) -> local "YYYY-MM-DD HH:MM:SS",
    as `_local` then strftime give it, without a time-zone conversion per row: per UTC hour,
    when the zone's offset is the same at both ends of the hour and a whole number of hours
    (Moscow's is), the local "YYYY-MM-DD HH" is worked out once and the minutes and seconds
    are copied; anything else takes the long way."""

    def __init__(self) -> None:
        self._hours: dict[str, str | None] = {}

    def _hour(self, hour: str) -> str | None:
        try:
            start = datetime.fromisoformat(f"{hour}:00:00+00:00")
            local = start.astimezone(TIME_ZONE)
            offset = local.utcoffset()
            same = (start + timedelta(microseconds=3_599_999_999)).astimezone(TIME_ZONE).utcoffset() == offset
        except (ValueError, OverflowError):
            same = False
        prefix = f"{local:%Y-%m-%d %H}" if same and offset is not None and offset % timedelta(hours=1) == timedelta() \
            else None
        if len(self._hours) >= 100_000:
            self._hours.clear()
        self._hours[hour] = prefix
        return prefix

    def __call__(self, iso: str) -> str:
        # "2026-01-01T00:00:07.000000Z" or "2026-01-01T00:00:07Z"; what comes out holds digits,
        # "-", " " and ":" only (no format needs to encode it).
        if (len(iso) >= 20 and iso[-1] == "Z" and iso[19] in ".Z" and iso[10] == "T" and iso[13] == iso[16] == ":"
                and iso[14:16].isdecimal() and iso[17:19].isdecimal()):
            hour = iso[:13]
            prefix = self._hours[hour] if hour in self._hours else self._hour(hour)
            if prefix is not None:
                return prefix + iso[13:19]
        moment = _local(iso)
        return f"{moment:%Y-%m-%d %H:%M:%S}" if moment else ""


# Reading a page costs Redis little but redis-py a lot per key named in a command (1-2 µs each
# to pack: an MGET of a page's 1,000 keys cost more than everything Redis did for it), so a
# page's keys are derived inside Redis: each script takes a few arguments however many keys
# it reads, and answers one JSON array text (one reply element). Both only read; like the
# projection store's script, they name keys built from their arguments (so, like the MGETs
# they replace, they need one Redis, not a cluster that shards these keys).

# KEYS[1]: the index. ARGV: low, high (lex bounds), count, the registration keys' prefix, the
# person keys' prefix. Returns: the last member read (the next page starts after it), how many
# members were read, a JSON array of the registrations' strings (one indexed but gone is left
# out), and a JSON object of their people's strings by participant id: the id opens each
# registration's array (export_rows.registration_key); older generations' objects, and people
# without a string, are left to the reader.
_PAGE_SCRIPT = r"""
local members = redis.call('ZRANGEBYLEX', KEYS[1], ARGV[1], ARGV[2], 'LIMIT', 0, tonumber(ARGV[3]))
local found, batch = {}, {}
for i, member in ipairs(members) do
  batch[#batch + 1] = ARGV[4] .. string.sub(member, string.find(member, ':', 1, true) + 1)
  if #batch == 500 or i == #members then
    for _, value in ipairs(redis.call('MGET', unpack(batch))) do
      if value then found[#found + 1] = value end
    end
    batch = {}
  end
end
local ids, seen = {}, {}
for _, value in ipairs(found) do
  local id = string.match(value, '^%["([^"\\]*)"')
  if id and not seen[id] then
    seen[id] = true
    ids[#ids + 1] = id
  end
end
local people = {}
for first = 1, #ids, 500 do
  local last = math.min(first + 499, #ids)
  local keys = {}
  for i = first, last do keys[#keys + 1] = ARGV[5] .. ids[i] end
  local values = redis.call('MGET', unpack(keys))
  for i = first, last do
    local value = values[i - first + 1]
    if value then people[#people + 1] = '"' .. ids[i] .. '":' .. value end
  end
end
return {members[#members] or '', #members, '[' .. table.concat(found, ',') .. ']',
        '{' .. table.concat(people, ',') .. '}'}
"""

# ARGV: the person keys' prefix, a JSON array of participant ids. Returns a JSON array of
# their person strings, null where there is none (a generation projected before them). For
# the people the page script left out.
_PEOPLE_SCRIPT = """
local ids = cjson.decode(ARGV[2])
local values, batch = {}, {}
for i, id in ipairs(ids) do
  batch[#batch + 1] = ARGV[1] .. id
  if #batch == 500 or i == #ids then
    for _, value in ipairs(redis.call('MGET', unpack(batch))) do
      values[#values + 1] = value or 'null'
    end
    batch = {}
  end
end
return '[' .. table.concat(values, ',') .. ']'
"""


class RowSource:
    """Reads export rows from the read models through a redis.asyncio client
    (decode_responses=True)."""

    # Sessions remembered across the pages of one export (they repeat); past this many the
    # memory starts over, so it stays bounded whatever the catalog's size.
    SESSIONS_KEPT = 20_000

    def __init__(self, client: Any, keys: Keyspace, *, page: int = PAGE):
        self._client = client
        self._keys = keys
        self._page = page
        self._page_script = client.register_script(_PAGE_SCRIPT)
        self._people_script = client.register_script(_PEOPLE_SCRIPT)

    def _bounds(self, filters: Filters) -> tuple[str, str]:
        low = f"[{max(0, _millis(filters.registered_from)):013d}" if filters.registered_from else "-"
        high = f"({max(0, _millis(filters.registered_to)):013d}" if filters.registered_to else "+"
        return low, high

    async def estimate(self, filters: Filters) -> int:
        """An upper bound of the rows: the registrations in the registered_at range."""
        low, high = self._bounds(filters)
        return int(await self._client.zlexcount(export_rows.index_key(self._keys), low, high))

    async def rows(self, query: ExportQuery) -> AsyncIterator[dict[str, str]]:
        """Rows in registered_at order, each the query's fields by name."""
        async for page in chosen(self.pages(query), query.fields, [0]):
            for values in page:
                yield dict(zip(query.fields, values, strict=True))

    async def pages(self, query: ExportQuery) -> AsyncIterator[list[tuple[str, ...]]]:
        """The same rows a page at a time, each a tuple in COLUMNS order: every field when the
        query asks for an opt-in one, else the DEFAULT_FIELDS (`chosen` picks the columns)."""
        # One generation throughout, held against retirement while the export streams.
        keys = self._keys.pinned()
        async with generations.reading(self._client, keys) as lease:
            async for page in self._pages(keys, query, lease):
                yield page

    async def _pages(self, keys: Keyspace, query: ExportQuery, lease: generations.ReaderLease) -> AsyncIterator[list[tuple[str, ...]]]:
        index = export_rows.index_key(keys)
        low, high = self._bounds(query.filters)
        join = _Join(query)
        left = query.max_rows or -1

        def read(low: str) -> asyncio.Future[list[Any]]:
            # Keyset paging: each page starts after the last member read, so registrations
            # projected meanwhile neither repeat nor shift a row out.
            return asyncio.ensure_future(self._page_script(
                keys=[index], args=[low, high, self._page, export_rows.registration_key(keys, ""),
                                    export_rows.person_key(keys, "")]))

        async def sent(page: asyncio.Future[list[Any]]) -> asyncio.Future[list[Any]]:
            # Lets the read go as far as waiting for Redis's answer (redis-py takes a couple of
            # turns of the loop to send it), so Redis works on it while this page is joined
            # and written.
            for _ in range(3):
                await asyncio.sleep(0)
            return page

        following: asyncio.Future[list[Any]] | None = await sent(read(low))
        try:
            while following is not None:
                last, count, stored, found = await following
                following = None
                if not count:
                    return
                done = count < self._page
                if not done:
                    # Renewed once a page, while Redis is idle (not queued behind a read).
                    await lease.renew()
                    # The next page is read while this one is joined and written (unless this
                    # one probably ends a short export, a preview).
                    if not 0 < left <= count:
                        following = await sent(read(f"({last}"))
                # Arrays in REGISTRATION_FIELDS order: participant_id, session_id, event_id, state,
                # attendance, registered_at, registered_by, comment; then update_time and, when
                # asked, the reconfirmation (export_rows.RECONFIRMATION_AT). Older generations:
                # objects, read as REGISTRATION_FIELDS alone.
                registrations = [r if type(r) is list else [r.get(f, "") for f in export_rows.REGISTRATION_FIELDS]
                                 for r in json.loads(stored)]
                await self._sessions(keys, {r[1] for r in registrations}, join)
                people = json.loads(found)
                missing = {r[0] for r in registrations} - people.keys() - {""}
                if missing:
                    people.update(await self._people(keys, list(missing)))
                rows = join.rows(registrations, join.people(people))
                if 0 < left <= len(rows):
                    yield rows[:left]
                    return
                if rows:
                    left -= len(rows)
                    yield rows
                if not done and following is None:
                    following = read(f"({last}")
        finally:
            # Not needed after all; or done, and its outcome taken so a failure is not logged.
            if following is not None and not following.cancel() and not following.cancelled():
                following.exception()

    async def _people(self, keys: Keyspace, ids: list[str]) -> dict[str, list[str]]:
        """Participant id -> PERSON_FIELDS values: the export's person strings (one script
        call), and for those a generation projected before them lacks, their profile hashes."""
        stored = json.loads(await self._people_script(
            keys=[], args=[export_rows.person_key(keys, ""), json.dumps(ids)]))
        people = {i: value for i, value in zip(ids, stored, strict=True) if value}
        if len(people) < len(ids):
            missing = [i for i in ids if i not in people]
            pipeline = self._client.pipeline(transaction=False)
            for participant_id in missing:
                pipeline.hmget(keys.participant(participant_id), *export_rows.PERSON_FIELDS)
            for participant_id, values in zip(missing, await pipeline.execute(), strict=True):
                people[participant_id] = [v or "" for v in values]
        return people

    async def _sessions(self, keys: Keyspace, ids: set[str], join: _Join) -> None:
        """Adds the columns of the sessions `ids` the join does not know yet (one pipelined
        round trip)."""
        known = join.sessions
        wanted = [i for i in ids if i not in known]
        if not wanted:
            return
        if len(known) + len(wanted) > self.SESSIONS_KEPT:
            known.clear()
            wanted = list(ids)
        if "" in wanted:  # a registration without a session (never, as things are) shows none
            wanted.remove("")
            join.add_session("", {})
        if not wanted:
            return
        pipeline = self._client.pipeline(transaction=False)
        for session_id in wanted:
            pipeline.hmget(export_rows.session_key(keys, session_id), *export_rows.SESSION_FIELDS)
        for session_id, values in zip(wanted, await pipeline.execute(), strict=True):
            join.add_session(session_id, dict(zip(export_rows.SESSION_FIELDS, (v or "" for v in values), strict=True)))


class _Join:
    """One export's rows from its pages of registrations: what it shows of each session
    (worked out once per session), of each person (once per page) and of each registration,
    filtered."""

    def __init__(self, query: ExportQuery):
        self._filters = query.filters
        self._mask_phones = query.mask_phones
        self._opt_in = not set(OPT_IN_FIELDS).isdisjoint(query.fields)
        self.sessions: dict[str, tuple[str, ...] | None] = {}
        self._moment = _Moments()

    def add_session(self, session_id: str, session: dict[str, str]) -> None:
        self.sessions[session_id] = _session_columns(session, self._filters)

    def people(self, stored: dict[str, list[str]]) -> dict[str, tuple[str, ...]]:
        """Person columns (participant_name, card_number, phone) from PERSON_FIELDS values."""
        mask = mask_phone if self._mask_phones else str
        return {i: (f"{last} {first}" if last and first else last or first, card, mask(phone))
                for i, (first, last, card, phone) in stored.items()}

    def rows(self, registrations: list[list[str]], people: dict[str, tuple[str, ...]]) -> list[tuple[str, ...]]:
        attendance, states, sessions = self._filters.attendance, self._filters.states, self.sessions
        if attendance:
            registrations = [r for r in registrations if r[4] == attendance]
        if states:
            registrations = [r for r in registrations if r[3] in states]
        if None in sessions.values():  # a session filter leaves some out
            registrations = [r for r in registrations if sessions[r[1]] is not None]
        moment, nobody = self._moment, ("", "", "")
        if self._opt_in:  # every field: the defaults, then the reconfirmation ("" when not stored)
            at = export_rows.RECONFIRMATION_AT
            return [(*sessions[r[1]], *people.get(r[0], nobody), r[4], r[3], moment(r[5]), r[6], r[7],
                     r[at] if len(r) > at else "")
                    for r in registrations]
        return [(*sessions[r[1]], *people.get(r[0], nobody), r[4], r[3], moment(r[5]), r[6], r[7])
                for r in registrations]


# --- writers: pages of rows (tuples of the chosen fields) in, byte chunks out -----------------------


def _chunks(text: str) -> list[bytes]:
    data = text.encode("utf-8")
    return [data[i:i + CHUNK_BYTES] for i in range(0, len(data), CHUNK_BYTES)]


async def _csv(pages: AsyncIterator[list[tuple[str, ...]]], fields: Sequence[str]) -> AsyncIterator[bytes]:
    buffer = io.StringIO()
    buffer.write("\ufeff")  # Excel reads the file as UTF-8 (Cyrillic) only with a BOM
    writer = csv.writer(buffer)
    writer.writerow([FIELDS[f] for f in fields])
    async for page in pages:
        writer.writerows(page)
        if buffer.tell() >= CHUNK_BYTES:
            for chunk in _chunks(buffer.getvalue()):
                yield chunk
            buffer.seek(0)
            buffer.truncate()
    for chunk in _chunks(buffer.getvalue()):
        yield chunk


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


async def _html(pages: AsyncIterator[list[tuple[str, ...]]], fields: Sequence[str]) -> AsyncIterator[bytes]:
    title = "Registrations"
    parts = [_HTML_HEAD.format(title=title, header="".join(f"<th>{html.escape(FIELDS[f])}</th>" for f in fields))]
    size = 0
    async for page in pages:
        text = "".join("<tr>" + "".join(f"<td>{html.escape(value)}</td>" for value in row) + "</tr>\n"
                       for row in page)
        parts.append(text)
        size += len(text)
        if size >= CHUNK_BYTES:
            for chunk in _chunks("".join(parts)):
                yield chunk
            parts, size = [], 0
    parts.append("</tbody></table></body></html>\n")
    for chunk in _chunks("".join(parts)):
        yield chunk


# Characters XML 1.0 cannot hold: openpyxl refuses them, so they are left out of the cell.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


async def _xlsx(pages: AsyncIterator[list[tuple[str, ...]]], fields: Sequence[str]) -> AsyncIterator[bytes]:
    from openpyxl import Workbook

    # Write-only: rows go straight to a temporary XML file, so memory stays flat.
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Registrations")
    sheet.append([FIELDS[f] for f in fields])
    async for page in pages:
        for row in page:
            sheet.append([_XML_ILLEGAL.sub("", v) if _XML_ILLEGAL.search(v) else v for v in row])
    with tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024) as spool:
        await asyncio.to_thread(workbook.save, spool)
        spool.seek(0)
        while chunk := spool.read(CHUNK_BYTES):
            yield chunk


WRITERS = {"csv": _csv, "xlsx": _xlsx, "html": _html}


def chosen(pages: AsyncIterator[list[tuple[str, ...]]], fields: Sequence[str],
           counter: list[int]) -> AsyncIterator[list[tuple[str, ...]]]:
    """Pages of rows (COLUMNS order, as RowSource.pages gives them) -> pages of the chosen
    fields' values, counting the rows in counter[0]."""
    positions = [COLUMNS.index(f) for f in fields]

    async def picked() -> AsyncIterator[list[tuple[str, ...]]]:
        pick = itemgetter(*positions) if len(positions) > 1 else (lambda row: (row[positions[0]],))
        # The chosen fields are the rows' first columns in order: rows as long pass as they are.
        prefix = positions == list(range(len(positions)))
        async for page in pages:
            counter[0] += len(page)
            yield page if prefix and page and len(page[0]) == len(positions) else list(map(pick, page))

    return picked()


def file_name(fmt: str, now: datetime | None = None) -> str:
    moment = (now or datetime.now(UTC)).astimezone(TIME_ZONE)
    return f"registrations-{moment:%Y%m%d-%H%M%S}.{FORMATS[fmt][1]}"


async def export(source: RowSource, query: ExportQuery, fmt: str,
                 counter: list[int] | None = None) -> AsyncIterator[bytes]:
    """The file's bytes in chunks; `counter[0]` counts the rows written so far."""
    counter = counter if counter is not None else [0]
    pages = source.pages(query)
    async for chunk in WRITERS[fmt](chosen(pages, query.fields, counter), query.fields):
        if chunk:
            yield chunk


__all__ = ["COLUMNS", "DEFAULT_FIELDS", "FIELDS", "FORMATS", "OPT_IN_FIELDS", "ExportQuery", "Filters", "RowSource",
           "export", "file_name", "mask_phone", "validate_fields", "validate_filters"]
