"""Idempotent commands (AIP-155): a retried request id returns the first outcome and changes
nothing.

The key row is inserted before the command runs, inside its transaction, so a concurrent
twin blocks on it and then sees the committed outcome instead of doing the work twice. A
refused command rolls back its key with everything else, so a corrected retry may run.
"""

from __future__ import annotations

import hashlib
from typing import Any, Awaitable, Callable

import sqlalchemy as sa
from google.protobuf.message import Message
from sqlalchemy.dialects.postgresql import insert

from kernel.errors import FieldViolation, InvalidArgument
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


async def execute_once(
    uow_factory: UnitOfWorkFactory,
    keys: sa.Table,
    *,
    request_id: str,
    method: str,
    request_fingerprint: str,
    work: Callable[[UnitOfWork], Awaitable[Outcome]],
) -> Outcome:
    """Runs `work` in a unit of work and commits it, unless `request_id` already has an outcome."""
    async with uow_factory() as uow:
        if request_id:
            claimed = await uow.connection.scalar(
                insert(keys)
                .values(request_id=request_id, method=method, fingerprint=request_fingerprint, outcome={})
                .on_conflict_do_nothing()
                .returning(keys.c.request_id)
            )
            if claimed is None:
                return await _recall(uow, keys, request_id, method, request_fingerprint)
        outcome = await work(uow)
        if request_id:
            await uow.connection.execute(
                keys.update().where(keys.c.request_id == request_id).values(outcome=outcome)
            )
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
