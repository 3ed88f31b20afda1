"""Page sizes on every paginated route of the OpenAPI spec (AIP-158): a negative one is
refused naming `page_size`; one above the route's maximum is served (the service caps it)
rather than refused or failing."""

from __future__ import annotations

import uuid

import pytest

pytestmark = pytest.mark.integration

# Served by reporting-service, which the `rest` fixture does not run (their page sizes are
# checked in test_audit_trail.py and test_participant_view.py).
READ_SIDE = {"/v1/audit", "/v1/participants/{participant_id}/view"}


async def paginated_routes(rest) -> list[str]:
    spec = (await rest.get("/openapi.json")).json()
    return sorted(path for path, operations in spec["paths"].items()
                  if any(p["name"] == "page_size" for p in operations.get("get", {}).get("parameters", [])))


def concrete(path: str) -> str:
    return path.replace("{session_id}", str(uuid.uuid4())).replace("{participant_id}", str(uuid.uuid4()))


async def test_every_paginated_route_refuses_a_negative_page_size_naming_it(rest) -> None:
    routes = await paginated_routes(rest)
    assert len(routes) >= 9, routes
    for path in routes:
        if path in READ_SIDE:
            continue
        answer = await rest.get(concrete(path), params={"page_size": -1})
        assert answer.status_code == 400, (path, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert "page_size" in [e["field"] for e in answer.json()["errors"]], (path, answer.text)


async def test_every_paginated_route_caps_a_huge_page_size(rest) -> None:
    for path in await paginated_routes(rest):
        if path in READ_SIDE:
            continue
        answer = await rest.get(concrete(path), params={"page_size": 2**31 - 1})
        assert answer.status_code in (200, 404), (path, answer.text)
        if answer.status_code == 200:
            items = next(v for v in answer.json().values() if isinstance(v, list))
            assert len(items) <= 1000, (path, len(items))
