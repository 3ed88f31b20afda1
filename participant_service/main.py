"""participant_service processes: the gRPC server and its outbox relay."""

from __future__ import annotations

from functools import partial

from kernel.checks import check_database, check_redis
from kernel.runner import run_relay, serve_grpc
from kernel.settings import Settings
from participant_service.adapters.tables import SCHEMA
from participant_service.api.registrations import RegistrationServicer
from participant_service.api.servicer import ParticipantServicer
from participant_service.application.document_cleanup import run_document_cleanup
from participant_service.application.lifecycle import lifecycle_consumer
from participant_service.application.reconciler import run_reconciler
from participant_service.bootstrap import bootstrap, registration_deps
from turnout.participant.v1 import (
    participant_service_pb2,
    participant_service_pb2_grpc,
    registration_service_pb2,
    registration_service_pb2_grpc,
)

SERVICE_NAME = participant_service_pb2.DESCRIPTOR.services_by_name["ParticipantService"].full_name
REGISTRATION_SERVICE_NAME = registration_service_pb2.DESCRIPTOR.services_by_name["RegistrationService"].full_name


async def serve(settings: Settings) -> None:
    await check_database(settings)
    await check_redis(settings)  # drafts live there
    deps = bootstrap(settings)
    servicer = ParticipantServicer(deps.uow_factory, deps.drafts, visitor_digest_key=settings.visitor_digest_key_bytes())
    saga, event_channel = registration_deps(settings, deps.uow_factory)
    registration_servicer = RegistrationServicer(saga)

    async def stop() -> None:
        await event_channel.close()
        await deps.close()
    await serve_grpc(
        "participant-service",
        settings,
        port_setting="participant_service_port",
        registrations=[
            lambda server: participant_service_pb2_grpc.add_ParticipantServiceServicer_to_server(servicer, server),
            lambda server: registration_service_pb2_grpc.add_RegistrationServiceServicer_to_server(
                registration_servicer, server),
        ],
        service_names=[SERVICE_NAME, REGISTRATION_SERVICE_NAME],
        on_stop=stop,
        # Orphan document files go after TURNOUT_DOCUMENT_CLEANUP_AGE_HOURS; every replica may run it.
        background=[partial(run_document_cleanup, deps.drafts.documents, deps.uow_factory,
                            max_age=deps.document_cleanup_age, interval=deps.document_cleanup_interval),
                    # Owed ledger calls, lapsed holds and waitlist offers; safe on every replica.
                    partial(run_reconciler, saga, settings.reconcile_interval_seconds),
                    # Reconfirmations and reminders from the occurrence lifecycle; the consumer
                    # group splits the partitions between the replicas.
                    lifecycle_consumer(settings, saga).run],
    )


async def relay(settings: Settings) -> None:
    await run_relay("participant-relay", settings, SCHEMA)
