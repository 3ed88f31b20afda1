"""Applies projected changes to Redis exactly once per aggregate version.

Each envelope becomes a list of Redis commands; one Lua script checks the aggregate's last
applied version, runs the commands and records the new version atomically, so a duplicate,
a replay or a redelivery after a crash changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import redis

from reporting_service.keyspace import Keyspace

Command = list[str | int]

_APPLY_ONCE = """
local applied = redis.call('HGET', KEYS[1], ARGV[1])
if applied and tonumber(applied) >= tonumber(ARGV[2]) then
  redis.call('HINCRBY', KEYS[2], 'skipped_duplicates', 1)
  return 0
end
for _, command in ipairs(cjson.decode(ARGV[3])) do
  redis.call(unpack(command))
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('HINCRBY', KEYS[2], 'applied_events', 1)
return 1
"""


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
        self._client = client
        self._keyspace = keyspace
        self._script = client.register_script(_APPLY_ONCE)

    @property
    def keyspace(self) -> Keyspace:
        return self._keyspace

    def apply(self, changes: Sequence[Change]) -> int:
        """Applies changes in order in one round trip; returns how many were new."""
        if not changes:
            return 0
        pipeline = self._client.pipeline(transaction=False)
        for change in changes:
            self._script(
                keys=[self._keyspace.versions(change.topic, change.aggregate_type), self._keyspace.totals],
                args=[change.aggregate_id, change.aggregate_version, json.dumps(change.commands)],
                client=pipeline,
            )
        return sum(int(result) for result in pipeline.execute())
