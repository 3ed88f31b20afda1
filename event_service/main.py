"""event_service processes: the gRPC server and its outbox relay."""

from __future__ import annotations

from event_service.adapters.tables import SCHEMA
from event_service.api.servicer import EventServicer
from event_service.bootstrap import bootstrap
from kernel.checks import check_database
from kernel.runner import run_relay, serve_grpc
from kernel.settings import Settings
from turnout.event.v1 import event_service_pb2, event_service_pb2_grpc

SERVICE_NAME = event_service_pb2.DESCRIPTOR.services_by_name["EventService"].full_name


async def serve(settings: Settings) -> None:
    await check_database(settings)
    deps = bootstrap(settings)
    servicer = EventServicer(deps.uow_factory)
    await serve_grpc(
        "event-service",
        settings,
        port_setting="event_service_port",
        registrations=[lambda server: event_service_pb2_grpc.add_EventServiceServicer_to_server(servicer, server)],
        service_names=[SERVICE_NAME],
        on_stop=deps.engine.dispose,
    )


async def relay(settings: Settings) -> None:
    await run_relay("event-relay", settings, SCHEMA)
