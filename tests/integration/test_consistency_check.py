"""The consistency check against the real command side: read models projected from the
services' own outbox rows agree; every figure tampered with is reported by key."""

from __future__ import annotations

import pytest
import redis
import redis.asyncio as aioredis
import sqlalchemy as sa

from ledger_fixtures import PoolSpec, SessionSpec, create_occurrence
from registration_fixtures import ADMIN, new_participants, register
from reporting_service.consistency import ConsistencyChecker, Mismatch
from reporting_service.keyspace import Keyspace
from reporting_service.projections.registry import to_change
from reporting_service.projections.store import ProjectionStore
from turnout.participant.v1 import registration_service_pb2 as pb

pytestmark = pytest.mark.integration


async def outbox_envelopes(engine, schema: str, keys: list[str]) -> list[tuple[str, bytes]]:
    async with engine.connect() as connection:
        rows = await connection.execute(sa.text(
            f"SELECT topic, envelope FROM {schema}.outbox WHERE message_key = ANY(:keys) ORDER BY id"),
            {"keys": keys})
        return [(row.topic, row.envelope) for row in rows]


async def test_projected_outbox_agrees_and_tampering_is_reported(
        settings, unique, event_deps, registration_stub, participant_stub) -> None:
    engine = event_deps.engine
    occurrence = await create_occurrence(engine, [SessionSpec("a", 3), SessionSpec("b", 3)],
                                         [PoolSpec("p", 4, ("a", "b"))])
    a, b = occurrence.sessions["a"], occurrence.sessions["b"]
    people = await new_participants(participant_stub, 3)
    made = [await registration_stub.CreateRegistration(register(occurrence.session("a"), people[0]), metadata=ADMIN),
            await registration_stub.CreateRegistration(register(occurrence.session("b"), people[0]), metadata=ADMIN),
            await registration_stub.CreateRegistration(register(occurrence.session("a"), people[1], hold=True),
                                                       metadata=ADMIN)]
    cancelled = await registration_stub.CreateRegistration(register(occurrence.session("b"), people[2]),
                                                           metadata=ADMIN)
    await registration_stub.CancelRegistration(pb.CancelRegistrationRequest(
        name=cancelled.name, request_id=f"cancel-{unique}"), metadata=ADMIN)
    registration_ids = [r.name.removeprefix("registrations/") for r in (*made, cancelled)]

    keyspace = Keyspace(prefix=f"test-check-{unique}")
    store = ProjectionStore(redis.Redis.from_url(settings.redis_url), keyspace)
    envelopes = (await outbox_envelopes(engine, "event_service", [a, b])
                 + await outbox_envelopes(engine, "participant_service", registration_ids))
    store.apply([to_change(topic, raw, keyspace) for topic, raw in envelopes])

    client = aioredis.from_url(settings.redis_url, decode_responses=True)
    checker = ConsistencyChecker(settings.asyncpg_dsn, client, keyspace)
    ours = {f"sessions/{a}", f"sessions/{b}", f"occurrences/{occurrence.occurrence_id}",
            f"pools/{occurrence.pools['p']}"}
    try:
        report = await checker.check()
        assert [m for m in report.mismatches if m.key in ours] == []  # other tests' sessions are not projected here

        await client.hset(keyspace.session_seats(a), "held", 7)
        await client.hdel(keyspace.session_registrations(b), registration_ids[1])
        await client.hdel(keyspace.occurrence_seats(occurrence.occurrence_id),
                          *(await client.hkeys(keyspace.occurrence_seats(occurrence.occurrence_id))))
        report = await checker.check()
    finally:
        await client.aclose()
    found = {m for m in report.mismatches if m.key in ours}
    assert found == {
        Mismatch(f"sessions/{a}", "held", 7, 1),
        Mismatch(f"pools/{occurrence.pools['p']}", "used", 9, 3),
        Mismatch(f"sessions/{b}", "registrations.confirmed", 0, 1),
        Mismatch(f"occurrences/{occurrence.occurrence_id}", "participants", None, 2),
    }
