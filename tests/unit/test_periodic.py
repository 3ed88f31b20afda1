"""kernel.periodic.repeat: passes on every tick, survives a failed pass, wakes early when
asked and ends when stopped."""

from __future__ import annotations

import asyncio

from kernel.periodic import repeat


async def test_a_failed_pass_is_retried_and_stop_ends_the_job() -> None:
    stop, passes = asyncio.Event(), []

    async def one_pass() -> None:
        passes.append(len(passes))
        if len(passes) == 1:
            raise RuntimeError("database away")
        if len(passes) == 3:
            stop.set()

    await asyncio.wait_for(repeat(one_pass, stop, interval=0.01, what="test pass"), timeout=5)
    assert passes == [0, 1, 2]


async def test_wake_runs_the_next_pass_before_the_interval() -> None:
    stop, wake, passes = asyncio.Event(), asyncio.Event(), []

    async def one_pass() -> None:
        passes.append(1)
        if len(passes) == 2:
            stop.set()

    job = asyncio.create_task(repeat(one_pass, stop, interval=3600, what="test pass", wake=wake))
    await asyncio.sleep(0.05)
    assert passes == [1]
    wake.set()
    await asyncio.wait_for(job, timeout=5)
    assert passes == [1, 1]
