"""Venue commands and queries."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from event_service.adapters import venue_repository
from event_service.adapters.tables import idempotency_keys
from event_service.domain.venues import Venue, VenueCreated, new_venue
from kernel import pagination
from kernel.errors import NotFound
from kernel.idempotency import execute_once
from kernel.unit_of_work import UnitOfWork, UnitOfWorkFactory


@dataclass(frozen=True)
class CreateVenue:
    display_name: str
    address: str
    request_id: str
    fingerprint: str


@dataclass(frozen=True)
class VenuePage:
    venues: list[Venue]
    next_page_token: str


async def create_venue(command: CreateVenue, uow_factory: UnitOfWorkFactory) -> Venue:
    async def work(uow: UnitOfWork) -> dict:
        venue = new_venue(venue_id=str(uuid.uuid4()), display_name=command.display_name,
                          address=command.address, now=datetime.now(UTC))
        await venue_repository.add(uow.connection, venue)
        uow.record(VenueCreated(venue))
        return {"venue_id": venue.id}

    outcome = await execute_once(uow_factory, idempotency_keys, request_id=command.request_id,
                                 method="CreateVenue", request_fingerprint=command.fingerprint, work=work)
    return await get_venue(outcome["venue_id"], uow_factory)


async def get_venue(venue_id: str, uow_factory: UnitOfWorkFactory) -> Venue:
    async with uow_factory() as uow:
        venue = await venue_repository.get(uow.connection, venue_id)
    if venue is None:
        raise NotFound(f"venue {venue_id} does not exist", metadata={"resource": f"venues/{venue_id}"})
    return venue


async def list_venues(page_size: int, page_token: str, uow_factory: UnitOfWorkFactory) -> VenuePage:
    limit = pagination.page_size(page_size)
    after = pagination.keyset_after(page_token)
    async with uow_factory() as uow:
        rows = await venue_repository.list_page(uow.connection, after=after, limit=limit + 1)
    return VenuePage(*pagination.page_of(rows, limit, lambda v: [v.name_key, v.id]))
