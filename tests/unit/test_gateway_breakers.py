"""The per-backend circuit breakers, against a real in-process gRPC server: only
infrastructure failures open them, an open one answers 503 without calling the backend,
and a success after the reset timeout closes them again."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import grpc
import httpx
import pytest
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_health.v1 import health, health_pb2_grpc
from grpc_status import rpc_status
from prometheus_client import REGISTRY

from gateway.app import create_app
from kernel.auth import issue_token
from kernel.grpc_client import RETRY_POLICY
from kernel.settings import Settings
from turnout.event.v1 import event_service_pb2_grpc, venue_pb2

SECRET = "breaker-test-secret-long-enough-for-hs256"
FAIL_MAX = 3
# The channel retries an UNAVAILABLE answer this often before the breaker sees one failure.
ATTEMPTS = RETRY_POLICY["maxAttempts"]
RESET_SECONDS = 0.5
ADMIN = {"Authorization": "Bearer " + issue_token(SECRET, sub="alice", roles=["admin"])}


def invalid_display_name() -> grpc.Status:
    info, bad_request = any_pb2.Any(), any_pb2.Any()
    info.Pack(error_details_pb2.ErrorInfo(domain="turnout.dev", reason="VALIDATION_FAILED"))
    bad_request.Pack(
        error_details_pb2.BadRequest(
            field_violations=[
                error_details_pb2.BadRequest.FieldViolation(field="venue.display_name", description="is taken")
            ]
        )
    )
    status = status_pb2.Status(code=code_pb2.INVALID_ARGUMENT, message="invalid venue", details=[info, bad_request])
    return rpc_status.to_status(status)


class Events(event_service_pb2_grpc.EventServiceServicer):
    """Answers with a venue, or with whatever `mode` says; counts the calls it got."""

    def __init__(self) -> None:
        self.calls = 0
        self.mode = "ok"

    async def GetVenue(self, request, context):  # type: ignore[no-untyped-def]
        self.calls += 1
        if self.mode == "unavailable":
            await context.abort(grpc.StatusCode.UNAVAILABLE, "shutting down")
        if self.mode == "invalid":
            await context.abort_with_status(invalid_display_name())
        return venue_pb2.Venue(name=request.name, display_name="Цветной")

    CreateVenue = GetVenue


@pytest.fixture
async def events() -> AsyncIterator[tuple[Events, str]]:
    servicer = Events()
    server = grpc.aio.server()
    event_service_pb2_grpc.add_EventServiceServicer_to_server(servicer, server)
    health_pb2_grpc.add_HealthServicer_to_server(health.aio.HealthServicer(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    yield servicer, f"127.0.0.1:{port}"
    await server.stop(0)


def closed_target() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{sock.getsockname()[1]}"


@asynccontextmanager
async def gateway(event_target: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        auth_secret=SECRET,
        event_service_target=event_target,
        participant_service_target=closed_target(),
        reporting_service_target=closed_target(),
        breaker_fail_max=FAIL_MAX,
        breaker_reset_seconds=RESET_SECONDS,
        grpc_deadline_seconds=2.0,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway") as client:
            yield client


def event_breaker_state() -> float | None:
    return REGISTRY.get_sample_value("turnout_gateway_breaker_state", {"backend": "event"})


async def get_venue(client: httpx.AsyncClient) -> httpx.Response:
    return await client.get("/v1/venues/v-1", headers=ADMIN)


def assert_backend_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert (body["code"], body["backend"]) == ("backend_unavailable", "event")
    assert "event" in body["detail"]
    assert int(response.headers["retry-after"]) >= 1


async def test_unavailable_answers_open_the_breaker(events: tuple[Events, str]) -> None:
    servicer, target = events
    servicer.mode = "unavailable"
    async with gateway(target) as client:
        assert event_breaker_state() == 0

        tripping = [await get_venue(client) for _ in range(FAIL_MAX)]
        for response in tripping:
            assert_backend_unavailable(response)
        assert servicer.calls == FAIL_MAX * ATTEMPTS
        assert event_breaker_state() == 2

        suspended = await get_venue(client)

        assert_backend_unavailable(suspended)
        assert suspended.headers["retry-after"] == "1"  # ceil of the 0.5 s left at most
        assert "suspended" in suspended.json()["detail"]
        assert servicer.calls == FAIL_MAX * ATTEMPTS  # the open breaker did not call the server


async def test_business_errors_never_open_the_breaker(events: tuple[Events, str]) -> None:
    servicer, target = events
    servicer.mode = "invalid"
    async with gateway(target) as client:
        responses = [
            await client.post("/v1/venues", json={"name": "Цветной"}, headers=ADMIN) for _ in range(FAIL_MAX * 3)
        ]

    assert servicer.calls == FAIL_MAX * 3
    for response in responses:
        assert response.status_code == 400
        assert response.headers["content-type"] == "application/problem+json"
        body = response.json()
        assert body["code"] == "validation_failed"
        assert body["errors"] == [{"field": "name", "message": "is taken"}]
    assert event_breaker_state() == 0


async def test_business_errors_do_not_add_up_with_failures(events: tuple[Events, str]) -> None:
    servicer, target = events
    async with gateway(target) as client:
        for mode in ["unavailable", "invalid"] * FAIL_MAX:
            servicer.mode = mode
            await get_venue(client)

    # An answer, even a refusal, proves the backend is there; failures must be consecutive.
    assert event_breaker_state() == 0


async def test_connection_failures_open_the_breaker() -> None:
    async with gateway(closed_target()) as client:
        responses = [await get_venue(client) for _ in range(FAIL_MAX + 1)]
        ready = await client.get("/readyz")

    for response in responses:
        assert_backend_unavailable(response)
    assert event_breaker_state() == 2
    assert ready.status_code == 503
    assert ready.json()["backends"]["event"] == "CIRCUIT_OPEN"


async def test_success_after_reset_timeout_closes_the_breaker(events: tuple[Events, str]) -> None:
    servicer, target = events
    servicer.mode = "unavailable"
    async with gateway(target) as client:
        for _ in range(FAIL_MAX):
            await get_venue(client)
        assert event_breaker_state() == 2
        servicer.mode = "ok"
        assert_backend_unavailable(await get_venue(client))  # still open: nobody is called

        await asyncio.sleep(RESET_SECONDS + 0.1)
        response = await get_venue(client)

        assert response.status_code == 200, response.text
        assert response.json()["name"] == "Цветной"
        assert event_breaker_state() == 0
        assert servicer.calls == FAIL_MAX * ATTEMPTS + 1


async def test_failed_trial_call_opens_the_breaker_again(events: tuple[Events, str]) -> None:
    servicer, target = events
    servicer.mode = "unavailable"
    async with gateway(target) as client:
        for _ in range(FAIL_MAX):
            await get_venue(client)

        await asyncio.sleep(RESET_SECONDS + 0.1)
        trial = await get_venue(client)

        assert_backend_unavailable(trial)
        assert event_breaker_state() == 2
        assert servicer.calls == (FAIL_MAX + 1) * ATTEMPTS


async def test_breakers_are_per_backend(events: tuple[Events, str]) -> None:
    _, target = events
    async with gateway(target) as client:
        for _ in range(FAIL_MAX):
            response = await client.get("/v1/participants/p-1", headers=ADMIN)
            assert response.json()["backend"] == "participant"
        venue = await get_venue(client)

    assert REGISTRY.get_sample_value("turnout_gateway_breaker_state", {"backend": "participant"}) == 2
    assert venue.status_code == 200
    assert event_breaker_state() == 0
