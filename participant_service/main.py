"""participant_service processes: the gRPC server and its outbox relay."""

from __future__ import annotations

from kernel.checks import check_database
from kernel.runner import run_relay, serve_grpc
from kernel.settings import Settings
from participant_service.adapters.tables import SCHEMA
from participant_service.api.servicer import ParticipantServicer
from participant_service.bootstrap import bootstrap
from turnout.participant.v1 import participant_service_pb2, participant_service_pb2_grpc

SERVICE_NAME = participant_service_pb2.DESCRIPTOR.services_by_name["ParticipantService"].full_name


async def serve(settings: Settings) -> None:
    await check_database(settings)
    deps = bootstrap(settings)
    servicer = ParticipantServicer(deps.uow_factory)
    await serve_grpc(
        "participant-service",
        settings,
        port_setting="participant_service_port",
        registrations=[
            lambda server: participant_service_pb2_grpc.add_ParticipantServiceServicer_to_server(servicer, server)
        ],
        service_names=[SERVICE_NAME],
        on_stop=deps.engine.dispose,
    )


async def relay(settings: Settings) -> None:
    await run_relay("participant-relay", settings, SCHEMA)
