"""Liveness, readiness and metrics: unauthenticated, for load balancers and Prometheus."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from gateway import problems
from gateway.backends import Backends, request_context

router = APIRouter(tags=["operations"])

# Readiness must answer well within a load balancer's probe timeout, whatever the
# configured deadline for real calls.
READY_DEADLINE_SECONDS = 1.0


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """Liveness: the process answers. Never looks at backends, so a backend outage does not
    get healthy gateway replicas restarted."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "A backend is not serving (problem+json `not_ready`)."}})
async def readyz(request: Request) -> dict[str, object]:
    backends: Backends = request.app.state.backends
    context = request_context(request)
    timeout = min(READY_DEADLINE_SECONDS, request.app.state.settings.grpc_deadline_seconds)
    # Through the breakers, so an open circuit answers at once and probes help close it.
    states = await asyncio.gather(*(b.health_state(context, timeout) for b in backends))
    by_backend = {b.name: state for b, state in zip(backends, states, strict=True)}
    if all(state == "SERVING" for state in states):
        return {"status": "ready", "backends": by_backend}
    failing = ", ".join(f"{name} is {state}" for name, state in by_backend.items() if state != "SERVING")
    raise problems.Problem(503, "not_ready", f"not ready: {failing}", extensions={"backends": by_backend})


@router.get("/metrics", include_in_schema=False)
async def metrics() -> Response:
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
