"""Documents of participants in Postgres."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from participant_service.adapters.tables import documents

_BATCH = 1000


@dataclass(frozen=True)
class DocumentRow:
    id: str
    participant_id: str
    kind: str
    stored_name: str
    content_type: str
    size_bytes: int
    sha256: str
    original_filename: str | None
    created_at: datetime


async def add_all(connection: AsyncConnection, rows: Sequence[DocumentRow]) -> None:
    if rows:
        await connection.execute(documents.insert(), [vars(row) for row in rows])


async def list_for(connection: AsyncConnection, participant_id: str) -> list[DocumentRow]:
    result = await connection.execute(sa.select(documents).where(documents.c.participant_id == participant_id)
                                      .order_by(documents.c.created_at, documents.c.id))
    return [DocumentRow(**row._mapping) for row in result]


async def has_any(connection: AsyncConnection, participant_id: str) -> bool:
    return bool(await connection.scalar(
        sa.select(sa.exists().where(documents.c.participant_id == participant_id))))


async def referenced(connection: AsyncConnection, stored_names: Iterable[str]) -> set[str]:
    """Which of `stored_names` a document row references."""
    names = list(stored_names)
    found: set[str] = set()
    for start in range(0, len(names), _BATCH):
        batch = names[start:start + _BATCH]
        found |= set(await connection.scalars(
            sa.select(documents.c.stored_name).where(documents.c.stored_name.in_(batch))))
    return found
