"""Venues in Postgres."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from event_service.adapters.tables import venues
from event_service.domain.venues import Venue
from kernel.db import violated_constraint
from kernel.errors import AlreadyExists


def _venue(row: sa.Row) -> Venue:
    return Venue(id=row.id, display_name=row.display_name, address=row.address,
                 created_at=row.created_at, version=row.version)


async def add(connection: AsyncConnection, venue: Venue) -> None:
    try:
        async with connection.begin_nested():
            await connection.execute(
                venues.insert().values(id=venue.id, display_name=venue.display_name, name_key=venue.name_key,
                                       address=venue.address,
                                       created_at=venue.created_at, version=venue.version)
            )
    except IntegrityError as exc:
        if violated_constraint(exc) == "venues_name_key_unique":
            raise AlreadyExists(f"a venue named {venue.display_name!r} exists already",
                                metadata={"field": "venue.display_name"}) from None
        raise


async def get(connection: AsyncConnection, venue_id: str) -> Venue | None:
    row = (await connection.execute(sa.select(venues).where(venues.c.id == venue_id))).first()
    return _venue(row) if row else None


async def list_page(connection: AsyncConnection, *, after: tuple[str, str] | None, limit: int) -> list[Venue]:
    """Ordered by (name_key, id): stable keyset pages whatever is added meanwhile."""
    sort_key = venues.c.name_key
    query = sa.select(venues).order_by(sort_key, venues.c.id).limit(limit)
    if after is not None:
        query = query.where(sa.tuple_(sort_key, venues.c.id) > sa.tuple_(sa.literal(after[0]), sa.literal(after[1])))
    return [_venue(row) for row in await connection.execute(query)]
