"""Process entry points shared by the command services: a gRPC server and an outbox relay."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable, Iterable

from kernel import logs
from kernel.checks import check_database, check_kafka
from kernel.grpc_server import Registration, create_server, run_until_signalled
from kernel.kafka import ensure_topics, make_producer
from kernel.metrics import serve_metrics
from kernel.relay import KafkaPublisher, OutboxRelay
from kernel.runtime import settle_heap
from kernel.settings import Settings


async def serve_grpc(
    component: str,
    settings: Settings,
    *,
    port_setting: str,
    registrations: Iterable[Registration],
    service_names: Iterable[str],
    on_stop: Callable[[], Awaitable[None]] | None = None,
    background: Iterable[Callable[[asyncio.Event], Awaitable[None]]] = (),
) -> None:
    logs.configure(component, settings.log_level, settings.log_format)
    server = create_server(settings.host, getattr(settings, port_setting), registrations, service_names,
                           port_setting=port_setting)
    serve_metrics(settings)
    settle_heap()
    await run_until_signalled(server, grace=settings.shutdown_grace_seconds, background=background, on_stop=on_stop)


async def run_relay(component: str, settings: Settings, schema: str) -> None:
    logs.configure(component, settings.log_level, settings.log_format)
    await check_database(settings)
    await asyncio.to_thread(check_kafka, settings)
    await asyncio.to_thread(ensure_topics, settings)
    serve_metrics(settings)
    relay = OutboxRelay(
        settings.asyncpg_dsn,
        schema,
        lambda: KafkaPublisher(make_producer(settings, max_block_ms=10_000)),
        batch_size=settings.relay_batch_size,
        poll_seconds=settings.relay_poll_seconds,
        resend_window=settings.relay_resend_window_seconds,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await relay.run(stop)
