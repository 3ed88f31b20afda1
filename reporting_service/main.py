"""reporting_service processes: the read API and the projector."""

from __future__ import annotations

import asyncio
import signal
import threading

import redis
import redis.asyncio as aioredis

from kernel import logs, topics
from kernel.checks import check_kafka, check_redis
from kernel.kafka import ensure_topics, make_consumer, make_reader
from kernel.metrics import serve_metrics
from kernel.runner import serve_grpc
from kernel.settings import Settings
from reporting_service.api.audit import AuditServicer
from reporting_service.api.exports import ExportServicer
from reporting_service.api.servicer import ReportingServicer
from reporting_service.audit_log import AuditReader
from reporting_service.consistency import ConsistencyChecker
from reporting_service.generations import GenerationWatch
from reporting_service.keyspace import Keyspace
from reporting_service.participant_view import ParticipantViewReader
from reporting_service.projections.store import ProjectionStore
from reporting_service.projector import Projector
from reporting_service.read_models import ReadModels
from reporting_service.rebuild import OutboxSource, RebuildConfig, Rebuilder, Rebuilds, TopicSource
from reporting_service.stats import StatsReader
from turnout.reporting.v1 import (
    audit_service_pb2,
    audit_service_pb2_grpc,
    export_service_pb2_grpc,
    reporting_service_pb2,
    reporting_service_pb2_grpc,
)

SERVICE_NAME = reporting_service_pb2.DESCRIPTOR.services_by_name["ReportingService"].full_name
AUDIT_SERVICE_NAME = audit_service_pb2.DESCRIPTOR.services_by_name["AuditService"].full_name
EXPORT_SERVICE_NAME = "turnout.reporting.v1.ExportService"
PROJECTED_TOPICS = (topics.CATALOG, topics.LEDGER, topics.PARTICIPANTS)
ROOT = "rm"  # the read models' key root: generations are "rm" and "rm.{rebuild}"


def rebuilds(settings: Settings, client: aioredis.Redis, root: str = ROOT,
             topics_to_replay: tuple[str, ...] = PROJECTED_TOPICS) -> Rebuilds:
    """Rebuilds of `root`'s read models from the configured broker and database."""
    sync_client = redis.Redis.from_url(settings.redis_url)
    config = RebuildConfig(stall_seconds=settings.rebuild_stall_seconds,
                           handover_seconds=settings.rebuild_handover_seconds,
                           retire_grace_seconds=settings.rebuild_retire_grace_seconds)

    def new_rebuilder(source: str) -> Rebuilder:
        return Rebuilder(client, sync_client, root=root, source=source, dsn=settings.asyncpg_dsn,
                         topics=topics_to_replay, config=config,
                         topic_source=lambda: TopicSource(lambda: make_reader(settings, topics_to_replay)),
                         outbox_source=lambda: OutboxSource(settings.asyncpg_dsn, topics_to_replay))

    return Rebuilds(client, root, new_rebuilder)


async def serve(settings: Settings) -> None:
    await check_redis(settings)
    client = aioredis.from_url(settings.redis_url, decode_responses=True)
    # One keyspace for every reader, kept on the active generation by the watch.
    keys = Keyspace(ROOT)
    watch = GenerationWatch(client, keys)
    await watch.refresh()
    servicer = ReportingServicer(ReadModels(client, keys), StatsReader(client, keys),
                                 ConsistencyChecker(settings.asyncpg_dsn, client, keys),
                                 participant_view=ParticipantViewReader(client, keys),
                                 rebuilds=rebuilds(settings, client))
    audit_servicer = AuditServicer(AuditReader(client, keys))
    export_servicer = ExportServicer(client, keys)
    await serve_grpc(
        "reporting-service",
        settings,
        port_setting="reporting_service_port",
        registrations=[
            lambda server: reporting_service_pb2_grpc.add_ReportingServiceServicer_to_server(servicer, server),
            lambda server: audit_service_pb2_grpc.add_AuditServiceServicer_to_server(audit_servicer, server),
            lambda server: export_service_pb2_grpc.add_ExportServiceServicer_to_server(export_servicer, server),
        ],
        service_names=[SERVICE_NAME, AUDIT_SERVICE_NAME, EXPORT_SERVICE_NAME],
        background=[watch.run],
        on_stop=client.aclose,
    )


def project(settings: Settings) -> None:
    logs.configure("projector", settings.log_level, settings.log_format)
    asyncio.run(check_redis(settings))
    check_kafka(settings)
    ensure_topics(settings)
    serve_metrics(settings)
    store = ProjectionStore.live(redis.Redis.from_url(settings.redis_url), ROOT)
    projector = Projector(lambda: make_consumer(settings, settings.projector_group, PROJECTED_TOPICS), store)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    projector.run(stop)
