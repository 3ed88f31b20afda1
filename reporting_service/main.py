"""reporting_service processes: the read API and the projector."""

from __future__ import annotations

import asyncio
import signal
import threading

import redis
import redis.asyncio as aioredis

from kernel import logs, topics
from kernel.checks import check_kafka, check_redis
from kernel.kafka import ensure_topics, make_consumer
from kernel.metrics import serve_metrics
from kernel.runner import serve_grpc
from kernel.settings import Settings
from reporting_service.api.audit import AuditServicer
from reporting_service.api.exports import ExportServicer
from reporting_service.api.servicer import ReportingServicer
from reporting_service.audit_log import AuditReader
from reporting_service.consistency import ConsistencyChecker
from reporting_service.keyspace import Keyspace
from reporting_service.projections.store import ProjectionStore
from reporting_service.projector import Projector
from reporting_service.read_models import ReadModels
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


async def serve(settings: Settings) -> None:
    await check_redis(settings)
    client = aioredis.from_url(settings.redis_url, decode_responses=True)
    servicer = ReportingServicer(ReadModels(client, Keyspace()), StatsReader(client, Keyspace()),
                                 ConsistencyChecker(settings.asyncpg_dsn, client, Keyspace()))
    audit_servicer = AuditServicer(AuditReader(client, Keyspace()))
    export_servicer = ExportServicer(client, Keyspace())
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
        on_stop=client.aclose,
    )


def project(settings: Settings) -> None:
    logs.configure("projector", settings.log_level, settings.log_format)
    asyncio.run(check_redis(settings))
    check_kafka(settings)
    ensure_topics(settings)
    serve_metrics(settings)
    store = ProjectionStore(redis.Redis.from_url(settings.redis_url), Keyspace())
    projector = Projector(lambda: make_consumer(settings, settings.projector_group, PROJECTED_TOPICS), store)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    projector.run(stop)
