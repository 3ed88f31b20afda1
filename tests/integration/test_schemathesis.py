"""Schemathesis against the gateway's own OpenAPI spec: for every operation, a bounded number of
generated requests (valid and invalid) through a real HTTP server in front of the real services
must never answer 5xx, and every answer must match the documented statuses, media types and
schemas (problem+json included).

Each operation gets `TURNOUT_SCHEMATHESIS_EXAMPLES` (default 5) valid requests, as many invalid
ones and, if its path names a resource, as many valid ones on seeded resources. Generation is
derandomized, so a failure repeats with the same request. No operation is left out: the
streamed exports declare their media types without a schema, so only their status and media
type are checked."""

from __future__ import annotations

import asyncio
import os
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
import redis.asyncio as aioredis
import schemathesis
import uvicorn
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from kernel.settings import Settings

pytestmark = pytest.mark.integration

EXAMPLES = int(os.environ.get("TURNOUT_SCHEMATHESIS_EXAMPLES", "5"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance]


def _operations() -> list[tuple[str, str]]:
    # The spec does not depend on settings beyond the secret, so collection needs no engines.
    from gateway.app import create_app

    spec = create_app(Settings(auth_secret="collect-only-" + "x" * 32)).openapi()
    return [(method.upper(), path) for path, operations in spec["paths"].items() for method in operations]


OPERATIONS = _operations()


@pytest.fixture(scope="module")
async def reporting_server(settings: Settings):
    """reporting-service's three gRPC services on a read-model root of their own, so that
    generated rebuilds and template writes touch nothing another test reads."""
    from kernel.grpc_server import create_server
    from reporting_service.api.audit import AuditServicer
    from reporting_service.api.exports import ExportServicer
    from reporting_service.api.servicer import ReportingServicer
    from reporting_service.audit_log import AuditReader
    from reporting_service.consistency import ConsistencyChecker
    from reporting_service.keyspace import Keyspace
    from reporting_service.main import rebuilds
    from reporting_service.participant_view import ParticipantViewReader
    from reporting_service.read_models import ReadModels
    from reporting_service.stats import StatsReader
    from turnout.reporting.v1 import audit_service_pb2_grpc, export_service_pb2_grpc, reporting_service_pb2_grpc

    root = f"st{uuid.uuid4().hex[:8]}"
    client = aioredis.from_url(settings.redis_url, decode_responses=True)
    keys = Keyspace(root)
    rebuild_registry = rebuilds(settings, client, root=root)
    servicer = ReportingServicer(ReadModels(client, keys), StatsReader(client, keys),
                                 ConsistencyChecker(settings.asyncpg_dsn, client, keys),
                                 participant_view=ParticipantViewReader(client, keys),
                                 rebuilds=rebuild_registry)
    audit, export = AuditServicer(AuditReader(client, keys)), ExportServicer(client, keys)
    server = create_server("127.0.0.1", 0, [
        lambda s: reporting_service_pb2_grpc.add_ReportingServiceServicer_to_server(servicer, s),
        lambda s: audit_service_pb2_grpc.add_AuditServiceServicer_to_server(audit, s),
        lambda s: export_service_pb2_grpc.add_ExportServiceServicer_to_server(export, s),
    ], ["turnout.reporting.v1.ReportingService", "turnout.reporting.v1.AuditService",
        "turnout.reporting.v1.ExportService"])
    await server.start()
    yield server
    await server.stop(0)
    # A generated POST /v1/admin/read-models/rebuild starts a real one: it must not outlive
    # the module and compete with later tests.
    await rebuild_registry.wait()
    await client.aclose()


@pytest.fixture(scope="module")
def gateway_url(settings: Settings, event_server, participant_server, reporting_server) -> Iterator[str]:
    """The gateway behind a real uvicorn on a free port, in its own thread and event loop: the
    generated requests then go through real HTTP parsing, as a client's would."""
    from gateway.app import create_app

    app = create_app(settings.model_copy(update={
        "event_service_target": f"127.0.0.1:{event_server.port}",
        "participant_service_target": f"127.0.0.1:{participant_server.port}",
        "reporting_service_target": f"127.0.0.1:{reporting_server.port}",
    }))
    # Off the main thread, uvicorn leaves the signals to the test runner.
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="on", log_level="warning",
                                           access_log=False))
    thread = threading.Thread(target=server.run, name="schemathesis-gateway", daemon=True)
    thread.start()
    deadline = datetime.now(UTC) + timedelta(seconds=30)
    while not server.started:
        assert thread.is_alive() and datetime.now(UTC) < deadline, "the gateway did not start"
        threading.Event().wait(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
async def schema(gateway_url: str, rest):
    spec = (await rest.get("/openapi.json")).json()
    loaded = schemathesis.openapi.from_dict(spec)
    # Reports hide the token only: a generated page_token or Idempotency-Key is needed to
    # reproduce a failure, and schemathesis would print `[Filtered]` for those too.
    loaded.config.output.sanitization.keys_to_sanitize = ("authorization",)
    return loaded


@pytest.fixture(scope="module")
def admin_headers(settings: Settings) -> dict[str, str]:
    from kernel.auth import issue_token

    return {"Authorization": f"Bearer {issue_token(settings.auth_secret, sub='schemathesis', roles=['admin'])}"}


@pytest.fixture
async def known_ids(rest, participant_stub) -> dict[str, str]:
    """Real resources, so that part of the requests get past the 404s into the handlers; new
    for each operation, as generated DELETEs (with `force`) remove them."""
    from registration_fixtures import new_participants

    venue = await rest.post("/v1/venues", json={"name": f"Schemathesis {uuid.uuid4().hex[:8]}"})
    assert venue.status_code == 201, venue.text
    event = await rest.post("/v1/events", json={
        "title": "Schemathesis", "venue_id": venue.json()["id"], "capacity": 10, "kind": "one_off",
        "first_date": (date.today() + timedelta(days=3)).isoformat(),
        "sessions": [{"key": "s", "service_id": "laundry", "start_time": "12:00", "capacity": 5,
                      "booking_window_days": 30}]})
    assert event.status_code == 201, event.text
    [participant] = await new_participants(participant_stub, 1)
    sessions = (await rest.get("/v1/sessions", params={"event_id": event.json()["id"]})).json()["sessions"]
    session_id = sessions[0]["id"]
    booked = await rest.post(f"/v1/sessions/{session_id}/registrations", json={"participant_id": participant})
    assert booked.status_code == 201, booked.text
    draft = await rest.post("/v1/drafts", json={})
    assert draft.status_code == 201, draft.text
    return {"venue_id": venue.json()["id"], "event_id": event.json()["id"], "session_id": session_id,
            "participant_id": participant, "registration_id": booked.json()["id"], "draft_id": draft.json()["id"],
            "occurrence_id": sessions[0]["occurrence_id"]}


def _cases(operation, mode: GenerationMode, path_parameters: dict[str, str] | None) -> list:
    cases: list = []

    # Explicit and generated examples only: no shrinking (a failure reports the request as
    # sent) and no example database (every run generates the same requests).
    @hypothesis_settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
                         phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode, path_parameters=path_parameters))
    def collect(case) -> None:
        cases.append(case)

    try:
        collect()
    except Unsatisfiable:
        # Negative mode has nothing to break in an operation without parameters or body.
        assert mode is GenerationMode.NEGATIVE and not cases, operation.label
    return cases


@pytest.mark.timeout(60 + 12 * EXAMPLES)
@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
async def test_operation_conforms_to_its_schema(method, path, schema, gateway_url, admin_headers, known_ids) -> None:
    operation = schema[path][method]
    real = {name: known_ids[name] for name in known_ids if "{" + name + "}" in path}
    cases = [*_cases(operation, GenerationMode.POSITIVE, None),
             *_cases(operation, GenerationMode.NEGATIVE, None),
             *(_cases(operation, GenerationMode.POSITIVE, real) if real else [])]
    failures: list[str] = []
    statuses: Counter[int] = Counter()
    for case in cases:
        # The gRPC servers share this event loop: the blocking call must leave it free.
        response = await asyncio.to_thread(case.call, base_url=gateway_url, headers=admin_headers, timeout=30)
        statuses[response.status_code] += 1
        try:
            case.validate_response(response, checks=CHECKS, headers=admin_headers)
        except FailureGroup as failure:
            failures.append(str(failure))
    print(f"{method} {path}: {len(cases)} requests, statuses {dict(sorted(statuses.items()))}")
    assert not failures, f"{len(failures)} of {len(cases)} requests failed:\n\n" + "\n\n".join(failures[:5])
