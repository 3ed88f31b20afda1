"""event_service's domain events as the protobuf payloads it publishes."""

from __future__ import annotations

from event_service.api.convert import venue_to_proto
from event_service.domain.venues import VenueCreated
from kernel import topics
from kernel.unit_of_work import OutboxMessage, event_mapper
from turnout.event.v1 import catalog_events_pb2


to_message = event_mapper()


@to_message.register
def _(event: VenueCreated) -> OutboxMessage:
    return OutboxMessage(
        topic=topics.CATALOG,
        aggregate_type="venue",
        aggregate_id=event.venue.id,
        aggregate_version=event.venue.version,
        payload=catalog_events_pb2.VenueCreated(venue=venue_to_proto(event.venue)),
    )
