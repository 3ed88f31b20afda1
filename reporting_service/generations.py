"""Generations of the read models: which one readers see, and the handover to a rebuilt one.

All read-model keys of a generation share its prefix (`Keyspace`). One Redis key per root,
`{root}@active`, names the generation readers and the live projector use (absent: the root
itself, so a system that never rebuilt needs no pointer). A rebuild fills a new generation
aside and then swaps the pointer; nothing ever reads a half-built generation.

The handover must not lose or reorder an envelope: projections skip versions not newer than
the last applied one, so a live change applied to the new generation before the replay
reached that aggregate's older events would make the replay drop them. So the live
projector never writes to the generation being built. Instead:

1. the rebuild replays into its generation while the live projector keeps the active one
   current;
2. it raises the *fence*: the live projector's apply script checks the fence inside Redis,
   atomically with each envelope, and refuses while it stands, so the active generation
   stops moving at a precise point (the projector rewinds to its committed offsets and
   waits). A refusal holds for the rest of its batch even if the fence falls meanwhile, so no
   later envelope of the batch can overtake a refused one;
3. it replays until the new generation holds every aggregate version the frozen active one
   holds (each source is read in per-aggregate order, so holding the newest version means
   holding all before it);
4. one script swaps the pointer and lowers the fence; the live projector resumes from its
   committed offsets into the new generation, where what it re-delivers is skipped as
   already applied.

The fence expires on its own (it is refreshed while the rebuild lives), so a rebuild that
dies cannot stop the live projection for long.

Writes that do not come from the topics (export audit entries) go through the journal: one
list outside the generations that every rebuild replays, the swap script replaying its
tail atomically with the swap.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Any

from redis.exceptions import RedisError

from reporting_service.keyspace import Keyspace

if TYPE_CHECKING:  # the store imports this module's key names
    from reporting_service.projections.store import Command

log = logging.getLogger("turnout.generations")

FENCE_MS = 15_000


def active_key(root: str) -> str:
    return f"{root}@active"


def fence_key(root: str) -> str:
    return f"{root}@fence"


def refusals_key(root: str) -> str:
    """Hash of the live projector's batches the fence refused (see the store's apply script)."""
    return f"{root}@refusals"


def journal_key(root: str) -> str:
    """List of JSON command lists (keys without a generation prefix), oldest first."""
    return f"{root}@journal"


def readers_key(root: str) -> str:
    """Sorted set: "{generation}|{reader}" scored by the lease's expiry (epoch ms)."""
    return f"{root}@readers"


def generation_prefix(root: str, rebuild_id: str) -> str:
    return f"{root}.{rebuild_id[:12]}"


# KEYS: active pointer, journal. ARGV: the root, then JSON command lists.
_RECORD = """
local prefix = redis.call('GET', KEYS[1]) or ARGV[1]
for i = 2, #ARGV do
  for _, command in ipairs(cjson.decode(ARGV[i])) do
    command[2] = prefix .. command[2]
    redis.call(unpack(command))
  end
  redis.call('RPUSH', KEYS[2], ARGV[i])
end
return prefix
"""

# KEYS: active pointer, fence, journal. ARGV: the new generation, the journal index from which
# to replay. Replays the journal's tail into the new generation, points readers at it and
# lowers the fence, all at once.
_SWAP = """
local entries = redis.call('LRANGE', KEYS[3], tonumber(ARGV[2]), -1)
for _, entry in ipairs(entries) do
  for _, command in ipairs(cjson.decode(entry)) do
    command[2] = ARGV[1] .. command[2]
    redis.call(unpack(command))
  end
end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[2])
return #entries
"""


async def active_prefix(client: Any, root: str) -> str:
    """The prefix of the generation readers see now (redis.asyncio client)."""
    current = await client.get(active_key(root))
    if isinstance(current, bytes):
        current = current.decode()
    return current or root


async def active_keyspace(client: Any, root: str = "rm") -> Keyspace:
    return Keyspace(await active_prefix(client, root), root=root)


async def record(client: Any, root: str, batches: Sequence[Sequence[Command]]) -> str:
    """Applies commands (keys relative to a generation, as built by `Keyspace("")`) to the
    active generation and journals them, atomically; the generation's prefix."""
    answer = await client.eval(_RECORD, 2, active_key(root), journal_key(root), root,
                               *(json.dumps(list(batch)) for batch in batches))
    return answer.decode() if isinstance(answer, bytes) else answer


async def swap(client: Any, root: str, generation: str, journal_from: int) -> int:
    """Makes `generation` the one readers see; how many journal entries it replayed."""
    return int(await client.eval(_SWAP, 3, active_key(root), fence_key(root), journal_key(root),
                                 generation, journal_from))


async def drop(client: Any, prefix: str, *, batch: int = 1000) -> int:
    """Deletes every key of one generation; how many."""
    dropped = 0
    async for keys in _scan_batches(client, f"{prefix}:*", batch):
        dropped += await client.unlink(*keys)
    return dropped


async def _scan_batches(client: Any, pattern: str, batch: int):  # type: ignore[no-untyped-def]
    cursor = 0
    while True:
        cursor, keys = await client.scan(cursor, match=pattern, count=batch)
        if keys:
            yield keys
        if int(cursor) == 0:
            return


READER_LEASE_MS = 60_000


class ReaderLease:
    """Holds a generation against retirement while long work (an export) reads it; lapses
    on its own if the process dies."""

    def __init__(self, client: Any, keys: Keyspace):
        self._client = client
        self._key = readers_key(keys.root)
        self._member = f"{keys.prefix}|{uuid.uuid4().hex}"

    async def renew(self) -> None:
        await self._client.zadd(self._key, {self._member: _ms() + READER_LEASE_MS})

    async def release(self) -> None:
        await self._client.zrem(self._key, self._member)


@contextlib.asynccontextmanager
async def reading(client: Any, keys: Keyspace) -> AsyncIterator[ReaderLease]:
    lease = ReaderLease(client, keys)
    await lease.renew()
    try:
        yield lease
    finally:
        await lease.release()


async def readers(client: Any, root: str, prefix: str) -> int:
    """Live leases on a generation."""
    members = await client.zrangebyscore(readers_key(root), _ms(), "+inf")
    return sum(1 for m in members if (m.decode() if isinstance(m, bytes) else m).split("|", 1)[0] == prefix)


def _ms() -> int:
    return int(time.time() * 1000)


class GenerationWatch:
    """Keeps a shared `Keyspace` on the active generation: readers built on it follow a swap
    within one poll interval. The previous generation is dropped only after a grace period
    longer than that interval, so a request in flight still finds its keys."""

    def __init__(self, client: Any, keyspace: Keyspace, *, interval: float = 0.2):
        self._client = client
        self._keyspace = keyspace
        self._interval = interval

    async def refresh(self) -> str:
        current = await active_prefix(self._client, self._keyspace.root)
        if current != self._keyspace.prefix:
            log.info("read models now served from generation %s", current)
            self._keyspace.prefix = current
        return current

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.refresh()
            except (OSError, RedisError) as exc:  # keep serving the last known generation
                log.warning("generation watch: %s", exc)
            try:
                await asyncio.wait_for(stop.wait(), self._interval)
            except TimeoutError:
                pass
