"""In-process gRPC servers of the command services against the real engines."""

from __future__ import annotations

import grpc
import httpx
import pytest

from event_service.api.servicer import EventServicer
from event_service.bootstrap import bootstrap as bootstrap_events
from kernel.grpc_server import create_server
from kernel.settings import Settings
from participant_service.api.servicer import ParticipantServicer
from participant_service.bootstrap import bootstrap as bootstrap_participants
from turnout.event.v1 import event_service_pb2_grpc
from turnout.participant.v1 import participant_service_pb2_grpc, registration_service_pb2_grpc


@pytest.fixture(scope="session")
async def event_deps(settings: Settings):
    from event_service.adapters.service_catalog import load_service_catalog

    deps = bootstrap_events(settings)
    # What event-service does at start-up: the catalog follows its data file.
    await load_service_catalog(deps.engine)
    yield deps
    await deps.engine.dispose()


@pytest.fixture(scope="session")
async def participant_deps(settings: Settings, tmp_path_factory):
    deps = bootstrap_participants(settings.model_copy(update={
        "document_dir": str(tmp_path_factory.mktemp("documents")), "document_max_bytes": 256 * 1024}))
    yield deps
    await deps.close()


@pytest.fixture(scope="session")
async def event_server(event_deps):
    servicer = EventServicer(event_deps.uow_factory)
    server = create_server("127.0.0.1", 0, [lambda s: event_service_pb2_grpc.add_EventServiceServicer_to_server(servicer, s)],
                           ["turnout.event.v1.EventService"])
    await server.start()
    yield server
    await server.stop(0)


@pytest.fixture(scope="session")
async def event_stub(event_server):
    async with grpc.aio.insecure_channel(f"127.0.0.1:{event_server.port}") as channel:
        yield event_service_pb2_grpc.EventServiceStub(channel)


@pytest.fixture(scope="session")
async def registration_deps(settings: Settings, participant_deps, event_server):
    """The saga's dependencies against the in-process event server. Tests run the reconciler
    themselves (`reconcile_once`), so no background pass races them."""
    from participant_service.bootstrap import registration_deps as build

    # Both servers, their callers and the test share one event loop here, so a burst of 500
    # bookings queues calls far longer than across processes; the deadline allows for that.
    deps, channel = build(settings.model_copy(update={"event_service_target": f"127.0.0.1:{event_server.port}",
                                                      "grpc_deadline_seconds": 60.0}),
                          participant_deps.uow_factory)
    yield deps
    await channel.close()


@pytest.fixture(scope="session")
async def participant_server(participant_deps, registration_deps):
    from participant_service.api.registrations import RegistrationServicer

    servicer = ParticipantServicer(participant_deps.uow_factory, participant_deps.drafts)
    registrations = RegistrationServicer(registration_deps)
    server = create_server(
        "127.0.0.1", 0,
        [lambda s: participant_service_pb2_grpc.add_ParticipantServiceServicer_to_server(servicer, s),
         lambda s: registration_service_pb2_grpc.add_RegistrationServiceServicer_to_server(registrations, s)],
        ["turnout.participant.v1.ParticipantService", "turnout.participant.v1.RegistrationService"],
    )
    await server.start()
    yield server
    await server.stop(0)


@pytest.fixture(scope="session")
async def participant_stub(participant_server):
    async with grpc.aio.insecure_channel(f"127.0.0.1:{participant_server.port}") as channel:
        yield participant_service_pb2_grpc.ParticipantServiceStub(channel)


@pytest.fixture(scope="session")
async def registration_stub(participant_server):
    async with grpc.aio.insecure_channel(f"127.0.0.1:{participant_server.port}") as channel:
        yield registration_service_pb2_grpc.RegistrationServiceStub(channel)


@pytest.fixture(scope="session")
async def rest(settings: Settings, event_server, participant_server):
    """An httpx client on the gateway app in-process, in front of the in-process servers;
    requests carry an admin token unless a test passes its own Authorization header."""
    from gateway.app import create_app
    from kernel.auth import issue_token

    gateway_settings = settings.model_copy(update={
        "event_service_target": f"127.0.0.1:{event_server.port}",
        "participant_service_target": f"127.0.0.1:{participant_server.port}",
        "reporting_service_target": "127.0.0.1:1",
    })
    app = create_app(gateway_settings)
    token = issue_token(settings.auth_secret, sub="rest-admin", roles=["admin"])
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway",
                                     headers={"Authorization": f"Bearer {token}"}) as client:
            yield client
