"""The service catalog's data file, loaded into the `services` table.

event-service runs `load_service_catalog` at start-up, so the table follows
`event_service/data/services.json`: new entries are inserted, changed ones updated, in one
idempotent upsert that several replicas may run at once. An entry removed from the file stays
in the table (sessions and templates refer to it) but keeps its old position.
"""

from __future__ import annotations

import json
import pathlib
import re

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from event_service.adapters.tables import services
from event_service.domain.events import MAX_BOOKING_WINDOW_DAYS, MAX_CAPACITY, MAX_DURATION_MINUTES, Service

DEFAULT_PATH = pathlib.Path(__file__).resolve().parent.parent / "data" / "services.json"

_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_LIMITS = {
    "default_capacity": MAX_CAPACITY,
    "default_booking_window_days": MAX_BOOKING_WINDOW_DAYS,
    "default_duration_minutes": MAX_DURATION_MINUTES,
}


class CatalogFileError(ValueError):
    """The data file is not a valid catalog; the message names the entry and the field."""


def read_service_catalog(path: pathlib.Path | str = DEFAULT_PATH) -> list[Service]:
    """The catalog entries of a data file, checked, in file order."""
    path = pathlib.Path(path)
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))["services"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CatalogFileError(f"{path}: not a service catalog ({exc})") from None
    if not isinstance(entries, list):
        raise CatalogFileError(f"{path}: 'services' must be a list")
    catalog: list[Service] = []
    seen: set[str] = set()
    for position, entry in enumerate(entries):
        where = f"{path}: services[{position}]"
        if not isinstance(entry, dict):
            raise CatalogFileError(f"{where} must be an object")
        slug = entry.get("id")
        if not isinstance(slug, str) or not _SLUG.fullmatch(slug):
            raise CatalogFileError(f"{where}.id must be a slug like 'laundry', got {slug!r}")
        if slug in seen:
            raise CatalogFileError(f"{where}.id {slug!r} appears twice")
        seen.add(slug)
        name = entry.get("display_name")
        if not isinstance(name, str) or not name.strip():
            raise CatalogFileError(f"{where}.display_name is required")
        for key, most in _LIMITS.items():
            value = entry.get(key)
            if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= most:
                raise CatalogFileError(f"{where}.{key} must be an integer between 1 and {most}, got {value!r}")
        catalog.append(Service(id=slug, display_name=name.strip(), default_capacity=entry["default_capacity"],
                               default_booking_window_days=entry["default_booking_window_days"],
                               default_duration_minutes=entry["default_duration_minutes"], position=position))
    return catalog


async def _upsert(connection: AsyncConnection, catalog: list[Service]) -> None:
    if not catalog:
        return
    statement = insert(services).values([
        {"id": s.id, "display_name": s.display_name, "default_capacity": s.default_capacity,
         "default_booking_window_days": s.default_booking_window_days,
         "default_duration_minutes": s.default_duration_minutes, "position": s.position}
        for s in catalog
    ])
    excluded = statement.excluded
    await connection.execute(statement.on_conflict_do_update(
        index_elements=[services.c.id],
        set_={column: getattr(excluded, column) for column in
              ("display_name", "default_capacity", "default_booking_window_days", "default_duration_minutes",
               "position")},
    ))


async def load_service_catalog(bind: AsyncEngine | AsyncConnection,
                               path: pathlib.Path | str = DEFAULT_PATH) -> list[Service]:
    """Upserts the data file's entries into `services` (INSERT ... ON CONFLICT (id) DO UPDATE).
    With an engine it commits its own transaction; with a connection it runs in the caller's."""
    catalog = read_service_catalog(path)
    if isinstance(bind, AsyncEngine):
        async with bind.begin() as connection:
            await _upsert(connection, catalog)
    else:
        await _upsert(bind, catalog)
    return catalog
