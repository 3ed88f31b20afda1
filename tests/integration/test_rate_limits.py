"""The gateway's rate limits against the real Redis and the in-process services: per principal,
per client address (before authentication), a tighter one for bookings, shared by gateway
replicas, and out of the way when Redis is down."""

from __future__ import annotations

import uuid
from contextlib import asynccontextmanager

import httpx
import pytest
from pydantic import ValidationError

from gateway.app import create_app
from kernel.auth import issue_token
from kernel.settings import Settings

pytestmark = pytest.mark.integration

GENEROUS = "1000000/minute"


@asynccontextmanager
async def gateway(settings: Settings, event_server, participant_server, **overrides):
    app = create_app(settings.model_copy(update={
        "event_service_target": f"127.0.0.1:{event_server.port}",
        "participant_service_target": f"127.0.0.1:{participant_server.port}",
        "reporting_service_target": "127.0.0.1:1",
        "rate_limit_per_principal": GENEROUS, "rate_limit_per_address": GENEROUS, "rate_limit_bookings": GENEROUS,
        **overrides}))
    async with app.router.lifespan_context(app):
        yield app


def client(app, *, sub: str | None = None, address: str = "127.0.0.1") -> httpx.AsyncClient:
    headers = {}
    if sub is not None:
        token = issue_token(app.state.settings.auth_secret, sub=sub, roles=["admin"])
        headers["Authorization"] = f"Bearer {token}"
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(address, 40000)),
                             base_url="http://gateway", headers=headers)


def a_fresh_address() -> str:
    number = uuid.uuid4().int
    return f"10.{number % 250}.{number // 250 % 250}.{number // 62500 % 250 + 1}"


def assert_limited(answer: httpx.Response, limit: str) -> None:
    assert answer.status_code == 429, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    body = answer.json()
    assert (body["code"], body["limit"]) == ("rate_limited", limit)
    assert 1 <= int(answer.headers["Retry-After"]) <= 60


async def test_a_principal_over_its_limit_gets_429_and_others_do_not(settings, event_server, participant_server):
    async with gateway(settings, event_server, participant_server, rate_limit_per_principal="3/minute") as app:
        me, other = f"limited-{uuid.uuid4()}", f"other-{uuid.uuid4()}"
        async with client(app, sub=me) as mine, client(app, sub=other) as theirs:
            assert [(await mine.get("/v1/venues")).status_code for _ in range(3)] == [200, 200, 200]
            assert_limited(await mine.get("/v1/venues"), "principal")
            assert (await theirs.get("/v1/venues")).status_code == 200
            assert (await mine.get("/healthz")).status_code == 200, "operations routes are not limited"


async def test_gateway_replicas_share_the_counts(settings, event_server, participant_server):
    me = f"replicated-{uuid.uuid4()}"
    async with (gateway(settings, event_server, participant_server, rate_limit_per_principal="3/minute") as first,
                gateway(settings, event_server, participant_server, rate_limit_per_principal="3/minute") as second,
                client(first, sub=me) as one, client(second, sub=me) as two):
        assert (await one.get("/v1/venues")).status_code == 200
        assert (await two.get("/v1/venues")).status_code == 200
        assert (await one.get("/v1/venues")).status_code == 200
        assert_limited(await two.get("/v1/venues"), "principal")


async def test_bookings_have_their_own_tighter_limit(settings, event_server, participant_server):
    async with (gateway(settings, event_server, participant_server, rate_limit_bookings="2/minute") as app,
                client(app, sub=f"booker-{uuid.uuid4()}") as booker):
        body = {"participant_id": str(uuid.uuid4())}
        for _ in range(2):
            answer = await booker.post(f"/v1/sessions/{uuid.uuid4()}/registrations", json=body)
            assert answer.status_code not in (429, 500), answer.text
        assert_limited(await booker.post(f"/v1/sessions/{uuid.uuid4()}/registrations", json=body), "bookings")
        assert_limited(await booker.post(f"/v1/sessions/{uuid.uuid4()}/seats", json=body), "bookings")
        assert (await booker.get("/v1/venues")).status_code == 200, "other routes keep the general limit"


async def test_an_address_is_limited_before_authentication(settings, event_server, participant_server):
    address = a_fresh_address()
    async with (gateway(settings, event_server, participant_server, rate_limit_per_address="3/minute") as app,
                client(app, address=address) as anonymous, client(app, sub="someone", address=address) as signed,
                client(app, address=a_fresh_address()) as elsewhere):
        assert [(await anonymous.get("/v1/venues")).status_code for _ in range(3)] == [401, 401, 401]
        assert_limited(await anonymous.get("/v1/venues"), "address")
        assert_limited(await signed.get("/v1/venues"), "address")
        assert (await elsewhere.get("/v1/venues")).status_code == 401


async def test_requests_pass_when_redis_is_down(settings, event_server, participant_server):
    async with (gateway(settings, event_server, participant_server, redis_url="redis://127.0.0.1:1",
                        rate_limit_per_principal="1/minute") as app,
                client(app, sub=f"unlimited-{uuid.uuid4()}") as caller):
        assert [(await caller.get("/v1/venues")).status_code for _ in range(3)] == [200, 200, 200]


@pytest.mark.parametrize("setting", ["rate_limit_per_principal", "rate_limit_per_address", "rate_limit_bookings"])
def test_a_malformed_limit_is_refused_naming_the_setting(settings, setting):
    with pytest.raises(ValidationError) as refused:
        Settings(**{**settings.model_dump(), setting: "lots per minute"})
    assert setting in str(refused.value)
