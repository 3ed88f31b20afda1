"""A participant's registrations, upcoming and past, with missed sessions flagged, and their
metrics: the read side of `GET /v1/participants/{id}/registrations`
(projections/participant_view.py).

Same meaning as participant_service's list: upcoming = sessions not ended, soonest first;
past = sessions ended, latest first; all = every one, latest first; a registration is
`missed` when it is confirmed, its session has ended and the participant was not marked
attended (no_show, or still expected). Every state is listed (cancelled, expired, waitlisted
... with their state), as there.

Two differences, both because this is the read side: the session's event title, service,
venue, start and end are joined from the export's session hash (`export_rows.session_key`)
when read, so a session moved after the booking shows, and is split into upcoming/past and
flagged missed, by its current times (the registration's recorded times until that hash
exists); the order stays the one of the index, the start the registration recorded (which is
also participant_service's order), so that page tokens are stable keyset positions.

Paging walks the participant's index (`Keyspace.participant_view_index`) from the token in
the tab's direction, in chunks, and keeps the entries of the tab: a page costs one ZRANGEBYLEX,
one MGET and one pipeline of HMGETs per chunk. Upcoming walks from the oldest, so its cost grows
with the participant's number of registrations (hundreds at most for a person).

An unknown participant (or one the projector has not seen a registration of yet) has an empty
view with zero metrics, not NOT_FOUND: a page shows "nothing booked" either way, and the read
side cannot tell a new participant from an unknown one.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kernel.errors import InvalidArgument, PermissionDenied
from kernel.pagination import decode_token, encode_token
from kernel.roles import READERS
from reporting_service.keyspace import Keyspace
from reporting_service.projections import export_rows
from reporting_service.projections.participant_view import index_member
from reporting_service.stats import ParticipantMetrics, StatsReader

# READERS read any participant's page and metrics; a participant reads only their own. A
# call with no roles is the system's own (every outside call comes through the gateway,
# which always forwards the token's roles).


def may_read(participant_id: str, *, roles: frozenset[str], caller_participant_id: str) -> bool:
    return not roles or not roles.isdisjoint(READERS) or (
        bool(caller_participant_id) and caller_participant_id == participant_id)


def check_may_read(participant_id: str, *, roles: frozenset[str], caller_participant_id: str) -> None:
    """Enforced here as well as in the gateway, so that a call reaching reporting-service by
    another route is held to the same rule."""
    if not may_read(participant_id, roles=roles, caller_participant_id=caller_participant_id):
        raise PermissionDenied("a participant may read only their own registrations and metrics",
                               metadata={"field": "name"})


def narrowed_to(participant_id: str, *, roles: frozenset[str], actor: str, caller_participant_id: str) -> str | None:
    """The `registered_by` a caller's view of this participant's registrations is narrowed to:
    a volunteer sees the ones they registered (as participant-service answers them), except
    on their own page; None for no narrowing. The metrics stay whole: they are counts, which
    volunteers read as stats."""
    own = bool(caller_participant_id) and caller_participant_id == participant_id
    if "volunteer" in roles and roles.isdisjoint({"admin", "analyst", "service"}) and not own:
        return actor
    return None


WHEN = ("upcoming", "past", "all")
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
# Index members read per round trip: at least this many, or the page and one more.
_CHUNK = 100
SESSION_FIELDS = ("event_title", "service_id", "service", "venue_id", "venue", "start_time", "end_time")


@dataclass(frozen=True)
class ViewEntry:
    """One registration as a participant's page shows it. Times are ISO 8601 UTC ("...Z"),
    "" when unknown."""

    registration_id: str
    session_id: str
    event_id: str
    event_title: str
    service_id: str
    service: str
    venue_id: str
    venue: str
    start_time: str
    end_time: str
    state: str  # held, confirmed, cancelled, expired, waitlisted, offered, declined
    attendance: str  # expected, attended, no_show
    registered_at: str
    registered_by: str
    expire_time: str  # while held or offered
    waitlist_position: int
    end_reason: str  # cancelled, expired, declined, seat_lost, or ""
    missed: bool
    ended: bool  # the session has ended: the entry is in "past", not in "upcoming"
    member: str  # its index member: the page token's position


@dataclass(frozen=True)
class ParticipantViewPage:
    participant_id: str
    metrics: ParticipantMetrics
    registrations: list[ViewEntry]
    next_page_token: str


def checked_page_size(requested: int) -> int:
    """AIP-158: 0 for the default, above the maximum is the maximum, negative is refused."""
    if requested < 0:
        raise InvalidArgument.single("page_size", "must not be negative")
    return DEFAULT_PAGE_SIZE if requested == 0 else min(requested, MAX_PAGE_SIZE)


def check_when(when: str) -> str:
    if when not in WHEN:
        raise InvalidArgument.single("when", f"must be one of {', '.join(WHEN)}, got {when!r}")
    return when


def _listing_tag(participant_id: str, when: str) -> str:
    """Binds a page token to its listing: one of another participant or tab is refused
    instead of starting somewhere in this one."""
    return hashlib.sha256(f"{participant_id}\x00{when}".encode()).hexdigest()[:16]


def token_of(participant_id: str, when: str, member: str) -> str:
    return encode_token([_listing_tag(participant_id, when), member])


def position_of(token: str, participant_id: str, when: str) -> str | None:
    """The index member after which the page starts; None for the first page."""
    position = decode_token(token)
    if position is None:
        return None
    if len(position) != 2 or not all(isinstance(p, str) for p in position) or not _is_member(position[1]):
        raise InvalidArgument.single("page_token", "is not a token this service issued")
    if position[0] != _listing_tag(participant_id, when):
        raise InvalidArgument.single("page_token", "is not a token of this listing")
    return position[1]


def _is_member(member: str) -> bool:
    start, _, registration_id = member.partition(":")
    return len(start) >= 13 and start.isdigit() and bool(registration_id)


def _epoch(iso: str) -> float | None:
    if not iso:
        return None
    try:
        return datetime.fromisoformat(iso).timestamp()
    except ValueError:
        return None


def is_missed(state: str, attendance: str, ended: bool) -> bool:
    """participant_service's rule: a confirmed seat in a session that ended without the
    participant attending (marked no_show, or still expected)."""
    return state == "confirmed" and ended and attendance != "attended"


def entry_of(member: str, value: dict[str, Any] | None, session: Sequence[str | None], now_epoch: float,
             participant_id: str) -> ViewEntry | None:
    """Joins a projected registration (its JSON value, decoded) with its session's hash
    (SESSION_FIELDS, None where missing); None when the member is not (or no longer) this
    registration's."""
    if value is None:
        return None
    registration_id = member.partition(":")[2]
    if value.get("participant_id") != participant_id \
            or index_member(int(value.get("start_ms") or 0), registration_id) != member:
        return None
    info = dict(zip(SESSION_FIELDS, (v or "" for v in session), strict=True))
    start = info["start_time"] or value.get("session_start", "")
    end = info["end_time"] or value.get("session_end", "")
    end_epoch = _epoch(end)
    if end_epoch is None:
        end_epoch = int(value.get("end_ms") or 0) / 1000
    ended = end_epoch <= now_epoch
    state, attendance = value.get("state", ""), value.get("attendance", "")
    return ViewEntry(
        registration_id=registration_id, session_id=value.get("session_id", ""), event_id=value.get("event_id", ""),
        event_title=info["event_title"], service_id=info["service_id"], service=info["service"],
        venue_id=info["venue_id"], venue=info["venue"], start_time=start, end_time=end, state=state,
        attendance=attendance, registered_at=value.get("registered_at", ""),
        registered_by=value.get("registered_by", ""), expire_time=value.get("expire_time", ""),
        waitlist_position=int(value.get("waitlist_position") or 0), end_reason=value.get("end_reason", ""),
        missed=is_missed(state, attendance, ended), ended=ended, member=member)


