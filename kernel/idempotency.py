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

A hot command may fold the claim into its own first statement (`claimed_by_work=True`): the
work inserts the key row with the outcome it will return, in the same transaction and with
the same ON CONFLICT DO NOTHING, and raises `KeyClaimed` with the stored row when the key
was taken already. Such a work may also raise `RefusedBeforeWriting(refusal)` when it wrote
nothing but its claim: a remembered refusal then overwrites the claimed outcome and commits
in the same transaction (the state is the one the rollback and the second transaction would
leave, in fewer round trips, and no twin can slip in between). Everything else (recall,
fingerprint check, what is remembered) is unchanged.
"""

from __future__ import annotations

import hashlib
import json
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


class KeyClaimed(Exception):  # noqa: N818 - a signal, not an error
    """Raised by a work that claims its own key (`claimed_by_work=True`) when the key exists:
    carries the stored row."""

    def __init__(self, method: str, fingerprint: str, outcome: Outcome):
        super().__init__(method)
        self.method, self.fingerprint, self.outcome = method, fingerprint, outcome


class RefusedBeforeWriting(Exception):  # noqa: N818 - a carrier, not an error
    """Raised by a work that claims its own key (`claimed_by_work=True`) when it refuses
    having written nothing but that claim (see the module docstring)."""

    def __init__(self, refusal: DomainError):
        super().__init__(refusal)
        self.refusal = refusal


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
    claimed_by_work: bool = False,
) -> Outcome:
    """Runs `work` in a unit of work and commits it, unless `request_id` already has an outcome.

    A refusal of one of the `remember` types raised by `work` becomes the outcome of
    `request_id` too (see the module docstring); any other error rolls everything back. With
    `claimed_by_work`, `work` claims the key and writes its outcome itself (see the module
    docstring)."""
    for kind in remember:
        if not any(issubclass(kind, known) for known in _REMEMBERABLE.values()):
            raise TypeError(f"{kind.__name__} refusals cannot be remembered")
    async with uow_factory() as uow:
        if request_id and not claimed_by_work:
            claimed = await uow.connection.scalar(
                insert(keys)
                .values(request_id=request_id, method=method, fingerprint=request_fingerprint, outcome={})
                .on_conflict_do_nothing()
                .returning(keys.c.request_id)
            )
            if claimed is None:
                return answer(await _recall(uow, keys, request_id, method, request_fingerprint))
        try:
            outcome = await work(uow)
        except KeyClaimed as taken:
            return answer(checked(request_id, taken.method, taken.fingerprint, taken.outcome, method,
                                    request_fingerprint))
        except RefusedBeforeWriting as refused:
            error = refused.refusal
            if not (claimed_by_work and request_id and isinstance(error, remember)):
                raise error from None  # rolls back, as any refusal not remembered
            outcome = refusal_outcome(error)
            driver = await uow.driver()
            await driver.execute(
                f"UPDATE {uow.connection.dialect.identifier_preparer.format_table(keys)} "
                "SET outcome = $2::jsonb WHERE request_id = $1", request_id, json.dumps(outcome))
            await uow.commit()
            return answer(outcome)
        except remember as error:
            if not request_id:
                raise
            refusal = error
        else:
            if request_id and not claimed_by_work:
                await uow.connection.execute(
                    keys.update().where(keys.c.request_id == request_id).values(outcome=outcome)
                )
            await uow.commit()
            return outcome
    # The work was rolled back with its key; remember the refusal as the outcome.
    return answer(await _remember(uow_factory, keys, request_id, method, request_fingerprint, refusal))


def refusal_outcome(error: DomainError) -> Outcome:
    """How a refusal is stored as an outcome: its kernel error class, reason, message, metadata."""
    kind = next(k for k in type(error).__mro__ if k in _REMEMBERABLE.values())
    return {"error": {"class": kind.__name__, "reason": error.reason, "message": error.message,
                      "metadata": dict(error.metadata)}}


def answer(outcome: Outcome) -> Outcome:
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
    return checked(request_id, row.method, row.fingerprint, row.outcome, method, request_fingerprint)


def checked(request_id: str, stored_method: str, stored_fingerprint: str, outcome: Outcome, method: str,
             request_fingerprint: str) -> Outcome:
    if stored_method != method or stored_fingerprint != request_fingerprint:
        raise RequestIdReused(request_id)
    return dict(outcome)
