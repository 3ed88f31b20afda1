"""`/v1/venues`: EventService venues and their ReportingService read model."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, ConfigDict, Field

from gateway.backends import EventBackend, ReportingBackend
from gateway.routes import (
    IdempotencyKey,
    PageSize,
    PageToken,
    idempotency_request_id,
    resource_id,
    resource_name,
    to_datetime,
)
from gateway.security import require_roles
from turnout.event.v1 import event_service_pb2, venue_pb2
from turnout.reporting.v1 import reporting_service_pb2

router = APIRouter(prefix="/v1/venues", tags=["venues"])

# BadRequest violations name proto paths; clients know the names they sent.
VENUE_FIELDS = {
    "venue.display_name": "name",
    "venue.address": "address",
    "request_id": "Idempotency-Key",
    "page_size": "page_size",
    "page_token": "page_token",
}


class VenueIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Limits mirror the proto comment so absurd bodies stop here; uniqueness and anything
    # subtler is the service's call.
    name: str = Field(min_length=1, max_length=200)
    address: str | None = Field(default=None, max_length=500)


class VenueOut(BaseModel):
    id: str
    name: str
    address: str | None
    created_at: datetime | None


class VenueList(BaseModel):
    venues: list[VenueOut]
    next_page_token: str | None


class VenueStatsOut(BaseModel):
    id: str
    name: str
    address: str | None
    event_count: int
    projected_version: int
    updated_at: datetime | None


def _venue_out(venue: venue_pb2.Venue) -> VenueOut:
    return VenueOut(
        id=resource_id(venue.name, "venues"),
        name=venue.display_name,
        address=venue.address or None,
        created_at=to_datetime(venue.create_time),
    )


@router.post(
    "",
    status_code=201,
    response_model=VenueOut,
    dependencies=[Depends(require_roles("admin"))],
    responses={201: {"headers": {"Location": {"description": "URL of the new venue"}}}},
)
async def create_venue(
    body: VenueIn, response: Response, event: EventBackend, idempotency_key: IdempotencyKey = None
) -> VenueOut:
    request = event_service_pb2.CreateVenueRequest(
        venue=venue_pb2.Venue(display_name=body.name, address=body.address or ""),
        request_id=idempotency_request_id(idempotency_key),
    )
    venue = _venue_out(await event.call(event.stub.CreateVenue, request, fields=VENUE_FIELDS))
    response.headers["Location"] = f"/v1/venues/{venue.id}"
    return venue


@router.get("", response_model=VenueList)
async def list_venues(event: EventBackend, page_size: PageSize = 0, page_token: PageToken = "") -> VenueList:
    request = event_service_pb2.ListVenuesRequest(page_size=page_size, page_token=page_token)
    reply = await event.call(event.stub.ListVenues, request, fields=VENUE_FIELDS)
    return VenueList(venues=[_venue_out(v) for v in reply.venues], next_page_token=reply.next_page_token or None)


@router.get("/{venue_id}", response_model=VenueOut)
async def get_venue(venue_id: str, event: EventBackend) -> VenueOut:
    request = event_service_pb2.GetVenueRequest(name=resource_name("venues", venue_id))
    return _venue_out(await event.call(event.stub.GetVenue, request))


@router.get("/{venue_id}/stats", response_model=VenueStatsOut)
async def get_venue_stats(venue_id: str, reporting: ReportingBackend) -> VenueStatsOut:
    """From the read model, which trails the command side: 404 until the projector has
    applied the venue."""
    request = reporting_service_pb2.GetVenueStatsRequest(name=resource_name("venues", venue_id) + "/stats")
    stats = await reporting.call(reporting.stub.GetVenueStats, request)
    return VenueStatsOut(
        id=resource_id(stats.name, "venues") or venue_id,
        name=stats.display_name,
        address=stats.address or None,
        event_count=stats.event_count,
        projected_version=stats.projected_version,
        updated_at=to_datetime(stats.update_time),
    )
