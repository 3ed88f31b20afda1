"""In-process gRPC servers of the command services against the real engines."""

from __future__ import annotations

import grpc
import pytest

from event_service.api.servicer import EventServicer
from event_service.bootstrap import bootstrap as bootstrap_events
from kernel.grpc_server import create_server
from kernel.settings import Settings
from participant_service.api.servicer import ParticipantServicer
from participant_service.bootstrap import bootstrap as bootstrap_participants
from turnout.event.v1 import event_service_pb2_grpc
from turnout.participant.v1 import participant_service_pb2_grpc


@pytest.fixture(scope="session")
async def event_deps(settings: Settings):
    deps = bootstrap_events(settings)
    yield deps
    await deps.engine.dispose()


@pytest.fixture(scope="session")
async def participant_deps(settings: Settings):
    deps = bootstrap_participants(settings)
    yield deps
    await deps.engine.dispose()


@pytest.fixture(scope="session")
async def event_stub(event_deps):
    servicer = EventServicer(event_deps.uow_factory)
    server = create_server("127.0.0.1", 0, [lambda s: event_service_pb2_grpc.add_EventServiceServicer_to_server(servicer, s)],
                           ["turnout.event.v1.EventService"])
    await server.start()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        yield event_service_pb2_grpc.EventServiceStub(channel)
    await server.stop(0)


@pytest.fixture(scope="session")
async def participant_stub(participant_deps):
    servicer = ParticipantServicer(participant_deps.uow_factory)
    server = create_server(
        "127.0.0.1", 0,
        [lambda s: participant_service_pb2_grpc.add_ParticipantServiceServicer_to_server(servicer, s)],
        ["turnout.participant.v1.ParticipantService"],
    )
    await server.start()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        yield participant_service_pb2_grpc.ParticipantServiceStub(channel)
    await server.stop(0)
