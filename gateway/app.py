"""The REST gateway: `create_app(settings)` builds a FastAPI app; nothing connects until its
lifespan starts, which opens one gRPC channel per backend and closes them on shutdown."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from prometheus_client import Counter, Histogram
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway import problems
from gateway.backends import Backends
from gateway.body_limit import BodyLimitMiddleware
from gateway.routes import (
    admin,
    audit,
    availability,
    drafts,
    events,
    exports,
    occurrences,
    operations,
    participants,
    registrations,
    seats,
    services,
    sessions,
    stats,
    venues,
    visitors,
)
from gateway.rate_limits import RateLimits, limit_address, limit_principal
from gateway.security import authenticated
from kernel import context
from kernel.runtime import settle_heap
from kernel.settings import Settings

logger = logging.getLogger(__name__)

# Every `/v1` resource router; each is included with bearer authentication. They carry
# their full path prefix themselves: FastAPI (>= 0.137) reports the route of a nested
# router without its parents' prefixes, which would make the metrics' route label lie.
V1_ROUTERS = (venues.router, services.router, events.router, sessions.router, seats.router, participants.router,
              drafts.router, registrations.router, availability.router, stats.router, admin.router, audit.router,
              exports.router, occurrences.router)

REQUESTS = Counter(
    "turnout_gateway_requests_total",
    "HTTP requests answered by the gateway.",
    ["method", "route", "status"],
)
LATENCY = Histogram(
    "turnout_gateway_request_duration_seconds",
    "Time to answer an HTTP request.",
    ["method", "route", "status"],
)
# Route templates, not raw paths, keep label cardinality bounded; unknown paths share one.
UNMATCHED_ROUTE = "<unmatched>"
_MAX_REQUEST_ID_LENGTH = 128


def _incoming_request_id(scope: Scope) -> str | None:
    for key, value in scope["headers"]:
        if key == b"x-request-id":
            text = value.decode("latin-1")
            # It goes on as gRPC metadata and into logs: printable ASCII, bounded, no spaces.
            if 0 < len(text) <= _MAX_REQUEST_ID_LENGTH and text.isascii() and text.isprintable() and " " not in text:
                return text
            return None
    return None


class RequestContextMiddleware:
    """Gives each request its id (echoed as `X-Request-ID`), records metrics, and turns
    any unhandled exception into a logged 500 problem that still carries the request id.

    Pure ASGI rather than BaseHTTPMiddleware: it sits inside Starlette's
    ServerErrorMiddleware, which would otherwise answer in plain text and re-raise."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _incoming_request_id(scope) or str(uuid.uuid4())
        scope.setdefault("state", {})["request_id"] = request_id
        # Every log line of this request carries its id (kernel.logs reads the context).
        context_token = context.bind(context.RequestContext(request_id=request_id))
        status = 500
        response_started = False
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status, response_started = message["status"], True
                MutableHeaders(scope=message)["X-Request-ID"] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            logger.exception(
                "unhandled error answering %s %s", scope["method"], getattr(scope.get("route"), "path", UNMATCHED_ROUTE)
            )
            if response_started:
                raise
            response = problems.render(problems.internal_error(), request_id=request_id, instance=scope["path"])
            await response(scope, receive, send_with_id)
        finally:
            route = getattr(scope.get("route"), "path", UNMATCHED_ROUTE)
            labels = (scope["method"], route, str(status))
            elapsed = time.perf_counter() - started
            REQUESTS.labels(*labels).inc()
            LATENCY.labels(*labels).observe(elapsed)
            # The route template, never the raw path: ids in paths stay out of the logs.
            logger.info("http", extra={"fields": {"method": scope["method"], "route": route, "status": status,
                                                  "ms": round(elapsed * 1000, 2)}})
            context.reset(context_token)


def create_app(settings: Settings) -> FastAPI:
    settings.require_auth_secret()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.backends = Backends(settings)
        app.state.rate_limits = RateLimits(settings)
        settle_heap()
        try:
            yield
        finally:
            await app.state.backends.close()

    app = FastAPI(
        title="Turnout",
        version="1",
        description="Event registration and seat booking. Errors are RFC 9457 problem+json with a stable `code`.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    problems.install(app)
    # The last added runs first: the request gets its id before its body is counted.
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestContextMiddleware)

    for router in V1_ROUTERS:
        app.include_router(router, dependencies=[Depends(limit_address), Depends(authenticated),
                                                 Depends(limit_principal)])
    # The visitor sign-in is how a visitor gets a token, so it cannot require one; it has its
    # own, tighter limits (gateway/routes/visitors.py). Kept out of V1_ROUTERS on purpose.
    app.include_router(visitors.router)
    app.include_router(operations.router)

    def openapi() -> dict[str, object]:
        if app.openapi_schema is None:
            app.openapi_schema = problems.document(FastAPI.openapi(app))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
