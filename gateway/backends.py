"""The gRPC backends as the gateway sees them: one channel, stub and breaker each.

All backend traffic goes through `Backend.call`, which applies the breaker, the deadline
and the request metadata, and turns failures into problems. Routes get a request-bound
`BackendClient` from the `EventBackend`/`ParticipantBackend`/`ReportingBackend`
dependencies and never touch channels, metadata or error translation themselves.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated, Any, Generic, Literal, TypeVar

import grpc
import pybreaker
from fastapi import Depends, Request
from grpc_health.v1 import health_pb2, health_pb2_grpc

from gateway import problems
from gateway.breakers import BackendBreaker
from gateway.security import CurrentPrincipal
from kernel import grpc_client
from kernel.auth import Principal
from kernel.settings import Settings
from turnout.event.v1.event_service_pb2_grpc import EventServiceStub
from turnout.participant.v1.participant_service_pb2_grpc import ParticipantServiceStub
from turnout.participant.v1.registration_service_pb2_grpc import RegistrationServiceStub
from turnout.reporting.v1.reporting_service_pb2_grpc import ReportingServiceStub

BackendName = Literal["event", "participant", "reporting"]
BACKEND_NAMES: tuple[BackendName, ...] = ("event", "participant", "reporting")
_STUBS: dict[BackendName, type] = {
    "event": EventServiceStub,
    "participant": ParticipantServiceStub,
    "reporting": ReportingServiceStub,
}

StubT = TypeVar("StubT")
ResponseT = TypeVar("ResponseT")
RpcMethod = Callable[..., Awaitable[ResponseT]]


@dataclass(frozen=True)
class CallContext:
    """What every backend call says about the request it serves."""

    request_id: str
    principal: Principal | None = None

    def metadata(self) -> tuple[tuple[str, str], ...]:
        pairs = [("x-request-id", self.request_id)]
        if self.principal is not None:
            pairs.append(("x-turnout-actor", self.principal.sub))
            pairs.append(("x-turnout-roles", ",".join(sorted(self.principal.roles))))
            if self.principal.participant_id:
                pairs.append(("x-turnout-participant-id", self.principal.participant_id))
        return tuple(pairs)


class Backend(Generic[StubT]):
    def __init__(self, name: BackendName, settings: Settings):
        self.name = name
        self.target = settings.target(name)
        # Creating a channel does not connect; the first call does, so a backend that is
        # down at start-up only makes /readyz report it.
        self.channel = grpc_client.channel(self.target)
        self.stub: StubT = _STUBS[name](self.channel)
        self.health = health_pb2_grpc.HealthStub(self.channel)
        self.breaker = BackendBreaker(
            name, fail_max=settings.breaker_fail_max, reset_timeout=settings.breaker_reset_seconds
        )
        self.deadline = settings.grpc_deadline_seconds
        # Further gRPC services the same process serves, sharing its channel and breaker.
        self.services: dict[type, Any] = {}

    def service(self, stub_type: type) -> Any:
        if stub_type not in self.services:
            self.services[stub_type] = stub_type(self.channel)
        return self.services[stub_type]

    async def invoke(
        self,
        method: RpcMethod[ResponseT],
        request: Any,
        *,
        context: CallContext,
        timeout: float | None = None,
    ) -> ResponseT:
        """Calls through the breaker; failures come out raw (AioRpcError, CircuitBreakerError)."""
        with self.breaker.calling():
            return await method(request, timeout=timeout or self.deadline, metadata=context.metadata())

    async def call(
        self,
        method: RpcMethod[ResponseT],
        request: Any,
        *,
        context: CallContext,
        fields: problems.FieldNames | None = None,
    ) -> ResponseT:
        """Calls through the breaker; failures come out as `problems.Problem`."""
        with self.failures_as_problems(fields):
            return await self.invoke(method, request, context=context)

    @contextmanager
    def failures_as_problems(self, fields: problems.FieldNames | None = None) -> Iterator[None]:
        """Turns what a call through this backend's breaker may raise into problems (also
        for streaming calls, which routes drive themselves)."""
        try:
            yield
        except pybreaker.CircuitBreakerError as exc:
            # Also raised by the very call that trips the breaker, after it reached the backend.
            raise problems.backend_unavailable(self.name, self.breaker.retry_after(), circuit_open=True) from exc
        except grpc.aio.AioRpcError as exc:
            raise problems.from_rpc_error(exc, backend=self.name, fields=fields) from exc
        except OSError as exc:
            raise problems.backend_unavailable(self.name) from exc

    async def health_state(self, context: CallContext, timeout: float) -> str:
        """The grpc.health.v1 status name of the whole server, or why it could not be had."""
        try:
            reply = await self.invoke(
                self.health.Check, health_pb2.HealthCheckRequest(service=""), context=context, timeout=timeout
            )
        except pybreaker.CircuitBreakerError:
            return "CIRCUIT_OPEN"
        except grpc.aio.AioRpcError as exc:
            return exc.code().name
        except OSError:
            return "UNAVAILABLE"
        return health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)

    async def close(self) -> None:
        await self.channel.close()


class Backends:
    """All backends of one gateway process; built in the app's lifespan."""

    def __init__(self, settings: Settings):
        self.event: Backend[EventServiceStub] = Backend("event", settings)
        self.participant: Backend[ParticipantServiceStub] = Backend("participant", settings)
        self.reporting: Backend[ReportingServiceStub] = Backend("reporting", settings)

    def __getitem__(self, name: BackendName) -> Backend[Any]:
        return getattr(self, name)

    def __iter__(self) -> Iterator[Backend[Any]]:
        return (self[name] for name in BACKEND_NAMES)

    async def close(self) -> None:
        for backend in self:
            await backend.close()


