"""Idempotent commands (AIP-155): a retried request id returns the first outcome and changes
nothing.

The key row is inserted before the command runs, inside its transaction, so a concurrent
twin blocks on it and then sees the committed outcome instead of doing the work twice. A
refused command rolls back its key with everything else, so a corrected retry may run.

Some refusals are an outcome in their own right: a seat hold refused SOLD_OUT must stay
SOLD_OUT when retried, even if a seat was freed meanwhile, or a retry would silently take a
seat its caller already reported as refused. `execute_once(..., remember=(FailedPrecondition,))`
records such a refusal as the key's outcome, `{"error": {"class", "reason", "message",
"metadata"}}`, in a second short transaction after the rollback (the refused work leaves
nothing behind), and a retry re-raises it. If a concurrent twin claimed the key in between,
the twin's committed outcome wins and both callers answer with it. Validation errors are
never remembered: a corrected retry with the same key is a different body anyway.
"""

from __future__ import annotations

import hashlib
from typing import Any, Awaitable, Callable

import sqlalchemy as sa
from google.protobuf.message import Message
from sqlalchemy.dialects.postgresql import insert

from kernel.errors import (
    AlreadyExists,
    DomainError,
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Unavailable,
)
from kernel.unit_of_work import UnitOfWork, UnitOfWorkFactory

Outcome = dict[str, Any]


class RequestIdReused(InvalidArgument):
    reason = "REQUEST_ID_REUSED"

    def __init__(self, request_id: str):
        super().__init__(
            [FieldViolation("request_id", "was already used for a different request")],
            f"request_id {request_id} was already used for a different request",
        )


def fingerprint(request: Message, *, ignore: tuple[str, ...] = ("request_id",)) -> str:
    """Digest of a request without its idempotency key, to detect a key reused for another body."""
    copy = type(request)()
    copy.CopyFrom(request)
    for name in ignore:
        copy.ClearField(name)
    return hashlib.sha256(copy.SerializeToString(deterministic=True)).hexdigest()


# Refusals that can be remembered, by the name stored in the key row. Each takes
# (message, *, reason, metadata); InvalidArgument (field violations) is deliberately absent.
_REMEMBERABLE: dict[str, type[DomainError]] = {
    kind.__name__: kind for kind in (FailedPrecondition, NotFound, AlreadyExists, PermissionDenied, Unavailable)
}


async def execute_once(
    uow_factory: UnitOfWorkFactory,
    keys: sa.Table,
    *,
    request_id: str,
    method: str,
    request_fingerprint: str,
    work: Callable[[UnitOfWork], Awaitable[Outcome]],
    remember: tuple[type[DomainError], ...] = (),
) -> Outcome:
    """Runs `work` in a unit of work and commits it, unless `request_id` already has an outcome.

    A refusal of one of the `remember` types raised by `work` becomes the outcome of
    `request_id` too (see the module docstring); any other error rolls everything back."""
    for kind in remember:
        if not any(issubclass(kind, known) for known in _REMEMBERABLE.values()):
            raise TypeError(f"{kind.__name__} refusals cannot be remembered")
    async with uow_factory() as uow:
        if request_id:
            claimed = await uow.connection.scalar(
                insert(keys)
                .values(request_id=request_id, method=method, fingerprint=request_fingerprint, outcome={})
                .on_conflict_do_nothing()
                .returning(keys.c.request_id)
            )
            if claimed is None:
                return _answer(await _recall(uow, keys, request_id, method, request_fingerprint))
        try:
            outcome = await work(uow)
        except remember as error:
            if not request_id:
                raise
            refusal = error
        else:
            if request_id:
                await uow.connection.execute(
                    keys.update().where(keys.c.request_id == request_id).values(outcome=outcome)
                )
            await uow.commit()
            return outcome
    # The work was rolled back with its key; remember the refusal as the outcome.
    return _answer(await _remember(uow_factory, keys, request_id, method, request_fingerprint, refusal))


def refusal_outcome(error: DomainError) -> Outcome:
    """How a refusal is stored as an outcome: its kernel error class, reason, message, metadata."""
    kind = next(k for k in type(error).__mro__ if k in _REMEMBERABLE.values())
    return {"error": {"class": kind.__name__, "reason": error.reason, "message": error.message,
                      "metadata": dict(error.metadata)}}


def _answer(outcome: Outcome) -> Outcome:
    """The outcome, or the remembered refusal raised again."""
    error = outcome.get("error")
    if isinstance(error, dict) and error.get("class") in _REMEMBERABLE:
        raise _REMEMBERABLE[error["class"]](error["message"], reason=error["reason"],
                                            metadata=error.get("metadata") or {})
    return outcome


async def _remember(
    uow_factory: UnitOfWorkFactory, keys: sa.Table, request_id: str, method: str, request_fingerprint: str,
    refusal: DomainError,
) -> Outcome:
    outcome = refusal_outcome(refusal)
    async with uow_factory() as uow:
        stored = await uow.connection.scalar(
            insert(keys)
            .values(request_id=request_id, method=method, fingerprint=request_fingerprint, outcome=outcome)
            .on_conflict_do_nothing()
            .returning(keys.c.request_id)
        )
        if stored is None:  # a twin answered first: its outcome is the answer
            return await _recall(uow, keys, request_id, method, request_fingerprint)
        await uow.commit()
    return outcome


async def _recall(uow: UnitOfWork, keys: sa.Table, request_id: str, method: str, request_fingerprint: str) -> Outcome:
    row = (
        await uow.connection.execute(
            sa.select(keys.c.method, keys.c.fingerprint, keys.c.outcome).where(keys.c.request_id == request_id)
        )
    ).one()
    if row.method != method or row.fingerprint != request_fingerprint:
        raise RequestIdReused(request_id)
    return dict(row.outcome)
