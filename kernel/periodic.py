"""Background jobs of a service (the sweeper, the scheduler, the reconciler, ...): one pass
every so often until the process stops."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger("turnout.jobs")


async def repeat(one_pass: Callable[[], Awaitable[object]], stop: asyncio.Event, *, interval: float, what: str,
                 wake: asyncio.Event | None = None) -> None:
    """Runs `one_pass` every `interval` seconds, or as soon as `wake` is set, until `stop` is
    set. A failed pass (a database away, a bug in one item) is logged and retried at the next
    tick: the job itself never dies of it."""
    while not stop.is_set():
        if wake is not None:
            wake.clear()
        try:
            await one_pass()
        except Exception:  # the next pass tries again
            log.exception("%s failed", what)
        waiters = [asyncio.ensure_future(stop.wait())]
        if wake is not None:
            waiters.append(asyncio.ensure_future(wake.wait()))
        try:
            await asyncio.wait(waiters, timeout=interval, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()


async def sleep_or_stop(stop: asyncio.Event, seconds: float) -> bool:
    """Sleeps up to `seconds`; True when `stop` was set meanwhile (the caller returns)."""
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
        return True
    except TimeoutError:
        return False
