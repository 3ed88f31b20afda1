"""Domain errors: plain Python, no framework, so that domain code may raise them.

The gRPC error interceptor (`kernel.grpc_errors`) turns each into a status code with
`google.rpc.ErrorInfo(reason=...)` and, for validation, `google.rpc.BadRequest`; the gateway
turns those into problem+json with `code = reason.lower()`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass(frozen=True)
class FieldViolation:
    field: str
    description: str


class DomainError(Exception):
    """Base of every error a command may refuse with. `reason` is UPPER_SNAKE and stable."""

    reason: str = "INTERNAL"

    def __init__(self, message: str, *, reason: str | None = None, metadata: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        if reason is not None:
            self.reason = reason
        self.metadata = dict(metadata or {})


class InvalidArgument(DomainError):
    reason = "VALIDATION_FAILED"

    def __init__(self, violations: list[FieldViolation], message: str | None = None):
        if not violations:
            raise ValueError("InvalidArgument needs at least one field violation")
        self.violations = list(violations)
        summary = message or "; ".join(f"{v.field}: {v.description}" for v in self.violations)
        super().__init__(summary)

    @classmethod
    def single(cls, field_name: str, description: str) -> "InvalidArgument":
        return cls([FieldViolation(field_name, description)])


class NotFound(DomainError):
    reason = "NOT_FOUND"


class AlreadyExists(DomainError):
    reason = "ALREADY_EXISTS"


class FailedPrecondition(DomainError):
    """The request is valid but the current state refuses it (sold out, archived, ...)."""

    reason = "FAILED_PRECONDITION"


class PermissionDenied(DomainError):
    """The caller's role may not do this (for example book above capacity without being an admin)."""

    reason = "FORBIDDEN"


class Unauthenticated(DomainError):
    """The caller could not be identified (for example a visitor sign-in that matched nobody)."""

    reason = "UNAUTHENTICATED"


class Unavailable(DomainError):
    reason = "UNAVAILABLE"


class Aborted(DomainError):
    """A concurrent operation is in the way (for example the same request still running);
    retrying later may succeed."""

    reason = "ABORTED"


@dataclass
class Validator:
    """Collects every field violation of a request before refusing it, so a client sees all
    of its mistakes at once."""

    violations: list[FieldViolation] = field(default_factory=list)

    def check(self, ok: bool, field_name: str, description: str) -> bool:
        if not ok:
            self.violations.append(FieldViolation(field_name, description))
        return ok

    def add(self, field_name: str, description: str) -> None:
        self.violations.append(FieldViolation(field_name, description))

    def raise_if_any(self) -> None:
        if self.violations:
            raise InvalidArgument(self.violations)


def with_field_prefix(error: InvalidArgument, prefix: str) -> InvalidArgument:
    """The same violations with field paths as the API names them (e.g. "venue.display_name")."""
    return InvalidArgument([FieldViolation(f"{prefix}.{v.field}", v.description) for v in error.violations])


@contextmanager
def fields_under(prefix: str) -> Iterator[None]:
    """Domain code names fields relative to its object; the API names them from the request."""
    try:
        yield
    except InvalidArgument as error:
        if type(error) is not InvalidArgument:
            raise
        raise with_field_prefix(error, prefix) from None
