"""One event through every part, and exactly-once effect across crashes of relay and projector.

REST → gateway → gRPC event_service → Postgres + outbox → relay → Kafka → projector → Redis →
REST, all real processes on the real engines.
"""

from __future__ import annotations

import asyncio
import signal
import time
import uuid

import pytest
import redis

from reporting_service import generations
from reporting_service.keyspace import Keyspace

pytestmark = pytest.mark.integration


async def _wait_for_stats(api, venue_id: str, timeout: float = 30.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answer = await api.get(f"/v1/venues/{venue_id}/stats")
        if answer.status_code == 200:
            return answer.json()
        assert answer.status_code == 404, answer.text
        await asyncio.sleep(0.05)
    raise AssertionError(f"venue {venue_id} never reached the read model")


async def test_a_venue_travels_through_every_part(api, unique):
    created = await api.post("/v1/venues", json={"name": f"Цветной {unique}", "address": "Цветной бульвар, 1"},
                             headers={"Idempotency-Key": str(uuid.uuid4())})
    assert created.status_code == 201, created.text
    venue = created.json()
    assert created.headers["location"] == f"/v1/venues/{venue['id']}"
    stats = await _wait_for_stats(api, venue["id"])
    assert stats["name"] == f"Цветной {unique}"
    assert stats["address"] == "Цветной бульвар, 1"
    assert stats["projected_version"] == 1


async def test_a_participant_is_created_and_read_back(api):
    created = await api.post("/v1/participants", json={"first_name": " Анна ", "last_name": "Иванова-Петрова"})
    assert created.status_code == 201, created.text
    participant = created.json()
    assert participant["card_number"].isdigit()
    assert participant["first_name"] == "Анна"
    fetched = await api.get(f"/v1/participants/{participant['id']}")
    assert fetched.json() == participant


def _exactly_once(stack) -> tuple[int, int]:
    """(venues counted by the projector, distinct venue read models): equal unless an envelope
    was applied twice."""
    client = redis.Redis.from_url(stack.engine_urls["redis"], decode_responses=True)
    keys = Keyspace(client.get(generations.active_key("rm")) or "rm")
    counted = int(client.hget(keys.totals, "venue_count") or 0)
    distinct = sum(1 for _ in client.scan_iter(keys.venue("*"), count=1000))
    return counted, distinct


async def test_killing_relay_and_projector_mid_stream_loses_and_duplicates_nothing(api, stack, unique):
    names = [f"crash {unique} {i:03d}" for i in range(150)]
    created: list[str] = []
    semaphore = asyncio.Semaphore(8)

    async def create(name: str) -> None:
        async with semaphore:
            answer = await api.post("/v1/venues", json={"name": name}, headers={"Idempotency-Key": str(uuid.uuid4())})
            assert answer.status_code == 201, answer.text
            created.append(answer.json()["id"])

    first = asyncio.gather(*[create(n) for n in names[:75]])
    await asyncio.sleep(0.3)
    stack.stop_component("event-relay", kill=True)   # SIGKILL: no chance to mark what it published
    stack.stop_component("projector", kill=True)     # SIGKILL: no chance to commit offsets
    await first
    await asyncio.gather(*[create(n) for n in names[75:]])
    stack.start_component("event-relay")
    stack.start_component("projector")
    stack.wait_ready(("event-relay", "projector"))

    views = await asyncio.gather(*[_wait_for_stats(api, venue_id, timeout=60) for venue_id in created])
    assert sorted(v["name"] for v in views) == sorted(names)
    assert all(v["projected_version"] == 1 for v in views)
    counted, distinct = _exactly_once(stack)
    assert counted == distinct, "an envelope was applied more than once"


async def test_sigterm_stops_a_service_cleanly_and_the_gateway_recovers(api, stack):
    process = stack.components["event-service"].process
    process.send_signal(signal.SIGTERM)
    assert await asyncio.to_thread(process.wait, 30) == 0, "SIGTERM must drain and exit cleanly"
    down = await api.get("/v1/venues")
    assert down.status_code == 503
    assert down.headers["content-type"].startswith("application/problem+json")
    assert down.json()["code"] == "backend_unavailable"
    assert "retry-after" in down.headers
    stack.start_component("event-service")
    stack.wait_ready(("event-service",))
    deadline = time.monotonic() + 30
    while (answer := await api.get("/v1/venues")).status_code != 200:
        assert time.monotonic() < deadline, f"the gateway did not recover: {answer.status_code} {answer.text}"
        await asyncio.sleep(0.2)
