"""reporting-service's read API served in-process over one keyspace, for tests that need it
behind the gateway or over gRPC. A plain module, imported as `from reporting_support import ...`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from redis import asyncio as aioredis

from kernel.grpc_server import GrpcServer, create_server
from reporting_service.api.servicer import ReportingServicer
from reporting_service.keyspace import Keyspace
from reporting_service.participant_view import ParticipantViewReader
from reporting_service.read_models import ReadModels
from reporting_service.stats import StatsReader
from turnout.reporting.v1 import reporting_service_pb2_grpc


@asynccontextmanager
async def reporting_server(redis_url: str, keyspace: Keyspace) -> AsyncIterator[GrpcServer]:
    """ReportingService (read models, stats, participant view) over `keyspace` on a free port."""
    client = aioredis.from_url(redis_url, decode_responses=True)
    servicer = ReportingServicer(ReadModels(client, keyspace), StatsReader(client, keyspace),
                                 participant_view=ParticipantViewReader(client, keyspace))
    server = create_server("127.0.0.1", 0, [
        lambda s: reporting_service_pb2_grpc.add_ReportingServiceServicer_to_server(servicer, s)],
        ["turnout.reporting.v1.ReportingService"])
    await server.start()
    try:
        yield server
    finally:
        await server.stop(0)
        await client.aclose()
