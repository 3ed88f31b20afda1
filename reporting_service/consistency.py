"""The consistency check: read models against the command side, every difference by key.

The one place where reporting_service reads the command services' tables, because its job is
to compare: seats of each session (held, confirmed, capacity), distinct participants of each
occurrence, use of each pool, and registrations of each session by state and by
reconfirmation (the registration's own value, which the stats buckets are summed from, so a
bucket cannot agree unless its values do). A key the read model lacks counts as a difference
only when the command side has something there (a session nobody booked may be unknown to
the read side without being wrong).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

import asyncpg
import redis.asyncio as aioredis

from reporting_service.keyspace import Keyspace
from reporting_service.projections.availability import session_head

BATCH = 500
# (session id, compared field, count) of the command side. participant_service keeps a
# registration's reconfirmation as the read model's word (NULL when not asked).
_REGISTRATIONS_BY_STATE = ("SELECT session_id, 'registrations.' || state AS field, count(*) AS n "
                           "FROM participant_service.registrations GROUP BY session_id, state")
_REGISTRATIONS_BY_RECONFIRMATION = (
    "SELECT session_id, 'reconfirmations.' || reconfirmation AS field, count(*) AS n "
    "FROM participant_service.registrations WHERE reconfirmation IS NOT NULL GROUP BY session_id, reconfirmation")


@dataclass(frozen=True)
class Mismatch:
    key: str  # "sessions/{id}", "occurrences/{id}", "pools/{id}"
    field: str
    read_model: int | None  # None: the read model has no such key
    command_side: int


@dataclass(frozen=True)
class Report:
    checked: int
    mismatches: list[Mismatch]


class ConsistencyChecker:
    def __init__(self, dsn: str, client: aioredis.Redis, keyspace: Keyspace):
        self._dsn = dsn
        self._client = client
        self._keys = keyspace

    async def check(self) -> Report:
        connection = await asyncpg.connect(self._dsn)
        try:
            # One snapshot of the command side, so its own figures agree with each other.
            async with connection.transaction(isolation="repeatable_read", readonly=True):
                sessions = await connection.fetch(
                    "SELECT id, capacity, held, confirmed FROM event_service.sessions")
                occurrences = await connection.fetch(
                    "SELECT id, participants FROM event_service.occurrences WHERE participants > 0")
                pools = await connection.fetch(
                    'SELECT p.id, p."limit", p.used, array_agg(ps.session_id) AS sessions '
                    "FROM event_service.pools p JOIN event_service.pool_sessions ps ON ps.pool_id = p.id "
                    "WHERE p.used > 0 GROUP BY p.id")
                registrations = await connection.fetch(_REGISTRATIONS_BY_STATE)
                registrations += await connection.fetch(_REGISTRATIONS_BY_RECONFIRMATION)
        finally:
            await connection.close()
        mismatches: list[Mismatch] = []
        mismatches += await self._sessions(sessions)
        mismatches += await self._occurrences(occurrences)
        mismatches += await self._pools(pools)
        mismatches += await self._registrations(registrations)
        return Report(len(sessions) + len(occurrences) + len(pools), mismatches)

    async def _sessions(self, rows: list[asyncpg.Record]) -> list[Mismatch]:
        found = []
        for start in range(0, len(rows), BATCH):
            batch = rows[start:start + BATCH]
            pipeline = self._client.pipeline(transaction=False)
            for row in batch:
                pipeline.hmget(self._keys.session_seats(row["id"]), "held", "confirmed")
                pipeline.zrevrange(self._keys.session_capacity(row["id"]), 0, 0)
            answers = await pipeline.execute()
            for index, row in enumerate(batch):
                (held, confirmed), head = answers[2 * index], session_head(answers[2 * index + 1])
                key = f"sessions/{row['id']}"
                if head is not None and head.capacity is None:
                    held = confirmed = None  # deleted on the read side: as if unknown
                if held is None and confirmed is None and (head is None or head.capacity is None):
                    if row["held"] or row["confirmed"]:
                        found += [Mismatch(key, "held", None, row["held"]),
                                  Mismatch(key, "confirmed", None, row["confirmed"])]
                    continue
                projected = {"held": int(held or 0), "confirmed": int(confirmed or 0),
                             "capacity": head.capacity if head else None}
                found += [Mismatch(key, name, projected[name], row[name])
                          for name in ("held", "confirmed", "capacity") if projected[name] != row[name]]
        return found

    async def _occurrences(self, rows: list[asyncpg.Record]) -> list[Mismatch]:
        pipeline = self._client.pipeline(transaction=False)
        for row in rows:
            pipeline.hvals(self._keys.occurrence_seats(row["id"]))
        answers = await pipeline.execute() if rows else []
        return [Mismatch(f"occurrences/{row['id']}", "participants", len(set(values)) if values else None,
                         row["participants"])
                for row, values in zip(rows, answers) if len(set(values)) != row["participants"]]

    async def _pools(self, rows: list[asyncpg.Record]) -> list[Mismatch]:
        found = []
        for row in rows:
            pipeline = self._client.pipeline(transaction=False)
            pipeline.hget(self._keys.pool(row["id"]), "limit")
            for session_id in row["sessions"]:
                pipeline.hmget(self._keys.session_seats(session_id), "held", "confirmed")
            limit, *seats = await pipeline.execute()
            used = sum(int(h or 0) + int(c or 0) for h, c in seats)
            key = f"pools/{row['id']}"
            if limit is None:
                found.append(Mismatch(key, "used", None, row["used"]))
                continue
            if used != row["used"]:
                found.append(Mismatch(key, "used", used, row["used"]))
            if int(limit) != row["limit"]:
                found.append(Mismatch(key, "limit", int(limit), row["limit"]))
        return found

    async def _registrations(self, rows: list[asyncpg.Record]) -> list[Mismatch]:
        """Each session's registrations by state and by reconfirmation."""
        expected: dict[str, Counter] = defaultdict(Counter)
        for row in rows:
            expected[row["session_id"]][row["field"]] = row["n"]
        session_ids = sorted(expected)
        pipeline = self._client.pipeline(transaction=False)
        for session_id in session_ids:
            pipeline.hvals(self._keys.session_registrations(session_id))
        answers = await pipeline.execute() if session_ids else []
        found = []
        for session_id, values in zip(session_ids, answers):
            projected = Counter(name for value in values for name in _fields_of(value))
            for name in sorted(set(projected) | set(expected[session_id])):
                if projected[name] != expected[session_id][name]:
                    found.append(Mismatch(f"sessions/{session_id}", name,
                                          projected[name] if values else None, expected[session_id][name]))
        return found


def _fields_of(entry: str) -> list[str]:
    """The compared fields a session's registration entry (projections/stats.py) counts in."""
    state, _, reconfirmation = (entry.split("|") + ["", ""])[:3]
    return [f"registrations.{state}"] + ([f"reconfirmations.{reconfirmation}"] if reconfirmation else [])
