"""Queries over the Redis read models."""

from __future__ import annotations

from dataclasses import dataclass

import redis.asyncio as aioredis

from kernel import topics
from reporting_service.keyspace import Keyspace


@dataclass(frozen=True)
class VenueView:
    venue_id: str
    display_name: str
    address: str
    event_count: int
    projected_version: int
    update_time: str


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

    async def totals(self) -> ProjectionTotals:
        fields = await self._client.hgetall(self._keys.totals)
        return ProjectionTotals(**{name: int(fields.get(name, 0)) for name in ProjectionTotals.__dataclass_fields__})
