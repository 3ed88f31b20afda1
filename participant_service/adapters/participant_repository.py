"""Participants in Postgres."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from participant_service.adapters.tables import card_numbers, participants
from participant_service.domain.participants import Participant, ParticipantKind


def _participant(row: sa.Row) -> Participant:
    return Participant(id=row.id, card_number=row.card_number, first_name=row.first_name,
                       last_name=row.last_name, kind=ParticipantKind(row.kind),
                       created_at=row.created_at, version=row.version)


async def next_card_number(connection: AsyncConnection) -> str:
    return str(await connection.scalar(card_numbers.next_value()))


async def add(connection: AsyncConnection, participant: Participant) -> None:
    await connection.execute(
        participants.insert().values(
            id=participant.id, card_number=participant.card_number, first_name=participant.first_name,
            last_name=participant.last_name, kind=participant.kind.value,
            created_at=participant.created_at, version=participant.version,
        )
    )


async def get(connection: AsyncConnection, participant_id: str) -> Participant | None:
    row = (await connection.execute(sa.select(participants).where(participants.c.id == participant_id))).first()
    return _participant(row) if row else None


async def list_page(connection: AsyncConnection, *, after: tuple[str, str] | None, limit: int) -> list[Participant]:
    """Newest first, keyset on (created_at, id)."""
    query = (sa.select(participants)
             .order_by(participants.c.created_at.desc(), participants.c.id.desc()).limit(limit))
    if after is not None:
        query = query.where(
            sa.tuple_(participants.c.created_at, participants.c.id)
            < sa.tuple_(sa.cast(sa.literal(after[0]), sa.DateTime(timezone=True)), sa.literal(after[1]))
        )
    return [_participant(row) for row in await connection.execute(query)]
