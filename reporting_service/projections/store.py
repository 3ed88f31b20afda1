"""Applies projected changes to Redis exactly once per aggregate version.

Each envelope becomes a list of Redis commands; one Lua script checks the aggregate's last
applied version, runs the commands and records the new version atomically, so a duplicate,
a replay or a redelivery after a crash changes nothing.

A store either writes one fixed generation (a rebuild, tests) or is *live*: the script then
resolves the active generation inside Redis and refuses while a rebuild's handover fence
stands (see `reporting_service/generations.py`), so no envelope lands on a generation that
is being swapped out.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import redis

from reporting_service import generations
from reporting_service.keyspace import Keyspace

Command = list[str | int]

# KEYS: active-generation pointer, fence, refusals. ARGV: the live root ('' for a fixed
# generation, whose keys then come whole), versions key, totals key, aggregate id, version,
# JSON commands, the batch's id. Returns 1 applied, 0 duplicate, -1 refused by the fence.
# A refusal is sticky for the rest of its batch: otherwise a later change of the batch could
# land (after the swap) before the refused one is re-delivered, which would then be skipped
# as older.
_APPLY_ONCE = """
local prefix = ''
if ARGV[1] ~= '' then
  if redis.call('HEXISTS', KEYS[3], ARGV[7]) == 1 then return -1 end
  if redis.call('EXISTS', KEYS[2]) == 1 then
    redis.call('HSET', KEYS[3], ARGV[7], 1)
    return -1
  end
  prefix = redis.call('GET', KEYS[1]) or ARGV[1]
end
local versions, totals = prefix .. ARGV[2], prefix .. ARGV[3]
local applied = redis.call('HGET', versions, ARGV[4])
if applied and tonumber(applied) >= tonumber(ARGV[5]) then
  redis.call('HINCRBY', totals, 'skipped_duplicates', 1)
  return 0
end
for _, command in ipairs(cjson.decode(ARGV[6])) do
  command[2] = prefix .. command[2]
  redis.call(unpack(command))
end
redis.call('HSET', versions, ARGV[4], ARGV[5])
redis.call('HINCRBY', totals, 'applied_events', 1)
return 1
"""


class Fenced(Exception):
    """A rebuild is handing over: the live projector must wait and re-deliver."""


@dataclass(frozen=True)
class Meta:
    """What a projection may use of the envelope besides its payload."""

    occurred_at: str  # ISO 8601, UTC, "...Z"
    version: int  # the aggregate's version after the change


@dataclass(frozen=True)
class Change:
    """The effect of one envelope on the read models."""

    topic: str
    aggregate_type: str
    aggregate_id: str
    aggregate_version: int
    commands: Sequence[Command]


class ProjectionStore:
    def __init__(self, client: redis.Redis, keyspace: Keyspace):
        """Writes the generation of `keyspace`, whatever is active."""
        self._client = client
        self._keyspace = keyspace
        self._live_root = ""
        self._script = client.register_script(_APPLY_ONCE)

    @classmethod
    def live(cls, client: redis.Redis, root: str = "rm") -> ProjectionStore:
        """Writes the active generation of `root`, refusing while a handover fence stands."""
        store = cls(client, Keyspace("", root=root))
        store._live_root = root
        return store

    @property
    def keyspace(self) -> Keyspace:
        """The key names changes must be built with for this store."""
        return self._keyspace

    def apply(self, changes: Sequence[Change]) -> int:
        """Applies changes in order in one round trip; returns how many were new. Raises
        `Fenced` when a handover refused some (those before it may have been applied: they
        are skipped as duplicates when re-delivered)."""
        if not changes:
            return 0
        root = self._keyspace.root
        pointer_keys = [generations.active_key(root), generations.fence_key(root), generations.refusals_key(root)]
        batch = uuid.uuid4().hex if self._live_root else ""
        pipeline = self._client.pipeline(transaction=False)
        for change in changes:
            self._script(
                keys=pointer_keys,
                args=[self._live_root, self._keyspace.versions(change.topic, change.aggregate_type),
                      self._keyspace.totals, change.aggregate_id, change.aggregate_version,
                      json.dumps(change.commands), batch],
                client=pipeline,
            )
        if batch:
            pipeline.hdel(pointer_keys[2], batch)
        results = [int(result) for result in pipeline.execute()[:len(changes)]]
        if -1 in results:
            raise Fenced(f"{results.count(-1)} of {len(results)} changes refused by the handover fence")
        return sum(results)
