"""Calling another Turnout service: the caller's identity travels along, and the callee's
refusals come back as the same domain errors it raised (see errors.proto)."""

from __future__ import annotations

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
