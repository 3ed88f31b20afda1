"""The audit trail: who did what when (actor, request id, command, target).

One entry is a hash (`Keyspace.audit_entry`) plus one member in each of three sorted sets
(`audit_all`, `audit_by_actor`, `audit_by_target`). Every member has score 0 and reads
"{ms:013d}:{entry_id}": members then sort lexicographically by time in milliseconds, ties
broken by entry id, so a keyset page token (the last member seen) gives a stable order even
when entries share a millisecond, and a time range is a lex range.

Recording is idempotent: HSET of the same fields and ZADD of the same member change nothing,
so recording an entry id twice (a replayed envelope, a retried export) leaves one entry.

Retention: entries are kept (no TTL, no trimming). A rebuild of the read models replays the
envelopes' entries from the topics like every other read model; entries recorded directly
(exports) come from no topic, so they are also written to the generations' journal, which
every rebuild replays (`reporting_service/generations.py`).
"""

from __future__ import annotations

import hashlib

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kernel.errors import InvalidArgument
from kernel.pagination import decode_token, encode_token
from reporting_service import generations
from reporting_service.keyspace import Keyspace
from reporting_service.projections.store import Command

_FIELDS = ("entry_id", "at", "actor", "request_id", "command", "target_type", "target_id", "detail")


def _millis(at_iso: str) -> int:
    moment = datetime.fromisoformat(at_iso)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0, int(moment.timestamp() * 1000))


def member(at_ms: int, entry_id: str) -> str:
    """The sorted-set member of an entry: orders by time, then entry id."""
    return f"{at_ms:013d}:{entry_id}"


def entry_commands(keys: Keyspace, *, entry_id: str, at_iso: str, actor: str, request_id: str, command: str,
                   target_type: str, target_id: str, detail: str = "") -> list[Command]:
    """The Redis commands storing one audit entry; running them twice changes nothing."""
    ms = _millis(at_iso)
    mine = member(ms, entry_id)
    commands: list[Command] = [
        ["HSET", keys.audit_entry(entry_id), "entry_id", entry_id, "at", at_iso, "at_ms", str(ms), "actor", actor,
         "request_id", request_id, "command", command, "target_type", target_type, "target_id", target_id,
         "detail", detail],
        ["ZADD", keys.audit_all, 0, mine],
    ]
    if actor:
        commands.append(["ZADD", keys.audit_by_actor(actor), 0, mine])
    if target_type or target_id:
        commands.append(["ZADD", keys.audit_by_target(target_type, target_id), 0, mine])
    return commands


async def record(client: Any, keys: Keyspace, *, entry_id: str, at_iso: str, actor: str, request_id: str,
                 command: str, target_type: str, target_id: str, detail: str = "") -> None:
    """Stores one audit entry (idempotent) in the active generation of `keys.root`, and in the
    journal that every rebuild replays (these entries come from no topic)."""
    relative = Keyspace("", root=keys.root)
    await generations.record(client, keys.root, [entry_commands(
        relative, entry_id=entry_id, at_iso=at_iso, actor=actor, request_id=request_id, command=command,
        target_type=target_type, target_id=target_id, detail=detail)])


@dataclass(frozen=True)
class AuditEntry:
    entry_id: str
    at: str  # ISO 8601, as recorded
    actor: str
    request_id: str
    command: str
    target_type: str
    target_id: str
    detail: str


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditEntry]
    next_page_token: str


def _index_tag(index: str) -> str:
    """Binds a page token to the listing it came from: a token of another actor's or
    target's listing is refused instead of silently starting somewhere in this one."""
    return hashlib.sha256(index.encode()).hexdigest()[:16]


def _page_position(token: str, index: str) -> str | None:
    """The member after which the page starts (newest first: strictly older)."""
    position = decode_token(token)
    if position is None:
        return None
    if len(position) != 2 or not all(isinstance(p, str) for p in position) or ":" not in position[1] \
            or not position[1].split(":", 1)[0].isdigit():
        raise InvalidArgument.single("page_token", "is not a token this service issued")
    if position[0] != _index_tag(index):
        raise InvalidArgument.single("page_token", "is not a token of this listing")
    return position[1]


class AuditReader:
    """Pages of audit entries, newest first, by actor, by target or all."""

    def __init__(self, client: Any, keyspace: Keyspace):
        self._client = client  # redis.asyncio, decode_responses=True
        self._keys = keyspace

    def index(self, *, actor: str = "", target_type: str = "", target_id: str = "") -> str:
        if actor and (target_type or target_id):
            raise InvalidArgument.single("filter", "give an actor or a target, not both")
        if actor:
            return self._keys.audit_by_actor(actor)
        if target_type or target_id:
            return self._keys.audit_by_target(target_type, target_id)
        return self._keys.audit_all

    async def page(self, *, actor: str = "", target_type: str = "", target_id: str = "", page_size: int,
                   page_token: str = "", start_ms: int | None = None, end_ms: int | None = None) -> AuditPage:
        """Entries with start_ms <= at < end_ms (either optional), newest first."""
        key = self.index(actor=actor, target_type=target_type, target_id=target_id)
        after = _page_position(page_token, key)
        # Newest first: from the upper bound down to the lower one.
        upper = "+" if end_ms is None else f"({max(0, end_ms):013d}"
        if after is not None and (upper == "+" or after < upper[1:]):
            upper = f"({after}"
        lower = "-" if start_ms is None else f"[{max(0, start_ms):013d}"
        members = await self._client.zrevrangebylex(key, upper, lower, start=0, num=page_size + 1)
        members = [m.decode() if isinstance(m, bytes) else m for m in members]
        page = members[:page_size]
        pipeline = self._client.pipeline(transaction=False)
        for m in page:
            pipeline.hmget(self._keys.audit_entry(m.split(":", 1)[1]), *_FIELDS)
        rows = await pipeline.execute() if page else []
        entries = [AuditEntry(*((v.decode() if isinstance(v, bytes) else (v or "")) for v in row))
                   for row in rows if row and row[0] is not None]
        token = encode_token([_index_tag(key), page[-1]]) if len(members) > page_size else ""
        return AuditPage(entries, token)
