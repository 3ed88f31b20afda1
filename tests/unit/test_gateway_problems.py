"""The gateway's REST contract against real in-process gRPC servers: authentication, roles,
problem+json for every kind of failure, idempotency keys and request ids, operations."""

from __future__ import annotations

import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import grpc
import httpx
import pytest
from google.protobuf import any_pb2
from google.protobuf.timestamp_pb2 import Timestamp
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_health.v1 import health, health_pb2_grpc
from grpc_status import rpc_status

from gateway.app import create_app
from kernel.auth import issue_token
from kernel.settings import Settings
from turnout.event.v1 import event_service_pb2, event_service_pb2_grpc, venue_pb2
from turnout.participant.v1 import participant_pb2, participant_service_pb2_grpc
from turnout.reporting.v1 import reporting_service_pb2, reporting_service_pb2_grpc

SECRET = "gateway-test-secret-long-enough-for-hs256"
PROBLEM = "application/problem+json"
CREATED = Timestamp(seconds=1_780_000_000)


def token(*roles: str) -> dict[str, str]:
    return {"Authorization": "Bearer " + issue_token(SECRET, sub="alice", roles=list(roles))}


def rich_abort_status(code: int, reason: str, message: str, violations: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    details = [any_pb2.Any()]
    details[0].Pack(error_details_pb2.ErrorInfo(domain="turnout.dev", reason=reason))
    if violations:
        bad_request = error_details_pb2.BadRequest(
            field_violations=[
                error_details_pb2.BadRequest.FieldViolation(field=f, description=d) for f, d in violations.items()
            ]
        )
        details.append(any_pb2.Any())
        details[-1].Pack(bad_request)
    return rpc_status.to_status(status_pb2.Status(code=code, message=message, details=details))


class Recorder:
    """What the servers saw, and the failure the next calls should answer with."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any, dict[str, str]]] = []
        self.fail_with: grpc.Status | None = None

    async def record(self, method: str, request: Any, context: grpc.aio.ServicerContext) -> None:
        self.calls.append((method, request, dict(context.invocation_metadata() or ())))
        if self.fail_with is not None:
            await context.abort_with_status(self.fail_with)


class Events(event_service_pb2_grpc.EventServiceServicer):
    def __init__(self, recorder: Recorder):
        self.recorder = recorder

    async def CreateVenue(self, request, context):  # type: ignore[no-untyped-def]
        await self.recorder.record("CreateVenue", request, context)
        return venue_pb2.Venue(
            name="venues/v-1", display_name=request.venue.display_name, address=request.venue.address, create_time=CREATED
        )

    async def GetVenue(self, request, context):  # type: ignore[no-untyped-def]
        await self.recorder.record("GetVenue", request, context)
        if request.name != "venues/v-1":
            await context.abort_with_status(
                rich_abort_status(code_pb2.NOT_FOUND, "NOT_FOUND", f"{request.name} does not exist")
            )
        return venue_pb2.Venue(name="venues/v-1", display_name="Цветной", create_time=CREATED)

    async def ListVenues(self, request, context):  # type: ignore[no-untyped-def]
        await self.recorder.record("ListVenues", request, context)
        venue = venue_pb2.Venue(name="venues/v-1", display_name="Цветной", create_time=CREATED)
        return event_service_pb2.ListVenuesResponse(venues=[venue], next_page_token="next")


class Participants(participant_service_pb2_grpc.ParticipantServiceServicer):
    def __init__(self, recorder: Recorder):
        self.recorder = recorder

    async def CreateParticipant(self, request, context):  # type: ignore[no-untyped-def]
        await self.recorder.record("CreateParticipant", request, context)
        created = participant_pb2.Participant()
        created.CopyFrom(request.participant)
        created.name, created.card_number = "participants/p-1", "000123"
        created.create_time.CopyFrom(CREATED)
        return created


class Reporting(reporting_service_pb2_grpc.ReportingServiceServicer):
    def __init__(self, recorder: Recorder):
        self.recorder = recorder

    async def GetVenueStats(self, request, context):  # type: ignore[no-untyped-def]
        await self.recorder.record("GetVenueStats", request, context)
        if request.name != "venues/v-1/stats":
            await context.abort_with_status(
                rich_abort_status(code_pb2.NOT_FOUND, "NOT_FOUND", "not projected yet")
            )
        return reporting_service_pb2.VenueStats(
            name=request.name, display_name="Цветной", event_count=3, projected_version=2, update_time=CREATED
        )


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
async def server() -> AsyncIterator[tuple[str, Recorder]]:
    recorder = Recorder()
    grpc_server = grpc.aio.server()
    event_service_pb2_grpc.add_EventServiceServicer_to_server(Events(recorder), grpc_server)
    participant_service_pb2_grpc.add_ParticipantServiceServicer_to_server(Participants(recorder), grpc_server)
    reporting_service_pb2_grpc.add_ReportingServiceServicer_to_server(Reporting(recorder), grpc_server)
    health_pb2_grpc.add_HealthServicer_to_server(health.aio.HealthServicer(), grpc_server)
    port = grpc_server.add_insecure_port("127.0.0.1:0")
    await grpc_server.start()
    yield f"127.0.0.1:{port}", recorder
    await grpc_server.stop(0)


@asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)

    @app.get("/boom", include_in_schema=False)
    async def boom() -> None:
        raise RuntimeError("secret internals")

    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            yield client


def settings_for(event: str, participant: str, reporting: str) -> Settings:
    return Settings(
        auth_secret=SECRET,
        event_service_target=event,
        participant_service_target=participant,
        reporting_service_target=reporting,
        grpc_deadline_seconds=2.0,
    )


@pytest.fixture(scope="module")
async def client(server: tuple[str, Recorder]) -> AsyncIterator[httpx.AsyncClient]:
    target, _ = server
    async with running(settings_for(target, target, target)) as client:
        yield client


@pytest.fixture(autouse=True)
def recorder(server: tuple[str, Recorder]) -> Recorder:
    recorder = server[1]
    recorder.calls.clear()
    recorder.fail_with = None
    return recorder


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["title"] and body["type"].endswith(code)
    assert body["request_id"] == response.headers["x-request-id"]
    return body


# --- authentication and roles -------------------------------------------------------------


async def test_missing_token_is_401_with_challenge(client: httpx.AsyncClient, recorder: Recorder) -> None:
    response = await client.get("/v1/venues")

    assert_problem(response, 401, "unauthenticated")
    assert response.headers["www-authenticate"] == "Bearer"
    assert recorder.calls == []


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer garbage",
        "Basic YWxpY2U6cHc=",
        "Bearer " + issue_token("some-other-secret-long-enough-for-hs256", sub="alice", roles=["admin"]),
    ],
)
async def test_bad_token_is_401(client: httpx.AsyncClient, recorder: Recorder, authorization: str) -> None:
    response = await client.get("/v1/venues", headers={"Authorization": authorization})

    assert_problem(response, 401, "unauthenticated")
    assert response.headers["www-authenticate"] == "Bearer"
    assert recorder.calls == []


async def test_wrong_role_is_403(client: httpx.AsyncClient, recorder: Recorder) -> None:
    venue = await client.post("/v1/venues", json={"name": "Ясная"}, headers=token("volunteer", "analyst"))
    participant = await client.post(
        "/v1/participants", json={"first_name": "Ivan", "last_name": "Petrov"}, headers=token("analyst")
    )

    assert "admin" in assert_problem(venue, 403, "forbidden")["detail"]
    assert_problem(participant, 403, "forbidden")
    assert recorder.calls == []


async def test_any_role_may_read(client: httpx.AsyncClient, recorder: Recorder) -> None:
    response = await client.get("/v1/venues", params={"page_size": 1}, headers=token("analyst"))

    assert response.status_code == 200
    assert response.json()["next_page_token"] == "next"
    assert recorder.calls[0][1].page_size == 1


# --- request validation and routing ---------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [({}, "name"), ({"name": ""}, "name"), ({"name": "x", "address": "a" * 501}, "address"), ({"name": ["x"]}, "name")],
)
async def test_bad_body_is_422_naming_the_field(
    client: httpx.AsyncClient, recorder: Recorder, body: dict[str, Any], field: str
) -> None:
    response = await client.post("/v1/venues", json=body, headers=token("admin"))

    problem = assert_problem(response, 422, "validation_failed")
    assert [e["field"] for e in problem["errors"]] == [field]
    assert recorder.calls == []


async def test_bad_query_and_json_are_422(client: httpx.AsyncClient) -> None:
    query = await client.get("/v1/venues", params={"page_size": "many"}, headers=token("admin"))
    broken = await client.post(
        "/v1/venues", content=b"{", headers={**token("admin"), "content-type": "application/json"}
    )

    assert assert_problem(query, 422, "validation_failed")["errors"][0]["field"] == "page_size"
    assert assert_problem(broken, 422, "validation_failed")["errors"][0]["field"] == "body"


async def test_unknown_route_is_404_problem(client: httpx.AsyncClient) -> None:
    problem = assert_problem(await client.get("/nowhere"), 404, "not_found")

    assert problem["instance"] == "/nowhere"


async def test_unhandled_exception_is_500_problem_without_internals(client: httpx.AsyncClient) -> None:
    response = await client.get("/boom")

    problem = assert_problem(response, 500, "internal")
    assert "secret internals" not in response.text and "Traceback" not in response.text
    assert problem["request_id"]


# --- creating, idempotency and request ids ---------------------------------------------------


async def test_create_venue_is_201_with_location(client: httpx.AsyncClient, recorder: Recorder) -> None:
    response = await client.post(
        "/v1/venues", json={"name": "Цветной", "address": "Цветной бульвар, 1"}, headers=token("admin")
    )

    assert response.status_code == 201, response.text
    assert response.headers["location"] == "/v1/venues/v-1"
    assert response.json() == {
        "id": "v-1",
        "name": "Цветной",
        "address": "Цветной бульвар, 1",
        "created_at": "2026-05-28T20:26:40Z",
    }
    sent = recorder.calls[0][1]
    assert sent.venue.display_name == "Цветной"
    uuid.UUID(sent.request_id)  # a fresh key when the client sent none


async def test_idempotency_key_becomes_request_id(client: httpx.AsyncClient, recorder: Recorder) -> None:
    key = str(uuid.uuid4())

    response = await client.post(
        "/v1/venues", json={"name": "Ясная"}, headers={**token("admin"), "Idempotency-Key": key}
    )

    assert response.status_code == 201
    assert recorder.calls[0][1].request_id == key


async def test_request_id_travels_both_ways_with_the_principal(client: httpx.AsyncClient, recorder: Recorder) -> None:
    response = await client.get("/v1/venues/v-1", headers={**token("admin", "analyst"), "X-Request-ID": "req-42"})

    assert response.status_code == 200
    assert response.headers["x-request-id"] == "req-42"
    metadata = recorder.calls[0][2]
    assert metadata["x-request-id"] == "req-42"
    assert metadata["x-turnout-actor"] == "alice"
    assert metadata["x-turnout-roles"] == "admin,analyst"
    assert "x-turnout-participant-id" not in metadata


async def test_request_id_is_generated_when_absent_or_unusable(client: httpx.AsyncClient, recorder: Recorder) -> None:
    response = await client.get("/v1/venues/v-1", headers={**token("admin"), "X-Request-ID": "has spaces"})

    generated = response.headers["x-request-id"]
    uuid.UUID(generated)
    assert recorder.calls[0][2]["x-request-id"] == generated


async def test_participant_metadata_is_sent(client: httpx.AsyncClient, recorder: Recorder) -> None:
    headers = {"Authorization": "Bearer " + issue_token(SECRET, sub="bob", roles=["participant"], participant_id="p-9")}

    await client.get("/v1/venues/v-1", headers=headers)

    assert recorder.calls[0][2]["x-turnout-participant-id"] == "p-9"


async def test_create_participant(client: httpx.AsyncClient, recorder: Recorder) -> None:
    response = await client.post(
        "/v1/participants",
        json={"first_name": "Иван", "last_name": "Петров", "kind": "volunteer"},
        headers={**token("volunteer"), "Idempotency-Key": "key-1"},
    )

    assert response.status_code == 201, response.text
    assert response.headers["location"] == "/v1/participants/p-1"
    body = response.json()
    assert (body["id"], body["card_number"], body["kind"]) == ("p-1", "000123", "volunteer")
    sent = recorder.calls[0][1]
    assert sent.participant.kind == participant_pb2.PARTICIPANT_KIND_VOLUNTEER
    assert sent.request_id == "key-1"


# --- backend errors --------------------------------------------------------------------------


async def test_backend_validation_error_is_400_naming_rest_fields(client: httpx.AsyncClient, recorder: Recorder) -> None:
    recorder.fail_with = rich_abort_status(
        code_pb2.INVALID_ARGUMENT,
        "VALIDATION_FAILED",
        "participant.first_name: too short",
        {"participant.first_name": "at least 2 characters", "participant.last_name": "at least 2 characters"},
    )

    response = await client.post(
        "/v1/participants", json={"first_name": "I", "last_name": "P"}, headers=token("admin")
    )

    problem = assert_problem(response, 400, "validation_failed")
    assert problem["errors"] == [
        {"field": "first_name", "message": "at least 2 characters"},
        {"field": "last_name", "message": "at least 2 characters"},
    ]


@pytest.mark.parametrize(
    ("code", "reason", "status", "problem_code"),
    [
        (code_pb2.ALREADY_EXISTS, "ALREADY_EXISTS", 409, "already_exists"),
        (code_pb2.INVALID_ARGUMENT, "REQUEST_ID_REUSED", 422, "idempotency_key_reused"),
        (code_pb2.ABORTED, "REQUEST_IN_PROGRESS", 409, "request_in_progress"),
        (code_pb2.PERMISSION_DENIED, "NOT_YOURS", 403, "not_yours"),
        (code_pb2.RESOURCE_EXHAUSTED, "RATE_LIMITED", 429, "rate_limited"),
    ],
)
async def test_business_errors_keep_the_backend_reason(
    client: httpx.AsyncClient, recorder: Recorder, code: int, reason: str, status: int, problem_code: str
) -> None:
    recorder.fail_with = rich_abort_status(code, reason, "refused for a reason")

    response = await client.post("/v1/venues", json={"name": "Ясная"}, headers=token("admin"))

    assert assert_problem(response, status, problem_code)["detail"] == "refused for a reason"


async def test_not_found_from_backend(client: httpx.AsyncClient) -> None:
    venue = await client.get("/v1/venues/missing", headers=token("analyst"))
    stats = await client.get("/v1/venues/missing/stats", headers=token("analyst"))

    assert "venues/missing" in assert_problem(venue, 404, "not_found")["detail"]
    assert_problem(stats, 404, "not_found")


async def test_venue_stats(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/venues/v-1/stats", headers=token("analyst"))

    assert response.status_code == 200
    assert response.json() == {
        "id": "v-1",
        "name": "Цветной",
        "address": None,
        "event_count": 3,
        "projected_version": 2,
        "updated_at": "2026-05-28T20:26:40Z",
    }


async def test_backend_internal_error_is_502_without_its_message(client: httpx.AsyncClient, recorder: Recorder) -> None:
    recorder.fail_with = rich_abort_status(code_pb2.INTERNAL, "INTERNAL", "db password is hunter2")

    response = await client.post("/v1/venues", json={"name": "Ясная"}, headers=token("admin"))

    assert_problem(response, 502, "backend_error")
    assert "hunter2" not in response.text


async def test_backend_unavailable_is_503_with_retry_after(client: httpx.AsyncClient, recorder: Recorder) -> None:
    recorder.fail_with = rich_abort_status(code_pb2.UNAVAILABLE, "UNAVAILABLE", "database is down")

    response = await client.post("/v1/venues", json={"name": "Ясная"}, headers=token("admin"))

    assert assert_problem(response, 503, "backend_unavailable")["backend"] == "event"
    assert response.headers["retry-after"] == "1"


# --- operations --------------------------------------------------------------------------------


async def test_healthz(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")

    assert (response.status_code, response.json()) == (200, {"status": "ok"})


async def test_readyz_when_every_backend_serves(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ready",
        "backends": {"event": "SERVING", "participant": "SERVING", "reporting": "SERVING"},
    }


async def test_readyz_names_the_backend_that_is_down(server: tuple[str, Recorder]) -> None:
    target, _ = server
    async with running(settings_for(target, f"127.0.0.1:{closed_port()}", target)) as client:
        response = await client.get("/readyz")

    problem = assert_problem(response, 503, "not_ready")
    assert problem["backends"] == {"event": "SERVING", "participant": "UNAVAILABLE", "reporting": "SERVING"}
    assert "participant" in problem["detail"]


async def test_metrics_expose_breakers_and_requests(client: httpx.AsyncClient) -> None:
    await client.get("/v1/venues/v-1", headers=token("admin"))

    response = await client.get("/metrics")

    assert response.status_code == 200
    assert 'turnout_gateway_breaker_state{backend="event"}' in response.text
    assert 'route="/v1/venues/{venue_id}"' in response.text
    assert "turnout_gateway_request_duration_seconds_bucket" in response.text


async def test_openapi_and_docs_are_served(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()

    assert "/v1/venues/{venue_id}/stats" in schema["paths"]
    assert (await client.get("/docs")).status_code == 200


async def test_openapi_documents_every_error_as_problem_json(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()

    problem_ref = {"schema": {"$ref": "#/components/schemas/Problem"}}
    for path, operations in schema["paths"].items():
        for operation in operations.values():
            errors = {status: r for status, r in operation["responses"].items() if status[0] in "45"}
            if path.startswith("/v1/"):
                assert {"400", "401", "403", "404", "422", "429", "503"} <= errors.keys(), path
            assert all(r["content"] == {PROBLEM: problem_ref} for r in errors.values()), path
    # FastAPI's own validation error shape is never sent.
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    assert schema["components"]["schemas"]["Problem"]["required"] == [
        "type", "title", "status", "detail", "code", "request_id"]
