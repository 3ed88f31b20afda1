"""The hold sweeper: gives back holds whose time ran out (HELD → EXPIRED, counters back,
`SeatExpired` published), within about a second.

Safe with any number of event-service replicas: each batch locks its seats with
`FOR UPDATE SKIP LOCKED`, so two sweepers never take the same hold and never wait for each
other, and then moves the counters in the ledger's fixed lock order (one transaction per
batch). Holds, confirmations and releases that meet a hold being swept wait for the sweep to
commit and then see it expired.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from event_service.adapters import ledger_repository
from event_service.application.ledger import expire
from kernel import periodic
from kernel.unit_of_work import UnitOfWorkFactory

log = logging.getLogger("turnout.sweeper")

BATCH = 200
INTERVAL_SECONDS = 1.0


def _utc_now() -> datetime:
    return datetime.now(UTC)


async def sweep_expired(uow_factory: UnitOfWorkFactory, now: datetime, *, batch: int = BATCH) -> int:
    """Expires one batch of the holds due at `now`; returns how many it expired."""
    async with uow_factory() as uow:
        due = await ledger_repository.lock_due(uow.connection, now=now, limit=batch, skip_locked=True)
        if not due:
            return 0
        await expire(uow, due, now)
        await uow.commit()
    return len(due)


async def sweep_all(uow_factory: UnitOfWorkFactory, now: datetime, *, batch: int = BATCH) -> int:
    """Expires every hold due at `now`, batch after batch."""
    total = 0
    while True:
        swept = await sweep_expired(uow_factory, now, batch=batch)
        total += swept
        if swept < batch:
            return total


async def run_sweeper(
    uow_factory: UnitOfWorkFactory,
    stop: asyncio.Event,
    *,
    clock: Callable[[], datetime] = _utc_now,
    interval: float = INTERVAL_SECONDS,
    batch: int = BATCH,
) -> None:
    """A background job of event-service (`kernel.runner.serve_grpc(background=...)`): sweeps
    every `interval` seconds until `stop` is set. A failed pass (database away) is logged and
    retried at the next tick; the job itself never dies of it."""
    async def one_pass() -> None:
        swept = await sweep_all(uow_factory, clock(), batch=batch)
        if swept:
            log.info("expired holds", extra={"fields": {"count": swept}})

    await periodic.repeat(one_pass, stop, interval=interval, what="sweeping expired holds")