class BackendClient(Generic[StubT]):
    """A backend bound to one request, so routes pass only what differs per call:
    `await event.call(event.stub.GetVenue, request)`."""

    def __init__(self, backend: Backend[Any], context: CallContext, stub: StubT | None = None):
        self._backend = backend
        self._context = context
        self._stub = stub  # another gRPC service of the same backend process

    @property
    def stub(self) -> StubT:
        return self._stub if self._stub is not None else self._backend.stub

    async def call(
        self, method: RpcMethod[ResponseT], request: Any, *, fields: problems.FieldNames | None = None
    ) -> ResponseT:
        return await self._backend.call(method, request, context=self._context, fields=fields)


def request_context(request: Request, principal: Principal | None = None) -> CallContext:
    return CallContext(request_id=request.state.request_id, principal=principal)


def _client(name: BackendName) -> Callable[..., Awaitable[BackendClient[Any]]]:
    async def provide(request: Request, principal: CurrentPrincipal) -> BackendClient[Any]:
        backends: Backends = request.app.state.backends
        return BackendClient(backends[name], request_context(request, principal))

    return provide


def service_client(name: BackendName, stub_type: type[StubT]) -> Callable[..., Awaitable[BackendClient[StubT]]]:
    """A dependency for another gRPC service served by a backend's process: same channel,
    same breaker (e.g. RegistrationService on participant-service)."""

    async def provide(request: Request, principal: CurrentPrincipal) -> BackendClient[StubT]:
        backend: Backend[Any] = request.app.state.backends[name]
        return BackendClient(backend, request_context(request, principal), backend.service(stub_type))

    return provide


EventBackend = Annotated[BackendClient[EventServiceStub], Depends(_client("event"))]
ParticipantBackend = Annotated[BackendClient[ParticipantServiceStub], Depends(_client("participant"))]
ReportingBackend = Annotated[BackendClient[ReportingServiceStub], Depends(_client("reporting"))]
# RegistrationService is served by participant-service: same channel, same breaker.
RegistrationBackend = Annotated[BackendClient[RegistrationServiceStub],
                                Depends(service_client("participant", RegistrationServiceStub))]
