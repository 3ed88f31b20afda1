"""Domain objects as their protobuf messages."""

from __future__ import annotations

from event_service.domain.venues import Venue
from kernel.resources import to_timestamp
from turnout.event.v1 import venue_pb2


def venue_to_proto(venue: Venue) -> venue_pb2.Venue:
    return venue_pb2.Venue(name=f"venues/{venue.id}", display_name=venue.display_name,
                           address=venue.address, create_time=to_timestamp(venue.created_at))
