"""Queries over the Redis read models."""

from __future__ import annotations

from dataclasses import dataclass

import redis.asyncio as aioredis

from kernel import topics
from reporting_service.keyspace import Keyspace
from reporting_service.projections.availability import session_head


@dataclass(frozen=True)
class VenueView:
    venue_id: str
    display_name: str
    address: str
    event_count: int
    projected_version: int
    update_time: str


@dataclass(frozen=True)
class Use:
    """A capacity and what is taken of it."""

    name: str
    capacity: int
    used: int

    @property
    def available(self) -> int:
        return max(0, self.capacity - self.used)


@dataclass(frozen=True)
class AvailabilityView:
    session_id: str
    capacity: int
    held: int
    confirmed: int
    occurrence: Use | None
    pools: list[Use]
    update_time: str

    @property
    def available(self) -> int:
        return max(0, self.capacity - self.held - self.confirmed)


@dataclass(frozen=True)
class ProjectionTotals:
    applied_events: int
    skipped_duplicates: int
    venue_count: int
    participant_count: int


class ReadModels:
    def __init__(self, client: aioredis.Redis, keyspace: Keyspace):
        self._client = client
        self._keys = keyspace

    async def venue(self, venue_id: str) -> VenueView | None:
        pipeline = self._client.pipeline(transaction=False)
        pipeline.hgetall(self._keys.venue(venue_id))
        pipeline.hget(self._keys.versions(topics.CATALOG, "venue"), venue_id)
        fields, version = await pipeline.execute()
        if not fields:
            return None
        return VenueView(venue_id=venue_id, display_name=fields.get("display_name", ""),
                         address=fields.get("address", ""), event_count=int(fields.get("event_count", 0)),
                         projected_version=int(version or 0), update_time=fields.get("update_time", ""))

    async def availability(self, session_id: str) -> AvailabilityView | None:
        keys = self._keys
        first = self._client.pipeline(transaction=False)
        first.hgetall(keys.session_seats(session_id))
        first.zrevrange(keys.session_capacity(session_id), 0, 0)
        seats, members = await first.execute()
        head = session_head(members)
        if (not seats and head is None) or (head is not None and head.capacity is None):
            return None  # unknown, or deleted
        occurrence_id = seats.get("occurrence", "")
        pool_ids = [p for p in seats.get("pools", "").split(",") if p]
        second = self._client.pipeline(transaction=False)
        if occurrence_id:
            second.hget(keys.occurrence(occurrence_id), "capacity")
            second.hvals(keys.occurrence_seats(occurrence_id))
        for pool_id in pool_ids:
            second.hget(keys.pool(pool_id), "limit")
            second.smembers(keys.pool_sessions(pool_id))
        answers = list(await second.execute())
        occurrence = None
        if occurrence_id:
            occurrence_capacity, participants = answers[0], answers[1]
            answers = answers[2:]
            occurrence = Use(occurrence_id, int(occurrence_capacity or 0), len(set(participants)))
        pools = []
        for index, pool_id in enumerate(pool_ids):
            limit, members = answers[2 * index], answers[2 * index + 1]
            pools.append(Use(pool_id, int(limit or 0), await self._live_seats(sorted(members))))
        return AvailabilityView(
            session_id=session_id, capacity=head.capacity or 0 if head else 0,
            held=int(seats.get("held", 0)), confirmed=int(seats.get("confirmed", 0)), occurrence=occurrence,
            pools=pools, update_time=(head.update_time if head else "") or seats.get("update_time", ""))

    async def _live_seats(self, session_ids: list[str]) -> int:
        pipeline = self._client.pipeline(transaction=False)
        for session_id in session_ids:
            pipeline.hmget(self._keys.session_seats(session_id), "held", "confirmed")
        return sum(int(held or 0) + int(confirmed or 0) for held, confirmed in await pipeline.execute())

    async def totals(self) -> ProjectionTotals:
        fields = await self._client.hgetall(self._keys.totals)
        return ProjectionTotals(**{name: int(fields.get(name, 0)) for name in ProjectionTotals.__dataclass_fields__})
