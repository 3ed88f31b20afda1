"""Drafts in Redis: one hash per draft under `drafts:{id}`, expiring `ttl` after its last touch.

Hash fields: `created_at`, `owner` (the actor who started it), `language`, `f:<field>` per entered participant field and
`d:<document id>` (JSON) per uploaded document. Every change is one Lua script that first
checks the draft still exists, so an expired draft is never half re-created, and concurrent
edits and uploads never overwrite each other (each writes only its own hash fields).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from redis.asyncio import Redis

from participant_service.domain.documents import DocumentKind
from participant_service.domain.drafts import Draft, DraftDocument

PREFIX = "drafts:"

# KEYS[1] draft; ARGV[1] ttl ms. The draft's fields after extending its life, or nil.
_TOUCH = """
if redis.call('PEXPIRE', KEYS[1], ARGV[1]) == 0 then return false end
return redis.call('HGETALL', KEYS[1])
"""
# KEYS[1] draft; ARGV[1] ttl ms, ARGV[2] number of pairs to set, then the pairs, then the fields to delete.
_UPDATE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local n = tonumber(ARGV[2])
for i = 0, n - 1 do redis.call('HSET', KEYS[1], ARGV[3 + 2 * i], ARGV[4 + 2 * i]) end
for i = 3 + 2 * n, #ARGV do redis.call('HDEL', KEYS[1], ARGV[i]) end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return redis.call('HGETALL', KEYS[1])
"""
# KEYS[1] draft; ARGV[1] ttl ms, ARGV[2] field, ARGV[3] document JSON, ARGV[4] most documents.
# -1: no such draft; -2: the draft has the most documents already; else the draft's fields.
_ADD_DOCUMENT = """
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local count = 0
for _, name in ipairs(redis.call('HKEYS', KEYS[1])) do
  if string.sub(name, 1, 2) == 'd:' then count = count + 1 end
end
if count >= tonumber(ARGV[4]) then return -2 end
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return redis.call('HGETALL', KEYS[1])
"""
# KEYS[1] lock; ARGV[1] token. Deletes the lock only if it is still ours.
_UNLOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class DraftFull(Exception):  # noqa: N818 - an outcome
    """The draft holds the most documents it may."""


def key(draft_id: str) -> str:
    return PREFIX + draft_id


def _document_json(document: DraftDocument) -> str:
    return json.dumps({"id": document.id, "kind": document.kind.value, "content_type": document.content_type,
                       "size_bytes": document.size_bytes, "sha256": document.sha256,
                       "filename": document.filename, "uploaded_at": document.uploaded_at.isoformat()})


def _document(raw: str) -> DraftDocument:
    data = json.loads(raw)
    return DraftDocument(id=data["id"], kind=DocumentKind(data["kind"]), content_type=data["content_type"],
                         size_bytes=data["size_bytes"], sha256=data["sha256"], filename=data["filename"],
                         uploaded_at=datetime.fromisoformat(data["uploaded_at"]))


class DraftStore:
    def __init__(self, redis: Redis, ttl: timedelta):
        self._redis = redis
        self.ttl = ttl

    @property
    def _ttl_ms(self) -> int:
        return int(self.ttl.total_seconds() * 1000)

    def _draft(self, draft_id: str, raw: list | None) -> Draft | None:
        if not raw:
            return None
        values = {_text(raw[i]): _text(raw[i + 1]) for i in range(0, len(raw), 2)}
        documents = sorted((_document(v) for k, v in values.items() if k.startswith("d:")),
                           key=lambda d: (d.uploaded_at, d.id))
        return Draft(
            id=draft_id,
            created_at=datetime.fromisoformat(values["created_at"]),
            expires_at=datetime.now(UTC) + self.ttl,
            language=values.get("language") or None,
            fields={k.removeprefix("f:"): v for k, v in values.items() if k.startswith("f:")},
            documents=tuple(documents),
            owner=values.get("owner") or None,
        )

    async def create(self, *, language: str | None, fields: Mapping[str, str], now: datetime,
                     owner: str | None = None) -> Draft:
        draft_id = str(uuid.uuid4())
        mapping = {"created_at": now.isoformat(), **{f"f:{k}": v for k, v in fields.items()}}
        if owner:
            mapping["owner"] = owner
        if language:
            mapping["language"] = language
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(key(draft_id), mapping=mapping)
            pipe.pexpire(key(draft_id), self._ttl_ms)
            await pipe.execute()
        return Draft(id=draft_id, created_at=now, expires_at=now + self.ttl, language=language, fields=dict(fields),
                     owner=owner or None)

    async def owner(self, draft_id: str) -> tuple[bool, str | None]:
        """Whether the draft exists, and who started it; reads without extending its life, so
        that a caller refused access leaves no trace on it."""
        created_at, owner = await self._redis.hmget(key(draft_id), ["created_at", "owner"])
        return created_at is not None, _text(owner) if owner is not None else None

    async def touch(self, draft_id: str) -> Draft | None:
        """The draft, its life extended to `ttl` from now; None when it does not exist (any more)."""
        return self._draft(draft_id, await self._redis.eval(_TOUCH, 1, key(draft_id), self._ttl_ms))

    async def update(self, draft_id: str, changes: Mapping[str, str | None]) -> Draft | None:
        """Sets the given values (None deletes) of `language` and the participant fields."""
        names = {name: name if name == "language" else f"f:{name}" for name in changes}
        pairs = [(names[n], v) for n, v in changes.items() if v is not None]
        deleted = [names[n] for n, v in changes.items() if v is None]
        args = [self._ttl_ms, len(pairs), *(x for pair in pairs for x in pair), *deleted]
        return self._draft(draft_id, await self._redis.eval(_UPDATE, 1, key(draft_id), *args))

    async def add_document(self, draft_id: str, document: DraftDocument, *, limit: int) -> Draft | None:
        """The draft with the document added; None when the draft is gone; DraftFull at `limit`."""
        reply = await self._redis.eval(_ADD_DOCUMENT, 1, key(draft_id), self._ttl_ms, f"d:{document.id}",
                                       _document_json(document), limit)
        if reply == -1:
            return None
        if reply == -2:
            raise DraftFull(draft_id)
        return self._draft(draft_id, reply)

    async def delete(self, draft_id: str) -> None:
        await self._redis.delete(key(draft_id))

    async def lock_submit(self, draft_id: str, ttl: timedelta) -> str | None:
        """A token while nobody else submits this draft, else None; expires by itself after `ttl`."""
        token = uuid.uuid4().hex
        taken = await self._redis.set(f"{key(draft_id)}:submitting", token, nx=True,
                                      px=int(ttl.total_seconds() * 1000))
        return token if taken else None

    async def unlock_submit(self, draft_id: str, token: str) -> None:
        await self._redis.eval(_UNLOCK, 1, f"{key(draft_id)}:submitting", token)


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value
