"""Shared helpers of the registration tests: participants, requests, and the checks that the
ledger (event_service) and the registrations (participant_service) agree.

A plain module: test modules import it as `from registration_fixtures import ...`.
"""

from __future__ import annotations

import asyncio
import uuid

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from turnout.participant.v1 import participant_pb2, participant_service_pb2, registration_service_pb2

ADMIN = (("x-turnout-actor", "admin-1"), ("x-turnout-roles", "admin"))


_LETTERS = "абвгдежзиклмнопрстуфхцчшэюя"


def letters(number: int) -> str:
    """A number spelt in Cyrillic letters: names may not hold digits."""
    word = ""
    while True:
        number, digit = divmod(number, len(_LETTERS))
        word = _LETTERS[digit] + word
        if not number:
            return word


def actor(name: str, *roles: str, participant_id: str = "") -> tuple[tuple[str, str], ...]:
    pairs = [("x-turnout-actor", name), ("x-turnout-roles", ",".join(roles))]
    if participant_id:
        pairs.append(("x-turnout-participant-id", participant_id))
    return tuple(pairs)


async def new_participants(stub, count: int, *, concurrency: int = 32) -> list[str]:
    """`count` fresh participants created through ParticipantService; their ids."""
    gate = asyncio.Semaphore(concurrency)

    async def one(index: int) -> str:
        async with gate:
            created = await stub.CreateParticipant(participant_service_pb2.CreateParticipantRequest(
                participant=participant_pb2.Participant(first_name="Анна", last_name=f"Тестова-{letters(index)}"),
                request_id=str(uuid.uuid4())), metadata=ADMIN)
        return created.name.removeprefix("participants/")

    return list(await asyncio.gather(*(one(i) for i in range(count))))


def register(session: str, participant_id: str, **fields) -> registration_service_pb2.CreateRegistrationRequest:
    return registration_service_pb2.CreateRegistrationRequest(
        session=session, participant=f"participants/{participant_id}",
        request_id=fields.pop("request_id", None) or str(uuid.uuid4()), **fields)


async def confirmed_seats(engine: AsyncEngine, session_id: str) -> set[str]:
    """Participants with a confirmed seat of the session in event_service's ledger."""
    async with engine.connect() as connection:
        rows = await connection.execute(sa.text(
            "SELECT participant_id FROM event_service.seats WHERE session_id = :s AND state = 'confirmed'"),
            {"s": session_id})
        return {row.participant_id for row in rows}


async def live_seats(engine: AsyncEngine, session_id: str) -> dict[str, str]:
    async with engine.connect() as connection:
        rows = await connection.execute(sa.text(
            "SELECT participant_id, state FROM event_service.seats WHERE session_id = :s "
            "AND state IN ('held', 'confirmed')"), {"s": session_id})
        return {row.participant_id: row.state for row in rows}


async def registration_rows(engine: AsyncEngine, session_id: str) -> list[sa.Row]:
    async with engine.connect() as connection:
        return list(await connection.execute(sa.text(
            "SELECT * FROM participant_service.registrations WHERE session_id = :s ORDER BY created_at"),
            {"s": session_id}))


async def confirmed_registrations(engine: AsyncEngine, session_id: str) -> set[str]:
    return {row.participant_id for row in await registration_rows(engine, session_id) if row.state == "confirmed"}
