"""RFC 9457 problem details: the only error shape the gateway ever answers with.

Every error has a stable machine-readable `code` (snake_case; for backend errors it is the
`google.rpc.ErrorInfo.reason` in lower case) and the request id, so that a client can
branch on `code` and an operator can find the logs of that request.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

import grpc
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from google.protobuf.message import DecodeError
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from starlette.exceptions import HTTPException as StarletteHTTPException

logger = logging.getLogger(__name__)

MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "https://turnout.dev/problems/"

# gRPC code -> (HTTP status, code used when the backend sent no ErrorInfo).
_RPC_TO_HTTP: dict[grpc.StatusCode, tuple[int, str]] = {
    grpc.StatusCode.INVALID_ARGUMENT: (400, "invalid_argument"),
    grpc.StatusCode.NOT_FOUND: (404, "not_found"),
    grpc.StatusCode.ALREADY_EXISTS: (409, "already_exists"),
    grpc.StatusCode.FAILED_PRECONDITION: (409, "failed_precondition"),
    grpc.StatusCode.ABORTED: (409, "aborted"),
    grpc.StatusCode.PERMISSION_DENIED: (403, "forbidden"),
    grpc.StatusCode.UNAUTHENTICATED: (401, "unauthenticated"),
    grpc.StatusCode.RESOURCE_EXHAUSTED: (429, "resource_exhausted"),
}
# CANCELLED too: the gateway never sees its own cancellations here, so a backend cancelled the
# call, which a gRPC server does to a call that arrives as it shuts down: retryable.
_UNAVAILABLE_CODES = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED,
                                grpc.StatusCode.CANCELLED})
# Reasons whose HTTP status is more precise than their gRPC code's.
_REASON_STATUS: dict[str, int] = {
    "document_too_large": 413,
    "unsupported_document_type": 415,
    # FAILED_PRECONDITION in gRPC (it must not open the circuit breaker), but retryable.
    "document_storage_unavailable": 503,
    # Likewise: the backend is up but a store it needs (Redis) is not (kernel/grpc_server.py).
    "dependency_unavailable": 503,
}
# Reasons REST names after its own vocabulary: the request id travels as `Idempotency-Key`.
_REST_CODES: dict[str, str] = {"request_id_reused": "idempotency_key_reused"}
# Statuses for those REST codes: a reused key is an unprocessable request (as in the IETF
# Idempotency-Key draft); a key still in flight is a conflict to retry.
_REASON_STATUS.update({"idempotency_key_reused": 422, "request_in_progress": 409})
_PARAM_SOURCES = frozenset({"body", "query", "path", "header", "cookie"})


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


@dataclass(eq=False)  # exceptions compare and hash by identity
class Problem(Exception):
    """Raise anywhere while handling a request; the installed handler renders it."""

    status: int
    code: str
    detail: str
    errors: list[FieldError] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    # RFC 9457 extension members, e.g. the backend states of /readyz.
    extensions: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(f"{self.status} {self.code}: {self.detail}")


def render(problem: Problem, *, request_id: str | None, instance: str | None) -> JSONResponse:
    body: dict[str, Any] = {
        "type": TYPE_BASE + problem.code,
        "title": HTTPStatus(problem.status).phrase,
        "status": problem.status,
        "detail": problem.detail,
        "code": problem.code,
    }
    if instance:
        body["instance"] = instance
    if problem.errors:
        body["errors"] = [{"field": e.field, "message": e.message} for e in problem.errors]
    body["request_id"] = request_id
    body.update(problem.extensions)
    return JSONResponse(body, status_code=problem.status, headers=problem.headers, media_type=MEDIA_TYPE)


def render_for(request: Request, problem: Problem) -> JSONResponse:
    return render(problem, request_id=getattr(request.state, "request_id", None), instance=request.url.path)


# --- problems the gateway itself raises --------------------------------------------------


def unauthenticated(detail: str) -> Problem:
    return Problem(401, "unauthenticated", detail, headers={"WWW-Authenticate": "Bearer"})


def forbidden(detail: str) -> Problem:
    return Problem(403, "forbidden", detail)


def backend_unavailable(backend: str, retry_after: int = 1, *, circuit_open: bool = False) -> Problem:
    reason = "is failing and calls to it are suspended" if circuit_open else "is unavailable"
    return Problem(
        503,
        "backend_unavailable",
        f"the {backend} backend {reason}; retry after {retry_after} s",
        headers={"Retry-After": str(retry_after)},
        extensions={"backend": backend},
    )


def rate_limited(limit: str, rate: str, retry_after: int) -> Problem:
    return Problem(429, "rate_limited", f"too many requests ({limit} limit: {rate}); retry after {retry_after} s",
                   headers={"Retry-After": str(retry_after)}, extensions={"limit": limit})


def internal_error() -> Problem:
    return Problem(500, "internal", "an unexpected error occurred; report the request_id")


# --- backend errors ----------------------------------------------------------------------


def _rich_status(exc: grpc.aio.AioRpcError):  # type: ignore[no-untyped-def]
    try:
        return rpc_status.from_call(exc)
    except (ValueError, DecodeError):
        # Details that contradict the status or do not parse are ignored, not fatal.
        return None


FieldNames = Mapping[str, str] | Callable[[str], str]


def from_rpc_error(exc: grpc.aio.AioRpcError, *, backend: str, fields: FieldNames | None = None) -> Problem:
    """Translates a failed backend call. `fields` maps proto field paths of BadRequest
    violations (`venue.display_name`) to the REST names the client sent (`name`): a table,
    or a function for nested paths (`event.sessions[2].service` -> `sessions[2].service_id`)."""
    code = exc.code()
    if code in _UNAVAILABLE_CODES:
        # Always the same code, whatever reason the backend gave, so clients need one rule
        # for "try again later".
        return backend_unavailable(backend)
    if code not in _RPC_TO_HTTP:
        # UNKNOWN, INTERNAL, UNIMPLEMENTED, ...: the backend's message may carry internals,
        # so it goes to the log (for the request id the client reports), not to the client.
        logger.warning("the %s backend answered %s: %s", backend, code.name, exc.details())
        return Problem(502, "backend_error", f"the {backend} backend failed to answer this request")

    status, problem_code = _RPC_TO_HTTP[code]
    problem = Problem(status, problem_code, exc.details() or HTTPStatus(status).phrase)
    if status == 401:
        problem.headers["WWW-Authenticate"] = "Bearer"
    rich = _rich_status(exc)
    for any_detail in rich.details if rich is not None else ():
        if any_detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            any_detail.Unpack(info)
            if info.reason:
                problem.code = _REST_CODES.get(info.reason.lower(), info.reason.lower())
            if info.reason == "INVALID_TRANSITION":  # the occurrence lifecycle: where it is, what it may do
                allowed = info.metadata.get("allowed", "")
                problem.extensions.update(state=info.metadata.get("state", ""),
                                          allowed=allowed.split(",") if allowed else [])
            # The ledger: which final state closed it; rounds: where the occurrence is.
            if info.reason in ("OCCURRENCE_CLOSED", "ROUNDS_NOT_SCHEDULABLE"):
                problem.extensions.update(state=info.metadata.get("state", ""))
            if info.reason == "RECONFIRMATION_CLOSED":  # where the reconfirmation is: never asked, settled, ...
                problem.extensions.update(reconfirmation=info.metadata.get("reconfirmation", ""))
        elif any_detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad_request = error_details_pb2.BadRequest()
            any_detail.Unpack(bad_request)
            problem.errors.extend(
                FieldError(_rest_field(fields, v.field), v.description) for v in bad_request.field_violations
            )
        elif any_detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
            retry = error_details_pb2.RetryInfo()
            any_detail.Unpack(retry)
            delay = retry.retry_delay.seconds + retry.retry_delay.nanos / 1e9
            problem.headers["Retry-After"] = str(max(1, math.ceil(delay)))
    if problem.code in _REASON_STATUS:
        problem.status = _REASON_STATUS[problem.code]
        if problem.status == 503:
            problem.headers.setdefault("Retry-After", "5")
    return problem


def _rest_field(fields: FieldNames | None, path: str) -> str:
    if fields is None:
        return path
    if callable(fields):
        return fields(path)
    return fields.get(path, path)


# --- OpenAPI -----------------------------------------------------------------------------

# What any `/v1` operation may answer besides its successes, documented once for all of them:
# authentication, the limits and the backend translations apply to every route alike.
V1_ERROR_STATUSES: dict[int, str] = {
    400: "The request breaks a rule the service checks (`errors` names the fields).",
    401: "No valid bearer token: code `unauthenticated`.",
    403: "The token's roles or participant do not allow this: code `forbidden`.",
    404: "No such resource.",
    409: "The resource's state refuses the request (see `code`).",
    413: "The request body is larger than the gateway accepts.",
    415: "The body's media type is not accepted.",
    422: "The request does not parse (`errors` names the fields): code `validation_failed`.",
    429: "A rate limit was hit: code `rate_limited`, with `Retry-After`.",
    502: "A backend failed to answer: code `backend_error`.",
    503: "A backend is unavailable: code `backend_unavailable`, with `Retry-After`.",
}
_PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details; `code` is stable, extension members may follow.",
    "type": "object",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {"type": "array", "items": {
            "type": "object", "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            "required": ["field", "message"]}},
        "request_id": {"anyOf": [{"type": "string"}, {"type": "null"}]},
    },
    "required": ["type", "title", "status", "detail", "code", "request_id"],
}
_PROBLEM_CONTENT = {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
_RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before retrying.", "schema": {"type": "integer"}}}
_ERROR_HEADERS: dict[int, dict[str, Any]] = {
    401: {"WWW-Authenticate": {"required": True, "schema": {"type": "string"}}},
    429: _RETRY_AFTER,
    503: _RETRY_AFTER,
}


def document(spec: dict[str, Any]) -> dict[str, Any]:
    """Makes `spec` (FastAPI's OpenAPI document) say what the handlers below really answer:
    every error response is problem+json, including the 422 that FastAPI documents with its
    own shape, and every `/v1` operation lists the errors all of them share."""
    for path, operations in spec.get("paths", {}).items():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            if path.startswith("/v1/"):
                for status, description in V1_ERROR_STATUSES.items():
                    documented = responses.setdefault(str(status), {"description": description})
                    if status in _ERROR_HEADERS:
                        documented.setdefault("headers", _ERROR_HEADERS[status])
            for status, response in responses.items():
                if status[:1] in "45":
                    if response.get("description") == "Validation Error":  # FastAPI's own
                        response["description"] = V1_ERROR_STATUSES[422]
                    response["content"] = dict(_PROBLEM_CONTENT)
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    # FastAPI's validation error shapes are never sent: _on_validation_error answers a Problem.
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    schemas["Problem"] = _PROBLEM_SCHEMA
    return spec


# --- handlers ----------------------------------------------------------------------------


def _field_name(error: Mapping[str, Any]) -> str:
    if error.get("type") == "json_invalid":
        return "body"
    loc = [str(part) for part in error.get("loc", ())]
    # The client knows its fields, not FastAPI's idea of where they came from.
    if len(loc) > 1 and loc[0] in _PARAM_SOURCES:
        loc = loc[1:]
    return ".".join(loc)


async def _on_problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Problem)
    return render_for(request, exc)


async def _on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [FieldError(_field_name(e), e.get("msg", "is invalid")) for e in exc.errors()]
    detail = "; ".join(f"{e.field}: {e.message}" for e in errors)
    return render_for(request, Problem(422, "validation_failed", detail, errors=errors))


async def _on_http_exception(request: Request, exc: Exception) -> JSONResponse:
    # Routing errors (unknown path, wrong method) and anything FastAPI raises itself.
    assert isinstance(exc, StarletteHTTPException)
    if isinstance(getattr(exc, "problem", None), Problem):  # ours, raised where only HTTPExceptions pass
        return render_for(request, exc.problem)  # type: ignore[attr-defined]
    phrase = HTTPStatus(exc.status_code).phrase
    detail = exc.detail if isinstance(exc.detail, str) and exc.detail != phrase else None
    if exc.status_code == 404:
        detail = detail or f"no resource at {request.url.path}"
    problem = Problem(
        exc.status_code,
        phrase.lower().replace(" ", "_").replace("-", "_"),
        detail or phrase,
        headers=dict(exc.headers or {}),
    )
    return render_for(request, problem)


def install(app: FastAPI) -> None:
    app.add_exception_handler(Problem, _on_problem)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_exception)
