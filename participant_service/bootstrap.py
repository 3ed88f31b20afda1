"""Builds participant_service's dependencies (and the registration saga's); nothing connects at import time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import grpc
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from kernel import grpc_client
from kernel.bootstrap import bootstrap_command_service
from kernel.settings import Settings
from kernel.unit_of_work import UnitOfWorkFactory
from participant_service.adapters.document_store import DocumentStore
from participant_service.adapters.draft_store import DraftStore
from participant_service.adapters.messages import to_message
from participant_service.adapters.seat_ledger import SeatLedger
from participant_service.adapters.tables import outbox
from participant_service.application.drafts import Drafts
from participant_service.application.registrations import Policy, RegistrationDeps
from turnout.event.v1 import event_service_pb2_grpc


@dataclass
class ParticipantDeps:
    """The command-service dependencies (`engine`, `uow_factory`) plus Redis (drafts) and the
    document directory."""

    engine: AsyncEngine
    uow_factory: UnitOfWorkFactory
    redis: Redis
    drafts: Drafts
    document_cleanup_age: timedelta
    document_cleanup_interval: float

    async def close(self) -> None:
        await self.redis.aclose()
        await self.engine.dispose()


def bootstrap(settings: Settings) -> ParticipantDeps:
    command = bootstrap_command_service(settings, outbox, to_message)
    redis = Redis.from_url(settings.redis_url, decode_responses=True)
    drafts = Drafts(store=DraftStore(redis, timedelta(seconds=settings.draft_ttl_seconds)),
                    documents=DocumentStore(settings.document_dir), uow_factory=command.uow_factory,
                    max_document_bytes=settings.document_max_bytes)
    return ParticipantDeps(engine=command.engine, uow_factory=command.uow_factory, redis=redis, drafts=drafts,
                           document_cleanup_age=timedelta(hours=settings.document_cleanup_age_hours),
                           document_cleanup_interval=settings.document_cleanup_interval_seconds)


def registration_deps(settings: Settings, uow_factory: UnitOfWorkFactory) -> tuple[RegistrationDeps, grpc.aio.Channel]:
    """The saga's dependencies and the event-service channel they use (close it on stop)."""
    channel = grpc_client.channel(settings.target("event"))
    ledger = SeatLedger(event_service_pb2_grpc.EventServiceStub(channel), settings.grpc_deadline_seconds)
    policy = Policy(saga_hold=timedelta(seconds=settings.registration_saga_hold_seconds),
                    lease=timedelta(seconds=settings.registration_lease_seconds),
                    offer_ttl=timedelta(seconds=settings.waitlist_offer_seconds),
                    notification_locale=settings.notification_locale)
    return RegistrationDeps(uow_factory, ledger, policy), channel
