"""Idempotency for commands that call other services between their transactions (sagas).

`execute_once` holds its key row locked for one transaction, so a concurrent twin simply
waits. A saga cannot: its steps are separate transactions and remote calls. So the key is
claimed up front with a lease, `{"in_progress": {"until": <epoch s>, "attempt": n}}`,
committed on its own; a twin that arrives meanwhile is refused with REQUEST_IN_PROGRESS
(ABORTED) instead of acting a second time; the saga's last transaction replaces the lease with
the outcome (`finish`), or stores a refusal (`remember`), or gives the key up on a transient
failure (`abandon`) so a retry may run. A claim whose owner died lapses with its lease: the
next retry takes it over as attempt n + 1, and a saga whose lease was taken over cannot
finish (its `finish` finds another attempt and refuses), so only one attempt ever commits.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from kernel.errors import Aborted, DomainError
from kernel.idempotency import Outcome, answer, checked, refusal_outcome
from kernel.unit_of_work import UnitOfWorkFactory


class RequestInProgress(Aborted):
    reason = "REQUEST_IN_PROGRESS"

    def __init__(self, request_id: str):
        super().__init__(f"a request with request_id {request_id} is still being processed; retry in a moment",
                         metadata={"request_id": request_id})


@dataclass(frozen=True)
class SagaStart:
    """Either this caller runs the saga (`attempt`), or it ran already (`outcome`)."""

    attempt: int = 0
    outcome: Outcome | None = None


def _lease(attempt: int, lease: timedelta) -> Outcome:
    return {"in_progress": {"until": time.time() + lease.total_seconds(), "attempt": attempt}}


async def begin(uow_factory: UnitOfWorkFactory, keys: sa.Table, *, request_id: str, method: str,
                request_fingerprint: str, lease: timedelta) -> SagaStart:
    """Claims `request_id` for a run of the saga, or answers its recorded outcome (raising a
    remembered refusal), or refuses with RequestInProgress while another run holds the lease."""
    async with uow_factory() as uow:
        connection = uow.connection
        # Losing a claim in a crash only loses the in-flight guard, never an outcome.
        await connection.execute(sa.text("SET LOCAL synchronous_commit = off"))
        claimed = await connection.scalar(
            insert(keys).values(request_id=request_id, method=method, fingerprint=request_fingerprint,
                                outcome=_lease(1, lease))
            .on_conflict_do_nothing().returning(keys.c.request_id))
        if claimed is not None:
            await uow.commit()
            return SagaStart(attempt=1)
        row = (await connection.execute(
            sa.select(keys.c.method, keys.c.fingerprint, keys.c.outcome)
            .where(keys.c.request_id == request_id).with_for_update())).one()
        outcome = checked(request_id, row.method, row.fingerprint, row.outcome, method, request_fingerprint)
        progress = outcome.get("in_progress")
        if not isinstance(progress, dict):
            return SagaStart(outcome=answer(outcome))
        if progress["until"] > time.time():
            raise RequestInProgress(request_id)
        attempt = int(progress["attempt"]) + 1
        await connection.execute(keys.update().where(keys.c.request_id == request_id)
                                 .values(outcome=_lease(attempt, lease)))
        await uow.commit()
        return SagaStart(attempt=attempt)


def _owned_by(keys: sa.Table, request_id: str, attempt: int) -> sa.ColumnElement[bool]:
    return sa.and_(keys.c.request_id == request_id,
                   keys.c.outcome["in_progress"]["attempt"].as_integer() == attempt)


async def finish(connection: AsyncConnection, keys: sa.Table, *, request_id: str, attempt: int,
                 outcome: Outcome) -> None:
    """Records the outcome in the saga's last transaction; refuses (and so rolls it back) when
    the lease lapsed and a later attempt took the key over."""
    done = await connection.scalar(keys.update().where(_owned_by(keys, request_id, attempt))
                                   .values(outcome=outcome).returning(keys.c.request_id))
    if done is None:
        raise RequestInProgress(request_id)


async def remember(uow_factory: UnitOfWorkFactory, keys: sa.Table, *, request_id: str, attempt: int,
                   refusal: DomainError) -> None:
    """Stores a refusal as the outcome: a retry gets the same refusal."""
    async with uow_factory() as uow:
        await uow.connection.execute(keys.update().where(_owned_by(keys, request_id, attempt))
                                     .values(outcome=refusal_outcome(refusal)))
        await uow.commit()


async def abandon(uow_factory: UnitOfWorkFactory, keys: sa.Table, *, request_id: str, attempt: int) -> None:
    """Gives the key up after a transient failure, so that a retry runs the saga again."""
    async with uow_factory() as uow:
        await uow.connection.execute(keys.delete().where(_owned_by(keys, request_id, attempt)))
        await uow.commit()

