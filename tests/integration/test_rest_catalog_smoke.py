"""The catalog REST routes in front of the real event service (in-process, real Postgres)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration


async def test_rest_venue_round_trip(rest, unique):
    created = await rest.post("/v1/venues", json={"name": f"REST {unique}"})
    assert created.status_code == 201, created.text
    fetched = await rest.get(f"/v1/venues/{created.json()['id']}")
    assert fetched.json() == created.json()
