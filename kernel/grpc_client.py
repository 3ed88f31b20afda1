"""Calling another Turnout service: the caller's identity travels along, and the callee's
refusals come back as the same domain errors it raised (see errors.proto)."""

from __future__ import annotations

import json

import grpc
from google.protobuf.message import DecodeError
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from kernel import context
from kernel.errors import (
    Aborted,
    AlreadyExists,
    DomainError,
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Unavailable,
)

_ERRORS: dict[grpc.StatusCode, type[DomainError]] = {
    grpc.StatusCode.NOT_FOUND: NotFound,
    grpc.StatusCode.ALREADY_EXISTS: AlreadyExists,
    grpc.StatusCode.FAILED_PRECONDITION: FailedPrecondition,
    grpc.StatusCode.PERMISSION_DENIED: PermissionDenied,
    grpc.StatusCode.ABORTED: Aborted,
}
# A callee that is down, overloaded or too slow: the caller may retry later.
TRANSIENT = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED,
                       grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.CANCELLED})


# A large export may take minutes; its stream's deadline bounds the whole of it.
EXPORT_DEADLINE_SECONDS = 3600.0

# Retries only where the call certainly did no harm or is safe to repeat: UNAVAILABLE means
# the callee was unreachable or shutting down, and every command carries a request id that
# makes a repeat return the first outcome (DESIGN.md §3.8). DEADLINE_EXCEEDED is not
# retried (the deadline covers all attempts, so nothing would be left to retry with), nor
# is any business error. The attempts together stay inside the caller's deadline.
RETRY_POLICY = {
    "maxAttempts": 4,
    "initialBackoff": "0.1s",
    "maxBackoff": "1s",
    "backoffMultiplier": 2,
    "retryableStatusCodes": ["UNAVAILABLE"],
}
# `"name": [{}]` selects every method of every service on the channel.
SERVICE_CONFIG = json.dumps({"methodConfig": [{"name": [{}], "retryPolicy": RETRY_POLICY}]})
CHANNEL_OPTIONS = (("grpc.enable_retries", 1), ("grpc.service_config", SERVICE_CONFIG))


def channel(target: str) -> grpc.aio.Channel:
    """An asyncio channel to another Turnout service, retrying UNAVAILABLE with backoff."""
    return grpc.aio.insecure_channel(target, options=CHANNEL_OPTIONS)


def blocking_channel(target: str) -> grpc.Channel:
    """The same for synchronous callers (the CLI)."""
    return grpc.insecure_channel(target, options=CHANNEL_OPTIONS)


def outgoing_metadata() -> tuple[tuple[str, str], ...]:
    """The current request's id and caller, for a call made on its behalf."""
    ctx = context.current()
    pairs = [("x-request-id", ctx.request_id or context.new_request_id()), ("x-turnout-actor", ctx.actor)]
    if ctx.roles:
        pairs.append(("x-turnout-roles", ",".join(sorted(ctx.roles))))
    if ctx.participant_id:
        pairs.append(("x-turnout-participant-id", ctx.participant_id))
    return tuple(pairs)


def domain_error(exc: grpc.aio.AioRpcError, *, service: str) -> DomainError:
    """The callee's refusal as a domain error with its reason and metadata; transient
    failures and faults as Unavailable (the caller's own caller may retry)."""
    code = exc.code()
    info, violations = _details(exc)
    if code == grpc.StatusCode.INVALID_ARGUMENT and violations:
        return InvalidArgument(violations, exc.details() or None)
    kind = _ERRORS.get(code)
    if kind is None:
        what = "is unavailable" if code in TRANSIENT else f"failed ({code.name})"
        return Unavailable(f"{service} {what}; retry later", metadata={"service": service})
    return kind(exc.details() or code.name, reason=info.reason if info else None,
                metadata=dict(info.metadata) if info else None)


def _details(exc: grpc.aio.AioRpcError) -> tuple[error_details_pb2.ErrorInfo | None, list[FieldViolation]]:
    try:
        status = rpc_status.from_call(exc)
    except (ValueError, DecodeError):
        status = None
    info, violations = None, []
    for detail in status.details if status is not None else ():
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
        elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            violations = [FieldViolation(v.field, v.description) for v in bad.field_violations]
    return info, violations