def in_tab(entry: ViewEntry, when: str) -> bool:
    return when == "all" or (when == "past") == entry.ended


class ParticipantViewReader:
    def __init__(self, client: Any, keyspace: Keyspace):
        self._client = client  # redis.asyncio, decode_responses=True
        self._keys = keyspace

    async def page(self, participant_id: str, *, when: str = "all", page_size: int = 0, page_token: str = "",
                   now_epoch: float | None = None, registered_by: str | None = None) -> ParticipantViewPage:
        """One page of the tab `when` (upcoming, past or all) and the participant's metrics."""
        check_when(when)
        limit = checked_page_size(page_size)
        after = position_of(page_token, participant_id, when)
        now = time.time() if now_epoch is None else now_epoch
        # One generation throughout, even if a rebuild swaps generations between round trips.
        keys = self._keys.pinned()
        metrics = await StatsReader(self._client, keys).participant(participant_id, now) or ParticipantMetrics(
            participant_id, 0, 0, 0, 0, 0)
        found = await self._scan(keys, participant_id, when, after, limit + 1, now, registered_by)
        page = found[:limit]
        token = token_of(participant_id, when, page[-1].member) if len(found) > limit else ""
        return ParticipantViewPage(participant_id, metrics, page, token)

    async def _scan(self, keys: Keyspace, participant_id: str, when: str, after: str | None, wanted: int,
                    now: float, registered_by: str | None = None) -> list[ViewEntry]:
        key = keys.participant_view_index(participant_id)
        ascending = when == "upcoming"
        chunk = max(_CHUNK, wanted)
        found: list[ViewEntry] = []
        while len(found) < wanted:
            if ascending:
                members = await self._client.zrangebylex(key, f"({after}" if after else "-", "+", start=0, num=chunk)
            else:
                members = await self._client.zrevrangebylex(key, f"({after}" if after else "+", "-", start=0,
                                                            num=chunk)
            members = [m.decode() if isinstance(m, bytes) else m for m in members]
            if not members:
                break
            for entry in await self._entries(keys, participant_id, members, now):
                if entry is not None and in_tab(entry, when) and registered_by in (None, entry.registered_by):
                    found.append(entry)
                    if len(found) == wanted:
                        break
            if len(members) < chunk:
                break
            after = members[-1]
        return found

    async def _entries(self, keys: Keyspace, participant_id: str, members: list[str],
                       now: float) -> list[ViewEntry | None]:
        ids = [m.partition(":")[2] for m in members]
        raws = await self._client.mget([keys.participant_view_registration(i) for i in ids])
        values = [json.loads(r) if r is not None else None for r in raws]
        pipeline = self._client.pipeline(transaction=False)
        for value in values:
            pipeline.hmget(export_rows.session_key(keys, (value or {}).get("session_id", "")), *SESSION_FIELDS)
        sessions = await pipeline.execute()
        return [entry_of(m, value, [v.decode() if isinstance(v, bytes) else v for v in session], now, participant_id)
                for m, value, session in zip(members, values, sessions, strict=True)]

