"""Read models fed by turnout.catalog.v1."""

from __future__ import annotations

from reporting_service.keyspace import Keyspace
from reporting_service.projections.store import Command, Meta
from turnout.event.v1 import catalog_events_pb2


def venue_created(event: catalog_events_pb2.VenueCreated, keys: Keyspace, meta: Meta) -> list[Command]:
    venue_id = event.venue.name.removeprefix("venues/")
    return [
        ["HSET", keys.venue(venue_id),
         "display_name", event.venue.display_name,
         "address", event.venue.address,
         "event_count", 0,
         "update_time", meta.occurred_at],
        ["HINCRBY", keys.totals, "venue_count", 1],
    ]


HANDLES = [(catalog_events_pb2.VenueCreated, venue_created)]
