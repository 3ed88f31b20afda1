"""Participants in Postgres."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from participant_service.adapters.tables import card_numbers, participants
from participant_service.domain.participants import Participant, ParticipantKind, VerificationStatus
from participant_service.domain.visitors import Candidate


def _participant(row: sa.Row) -> Participant:
    return Participant(id=row.id, card_number=row.card_number, first_name=row.first_name,
                       last_name=row.last_name, kind=ParticipantKind(row.kind),
                       created_at=row.created_at, version=row.version, phone=row.phone,
                       comment=row.comment, messenger_id=row.messenger_id,
                       messenger_username=row.messenger_username, created_by=row.created_by,
                       verification_status=VerificationStatus(row.verification_status)
                       if row.verification_status else None,
                       verification_reason=row.verification_reason)


def _columns(participant: Participant) -> dict:
    """The editable columns and the search keys derived from them."""
    keys = participant.name_keys
    return dict(first_name=participant.first_name, last_name=participant.last_name, kind=participant.kind.value,
                phone=participant.phone, comment=participant.comment, messenger_id=participant.messenger_id,
                messenger_username=participant.messenger_username,
                first_name_key=keys.first, last_name_key=keys.last, full_name_key=keys.full)


async def next_card_number(connection: AsyncConnection) -> str:
    return str(await connection.scalar(card_numbers.next_value()))


async def add(connection: AsyncConnection, participant: Participant) -> None:
    await connection.execute(
        participants.insert().values(
            id=participant.id, card_number=participant.card_number, created_at=participant.created_at,
            version=participant.version, created_by=participant.created_by, **_columns(participant),
            **_verification(participant),
        )
    )


def _verification(participant: Participant) -> dict:
    status = participant.verification_status
    return dict(verification_status=status.value if status else None,
                verification_reason=participant.verification_reason)


async def update_verification(connection: AsyncConnection, participant: Participant) -> None:
    """Writes the verification status and reason and the participant's version."""
    await connection.execute(participants.update().where(participants.c.id == participant.id)
                             .values(version=participant.version, **_verification(participant)))


async def get_for_update(connection: AsyncConnection, participant_id: str) -> Participant | None:
    row = (await connection.execute(
        sa.select(participants).where(participants.c.id == participant_id).with_for_update())).first()
    return _participant(row) if row else None


async def update(connection: AsyncConnection, participant: Participant) -> None:
    """Writes the editable fields (search keys recomputed) and the participant's version."""
    await connection.execute(participants.update().where(participants.c.id == participant.id)
                             .values(version=participant.version, **_columns(participant)))


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


def _like_prefix(text: str) -> str:
    """A LIKE pattern matching values that start with `text` literally (PostgreSQL's default
    LIKE escape character is the backslash)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def search_query(*, key: str, exact_id: str, after: tuple[str, str, str] | None, limit: int,
                 phone_prefix: str | None = None) -> sa.Select:
    """Participants whose card number, last name key or "first last" key starts with `key`, or
    whose phone starts with `phone_prefix` (when given), or whose id is `exact_id`; ordered by (last name key, first name key, id), keyset after `after`.
    Each arm of the OR has its own index (text_pattern_ops ones and the primary key).

    The pattern is rendered into the SQL (literal_execute, quoted by SQLAlchemy), not sent as a
    parameter: asyncpg prepares statements, PostgreSQL switches a prepared statement to a generic
    plan after five runs when that looks no dearer, and a generic plan cannot use an index for
    `LIKE $1` (the prefix is unknown) — it scans the whole table.
    """
    pattern = sa.literal(_like_prefix(key), sa.Text, literal_execute=True)
    t = participants.c
    arms = [t.card_number.like(pattern), t.last_name_key.like(pattern), t.full_name_key.like(pattern),
            t.id == exact_id]
    if phone_prefix:
        arms.append(t.phone.like(sa.literal(_like_prefix(phone_prefix), sa.Text, literal_execute=True)))
    query = (sa.select(participants)
             .where(sa.or_(*arms))
             .order_by(t.last_name_key, t.first_name_key, t.id).limit(limit))
    if after is not None:
        query = query.where(sa.tuple_(t.last_name_key, t.first_name_key, t.id)
                            > sa.tuple_(sa.literal(after[0]), sa.literal(after[1]), sa.literal(after[2])))
    return query


async def search_page(connection: AsyncConnection, *, key: str, exact_id: str,
                      after: tuple[str, str, str] | None, limit: int,
                      phone_prefix: str | None = None) -> list[tuple[Participant, tuple[str, str, str]]]:
    """Matches, each with its keyset position as stored (what the database ordered by)."""
    query = search_query(key=key, exact_id=exact_id, after=after, limit=limit, phone_prefix=phone_prefix)
    return [(_participant(row), (row.last_name_key, row.first_name_key, row.id))
            for row in await connection.execute(query)]


async def sign_in_candidates(connection: AsyncConnection, *, card_number: str | None = None,
                             phone: str | None = None, limit: int = 10) -> list[Candidate]:
    """Who holds this card number (at most one) or this phone (a family may share one), for
    the visitor sign-in; an index lookup either way (the unique card index, the phone index)."""
    t = participants.c
    column, value = (t.card_number, card_number) if card_number is not None else (t.phone, phone)
    query = sa.select(t.id, t.last_name).where(column == value).order_by(t.id).limit(limit)
    return [Candidate(row.id, row.last_name) for row in await connection.execute(query)]
