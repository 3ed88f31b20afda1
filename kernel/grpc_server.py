"""gRPC server bootstrap shared by every service: request context, structured logs, metrics,
domain-error mapping, health checking, reflection and graceful shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

import grpc
import redis.exceptions
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from prometheus_client import Counter, Histogram

from kernel import context
from kernel.errors import DomainError, FailedPrecondition
from kernel.grpc_errors import internal_status, status_trailer, to_rpc_status
from kernel.settings import SettingsError

log = logging.getLogger("turnout.grpc")

HANDLED = Counter(
    "turnout_grpc_server_handled_total", "RPCs completed, by method and status code", ["method", "code"]
)
LATENCY = Histogram(
    "turnout_grpc_server_handling_seconds",
    "RPC handling time",
    ["method"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)

Registration = Callable[[grpc.aio.Server], None]


def _request_context(metadata: Iterable[tuple[str, str | bytes]] | None) -> context.RequestContext:
    values = {key: value for key, value in (metadata or ()) if isinstance(value, str)}
    roles = frozenset(r for r in values.get("x-turnout-roles", "").split(",") if r)
    return context.RequestContext(
        request_id=values.get("x-request-id") or context.new_request_id(),
        actor=values.get("x-turnout-actor") or context.SYSTEM_ACTOR,
        roles=roles,
        participant_id=values.get("x-turnout-participant-id", ""),
    )


# Redis (read models, drafts) being down is an outage of a dependency, not a bug: clients get
# a retryable refusal instead of INTERNAL.
_STORE_DOWN = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)


def store_unavailable(store: str) -> DomainError:
    """FAILED_PRECONDITION rather than UNAVAILABLE: the service itself answered, so a gateway
    breaker must not open on it and suspend the calls that do not need the store (bookings
    while the drafts' Redis is down). The gateway answers 503 with Retry-After for the reason."""
    return FailedPrecondition(f"a store this request needs ({store}) cannot be reached right now; "
                              "retry in a few seconds", reason="DEPENDENCY_UNAVAILABLE", metadata={"store": store})


class _Call:
    """Bookkeeping of one RPC: context binding, the log line and the metrics."""

    def __init__(self, method: str, servicer_context: grpc.aio.ServicerContext):
        self.method = method
        self.servicer_context = servicer_context
        self.code = grpc.StatusCode.OK
        self.started = time.perf_counter()
        self.token = context.bind(_request_context(servicer_context.invocation_metadata()))

    async def fail(self, exc: Exception) -> None:
        if isinstance(exc, _STORE_DOWN):
            log.warning("%s: redis unreachable: %s", self.method, exc)
            exc = store_unavailable("redis")
        if isinstance(exc, DomainError):
            self.code, status = to_rpc_status(exc)
        else:
            log.exception("unhandled error in %s", self.method)
            self.code, status = internal_status(context.current().request_id)
        await self.servicer_context.abort(self.code, status.message, trailing_metadata=status_trailer(status))

    def finish(self) -> None:
        elapsed = time.perf_counter() - self.started
        code = self.code.name
        HANDLED.labels(self.method, code).inc()
        LATENCY.labels(self.method).observe(elapsed)
        log.info(
            "rpc",
            extra={"fields": {"method": self.method, "code": code, "ms": round(elapsed * 1000, 2),
                              "actor": context.current().actor}},
        )
        context.reset(self.token)


class Drain:
    """Counts the calls in flight so that shutdown can wait for them, and refuses new ones
    with UNAVAILABLE once it began: a call that grpc's own stop catches before any handler
    ran is answered CANCELLED, which clients do not know to retry (tests/e2e/test_faults.py).
    Health checks stay exempt so that they keep answering NOT_SERVING."""

    def __init__(self) -> None:
        self.in_flight = 0
        self.closing = False
        self._idle = asyncio.Event()
        self._idle.set()

    @contextlib.asynccontextmanager
    async def admitted(self, method: str, servicer_context: grpc.aio.ServicerContext):
        if method.startswith(_EXEMPT):
            yield
            return
        if self.closing:
            await servicer_context.abort(grpc.StatusCode.UNAVAILABLE, "the server is shutting down; retry")
        self.in_flight += 1
        self._idle.clear()
        try:
            yield
        finally:
            self.in_flight -= 1
            if not self.in_flight:
                self._idle.set()

    async def close(self, grace: float) -> bool:
        """Refuses new calls and waits up to `grace` seconds for the others; True if they all ended."""
        self.closing = True
        try:
            await asyncio.wait_for(self._idle.wait(), grace)
        except TimeoutError:
            return False
        return True


_EXEMPT = ("/grpc.health.v1.Health/", "/grpc.reflection.")


def _wrap_unary_response(behaviour, method, drain: Drain):
    async def wrapped(request_or_iterator, servicer_context):
        call = _Call(method, servicer_context)
        try:
            async with drain.admitted(method, servicer_context):
                return await behaviour(request_or_iterator, servicer_context)
        except grpc.aio.AbortError:
            call.code = servicer_context.code() or grpc.StatusCode.UNKNOWN
            raise
        except Exception as exc:  # noqa: BLE001 - mapped to a status, never leaked
            await call.fail(exc)
        finally:
            call.finish()

    return wrapped


def _wrap_stream_response(behaviour, method, drain: Drain):
    async def wrapped(request_or_iterator, servicer_context):
        call = _Call(method, servicer_context)
        try:
            async with drain.admitted(method, servicer_context):
                async for response in behaviour(request_or_iterator, servicer_context):
                    yield response
        except grpc.aio.AbortError:
            call.code = servicer_context.code() or grpc.StatusCode.UNKNOWN
            raise
        except Exception as exc:  # noqa: BLE001
            await call.fail(exc)
        finally:
            call.finish()

    return wrapped


class ServiceInterceptor(grpc.aio.ServerInterceptor):
    """Binds the request context from metadata, logs and measures each RPC, and maps domain
    errors (and unexpected ones) to statuses with google.rpc details."""

    def __init__(self, drain: Drain | None = None):
        self.drain = drain or Drain()

    async def intercept_service(self, continuation, handler_call_details):
        handler = await continuation(handler_call_details)
        if handler is None:
            return None
        method = handler_call_details.method
        kinds = {
            "unary_unary": (grpc.unary_unary_rpc_method_handler, _wrap_unary_response),
            "stream_unary": (grpc.stream_unary_rpc_method_handler, _wrap_unary_response),
            "unary_stream": (grpc.unary_stream_rpc_method_handler, _wrap_stream_response),
            "stream_stream": (grpc.stream_stream_rpc_method_handler, _wrap_stream_response),
        }
        for attribute, (make_handler, wrap) in kinds.items():
            behaviour = getattr(handler, attribute)
            if behaviour is not None:
                return make_handler(
                    wrap(behaviour, method, self.drain),
                    request_deserializer=handler.request_deserializer,
                    response_serializer=handler.response_serializer,
                )
        return handler


@dataclass
class GrpcServer:
    server: grpc.aio.Server
    port: int
    health: health.aio.HealthServicer
    service_names: tuple[str, ...]
    drain: Drain

    async def start(self) -> None:
        await self.server.start()
        for name in ("", *self.service_names):
            await self.health.set(name, health_pb2.HealthCheckResponse.SERVING)

    async def stop(self, grace: float) -> None:
        """Health goes NOT_SERVING first so balancers drain us, new calls are refused with
        UNAVAILABLE, and the calls in flight get up to `grace` seconds to finish."""
        began = time.monotonic()
        await self.health.enter_graceful_shutdown()
        drained = await self.drain.close(grace)
        if not drained:
            log.warning("grace period over with calls in flight; cancelling them",
                        extra={"fields": {"in_flight": self.drain.in_flight}})
        await self.server.stop(max(0.0, grace - (time.monotonic() - began)))


def create_server(
    host: str,
    port: int,
    registrations: Iterable[Registration],
    service_names: Iterable[str],
    *,
    port_setting: str = "port",
) -> GrpcServer:
    drain = Drain()
    server = grpc.aio.server(
        interceptors=[ServiceInterceptor(drain)],
        options=[("grpc.so_reuseport", 0), ("grpc.max_receive_message_length", 16 * 1024 * 1024)],
    )
    for register in registrations:
        register(server)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    names = tuple(service_names)
    reflection.enable_server_reflection((*names, health.SERVICE_NAME, reflection.SERVICE_NAME), server)
    try:
        bound = server.add_insecure_port(f"{host}:{port}")
    except RuntimeError:
        bound = 0
    if bound == 0:
        raise SettingsError(f"TURNOUT_{port_setting.upper()}: port {port} on {host} is already in use")
    return GrpcServer(server, bound, health_servicer, names, drain)


async def run_until_signalled(
    grpc_server: GrpcServer,
    *,
    grace: float,
    background: Iterable[Callable[[asyncio.Event], Awaitable[None]]] = (),
    on_stop: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Serves until SIGTERM or SIGINT, then drains in-flight calls within `grace` seconds."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await grpc_server.start()
    tasks = [asyncio.create_task(job(stop)) for job in background]
    log.info("serving", extra={"fields": {"port": grpc_server.port, "services": list(grpc_server.service_names)}})
    await stop.wait()
    log.info("stopping", extra={"fields": {"grace_seconds": grace}})
    await grpc_server.stop(grace)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    if on_stop is not None:
        await on_stop()
