"""Ledger test fixtures written straight into event_service's tables (venue, service, event,
session templates, one occurrence, its sessions and pools), independent of CreateEvent, and
the checks every ledger test ends with: counters equal the live seat rows.

A plain module: test modules import it as `from ledger_fixtures import ...`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncEngine

from event_service.adapters.tables import (
    events,
    occurrence_participants,
    occurrences,
    outbox,
    pool_sessions,
    pool_templates,
    pools,
    seats,
    services,
    session_templates,
    sessions,
    venues,
)
from turnout.common.v1 import envelope_pb2

SERVICE_ID = "ledger-test-service"


@dataclass(frozen=True)
class SessionSpec:
    key: str
    capacity: int
    starts_in: timedelta = timedelta(days=3)  # from `now`
    booking_window_days: int = 7


@dataclass(frozen=True)
class PoolSpec:
    key: str
    limit: int
    session_keys: tuple[str, ...]


@dataclass
class Occurrence:
    event_id: str
    occurrence_id: str
    sessions: dict[str, str] = field(default_factory=dict)  # key -> session id
    pools: dict[str, str] = field(default_factory=dict)  # key -> pool id
    starts_at: dict[str, datetime] = field(default_factory=dict)

    def session(self, key: str) -> str:
        return f"sessions/{self.sessions[key]}"


async def create_occurrence(
    engine: AsyncEngine,
    sessions_spec: list[SessionSpec],
    pools_spec: list[PoolSpec] = (),  # type: ignore[assignment]
    *,
    event_capacity: int = 300,
    max_sessions_per_participant: int | None = None,
    status: str = "active",
    now: datetime | None = None,
) -> Occurrence:
    """One event with one occurrence and the given sessions and pools, all fresh ids."""
    now = now or datetime.now(UTC)
    tag = uuid.uuid4().hex[:12]
    venue_id, event_id, occurrence_id = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    result = Occurrence(event_id=event_id, occurrence_id=occurrence_id)
    async with engine.begin() as connection:
        service_id = await _a_service(connection)
        await connection.execute(venues.insert().values(
            id=venue_id, display_name=f"Ledger venue {tag}", name_key=f"ledger venue {tag}", created_at=now))
        await connection.execute(events.insert().values(
            id=event_id, title=f"Ledger {tag}", title_key=f"ledger {tag}", venue_id=venue_id,
            capacity=event_capacity, kind="one_off", first_date=now.date(), time_zone="UTC",
            max_sessions_per_participant=max_sessions_per_participant, status=status, created_at=now,
            updated_at=now, version=1))
        await connection.execute(occurrences.insert().values(
            id=occurrence_id, event_id=event_id, date=now.date(), capacity=event_capacity))
        for position, spec in enumerate(sessions_spec):
            template_id, session_id = str(uuid.uuid4()), str(uuid.uuid4())
            starts_at = now + spec.starts_in
            await connection.execute(session_templates.insert().values(
                id=template_id, event_id=event_id, key=spec.key, position=position, service_id=service_id,
                start_time=time(10, 0), duration_minutes=60, capacity=spec.capacity,
                booking_window_days=spec.booking_window_days))
            await connection.execute(sessions.insert().values(
                id=session_id, occurrence_id=occurrence_id, event_id=event_id, template_id=template_id,
                service_id=service_id, starts_at=starts_at, ends_at=starts_at + timedelta(hours=1),
                capacity=spec.capacity, booking_window_days=spec.booking_window_days))
            result.sessions[spec.key] = session_id
            result.starts_at[spec.key] = starts_at
        for spec in pools_spec:
            template_id, pool_id = str(uuid.uuid4()), str(uuid.uuid4())
            await connection.execute(pool_templates.insert().values(
                id=template_id, event_id=event_id, display_name=spec.key, limit=spec.limit, template_ids=[]))
            await connection.execute(pools.insert().values(
                id=pool_id, occurrence_id=occurrence_id, template_id=template_id, display_name=spec.key,
                limit=spec.limit))
            for key in spec.session_keys:
                await connection.execute(pool_sessions.insert().values(pool_id=pool_id,
                                                                       session_id=result.sessions[key]))
            result.pools[spec.key] = pool_id
    return result


async def _a_service(connection) -> str:
    """A service of the catalog (event-service loads it at start); one of our own only if the
    catalog is empty, so that tests listing the catalog never see it."""
    existing = await connection.scalar(sa.select(services.c.id).order_by(services.c.position).limit(1))
    if existing is not None:
        return existing
    await connection.execute(
        pg_insert(services).values(
            id=SERVICE_ID, display_name="Ledger test", default_capacity=10, default_booking_window_days=7,
            default_duration_minutes=60, position=999).on_conflict_do_nothing())
    return SERVICE_ID


def participant() -> str:
    return f"participants/{uuid.uuid4()}"


async def ledger_mismatches(engine: AsyncEngine, occurrence_id: str) -> list[str]:
    """Every counter of the occurrence that differs from its live seat rows (empty: all equal),
    plus any counter below zero."""
    live = "s.state IN ('held', 'confirmed')"
    checks = {
        "session held/confirmed": """
            SELECT x.id, x.held, x.confirmed, count(*) FILTER (WHERE s.state = 'held'),
                   count(*) FILTER (WHERE s.state = 'confirmed')
            FROM event_service.sessions x LEFT JOIN event_service.seats s ON s.session_id = x.id
            WHERE x.occurrence_id = :o GROUP BY x.id
            HAVING x.held <> count(*) FILTER (WHERE s.state = 'held')
                OR x.confirmed <> count(*) FILTER (WHERE s.state = 'confirmed') OR x.held < 0 OR x.confirmed < 0""",
        "pool used": f"""
            SELECT p.id, p.used, (SELECT count(*) FROM event_service.seats s
                                  JOIN event_service.pool_sessions ps ON ps.session_id = s.session_id
                                  WHERE ps.pool_id = p.id AND {live}) AS rows
            FROM event_service.pools p WHERE p.occurrence_id = :o
            AND (p.used < 0 OR p.used <> (SELECT count(*) FROM event_service.seats s
                                  JOIN event_service.pool_sessions ps ON ps.session_id = s.session_id
                                  WHERE ps.pool_id = p.id AND {live}))""",
        "occurrence participants": f"""
            SELECT o.id, o.participants, (SELECT count(DISTINCT participant_id) FROM event_service.seats s
                                          WHERE s.occurrence_id = o.id AND {live})
            FROM event_service.occurrences o WHERE o.id = :o
            AND o.participants <> (SELECT count(DISTINCT participant_id) FROM event_service.seats s
                                   WHERE s.occurrence_id = o.id AND {live})""",
        "participant live": f"""
            SELECT coalesce(op.participant_id, c.participant_id), op.live, c.n
            FROM (SELECT participant_id, live FROM event_service.occurrence_participants
                  WHERE occurrence_id = :o) op
            FULL JOIN (SELECT participant_id, count(*) AS n FROM event_service.seats s
                       WHERE s.occurrence_id = :o AND {live} GROUP BY participant_id) c
              ON c.participant_id = op.participant_id
            WHERE op.live IS DISTINCT FROM c.n""",
    }
    found = []
    async with engine.connect() as connection:
        for name, query in checks.items():
            for row in await connection.execute(sa.text(query), {"o": occurrence_id}):
                found.append(f"{name}: {tuple(row)}")
    return found


async def session_row(engine: AsyncEngine, session_id: str) -> sa.Row:
    async with engine.connect() as connection:
        return (await connection.execute(sa.select(sessions).where(sessions.c.id == session_id))).one()


async def seat_rows(engine: AsyncEngine, occurrence_id: str) -> list[sa.Row]:
    async with engine.connect() as connection:
        return (await connection.execute(
            sa.select(seats).where(seats.c.occurrence_id == occurrence_id).order_by(seats.c.created_at))).all()


async def participant_rows(engine: AsyncEngine, occurrence_id: str) -> dict[str, int]:
    async with engine.connect() as connection:
        rows = await connection.execute(sa.select(occurrence_participants.c.participant_id,
                                                  occurrence_participants.c.live)
                                        .where(occurrence_participants.c.occurrence_id == occurrence_id))
        return dict(rows.all())


async def ledger_envelopes(engine: AsyncEngine, session_id: str) -> list[envelope_pb2.Envelope]:
    """The session's outbox envelopes on the ledger topic, in commit (id) order."""
    async with engine.connect() as connection:
        blobs = (await connection.scalars(
            sa.select(outbox.c.envelope).where(outbox.c.message_key == session_id,
                                               outbox.c.topic == "turnout.ledger.v1")
            .order_by(outbox.c.id))).all()
    return [envelope_pb2.Envelope.FromString(blob) for blob in blobs]


async def outbox_count(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return await connection.scalar(sa.select(sa.func.count()).select_from(outbox))


async def seat_count(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return await connection.scalar(sa.select(sa.func.count()).select_from(seats))

