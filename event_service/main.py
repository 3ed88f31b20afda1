"""event_service processes: the gRPC server and its outbox relay."""

from __future__ import annotations

from functools import partial

from sqlalchemy.exc import ProgrammingError

from event_service.adapters.service_catalog import load_service_catalog
from event_service.adapters.tables import SCHEMA
from event_service.api.servicer import EventServicer
from event_service.application.catalog import keep_materialised
from event_service.application.lifecycle import run_scheduler
from event_service.application.sweeper import run_sweeper
from event_service.bootstrap import bootstrap
from kernel.checks import check_database
from kernel.runner import run_relay, serve_grpc
from kernel.settings import Settings, SettingsError
from turnout.event.v1 import event_service_pb2, event_service_pb2_grpc

SERVICE_NAME = event_service_pb2.DESCRIPTOR.services_by_name["EventService"].full_name


async def serve(settings: Settings) -> None:
    await check_database(settings)
    deps = bootstrap(settings)
    try:
        # The catalog follows event_service/data/services.json (an idempotent upsert).
        await load_service_catalog(deps.engine)
    except ProgrammingError as exc:
        await deps.engine.dispose()
        raise SettingsError(f"TURNOUT_DATABASE_URL: the event_service schema is not migrated "
                            f"(run `turnout migrate`): {exc.orig}") from None
    servicer = EventServicer(deps.uow_factory)
    # Occurrences follow the calendar: every replica runs it, FOR UPDATE SKIP LOCKED splits the work.
    background = [partial(keep_materialised, deps.uow_factory),
                  # Expired seat holds go back within about a second; SKIP LOCKED splits the work too.
                  partial(run_sweeper, deps.uow_factory)]
    if settings.lifecycle_scheduler_enabled:
        # Occurrences follow their event's timetable; SKIP LOCKED splits the work, each step happens once.
        background.append(partial(run_scheduler, deps.uow_factory,
                                  interval=settings.lifecycle_scheduler_interval_seconds,
                                  batch=settings.lifecycle_scheduler_batch_size))
    await serve_grpc(
        "event-service",
        settings,
        port_setting="event_service_port",
        registrations=[lambda server: event_service_pb2_grpc.add_EventServiceServicer_to_server(servicer, server)],
        service_names=[SERVICE_NAME],
        on_stop=deps.engine.dispose,
        background=background,
    )


async def relay(settings: Settings) -> None:
    await run_relay("event-relay", settings, SCHEMA)
