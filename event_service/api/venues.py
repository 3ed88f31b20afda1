"""EventService venue methods: translate the request, call one handler, translate the result."""

from __future__ import annotations

from event_service.api.convert import venue_to_proto
from event_service.application import access, venues
from kernel.errors import fields_under
from kernel.idempotency import fingerprint
from kernel.resources import resource_id
from kernel.unit_of_work import UnitOfWorkFactory
from turnout.event.v1 import event_service_pb2, venue_pb2


class VenueMethods:
    _uow: UnitOfWorkFactory

    async def CreateVenue(self, request: event_service_pb2.CreateVenueRequest, context) -> venue_pb2.Venue:
        access.check_catalog_write("CreateVenue")
        command = venues.CreateVenue(
            display_name=request.venue.display_name,
            address=request.venue.address,
            request_id=request.request_id,
            fingerprint=fingerprint(request),
        )
        with fields_under("venue"):
            venue = await venues.create_venue(command, self._uow)
        return venue_to_proto(venue)

    async def GetVenue(self, request: event_service_pb2.GetVenueRequest, context) -> venue_pb2.Venue:
        return venue_to_proto(await venues.get_venue(resource_id(request.name, "venues"), self._uow))

    async def ListVenues(self, request: event_service_pb2.ListVenuesRequest, context) -> event_service_pb2.ListVenuesResponse:
        page = await venues.list_venues(request.page_size, request.page_token, self._uow)
        return event_service_pb2.ListVenuesResponse(
            venues=[venue_to_proto(v) for v in page.venues], next_page_token=page.next_page_token
        )
