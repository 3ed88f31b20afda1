"""Handing a consumer group on from a member that leaves while it is still joining.

A service stopped a second after it started (every e2e module does it) closes its consumers
in the middle of their first group join. On Tansu a plain close then wedges the group: the
broker finishes the join naming the departed member leader, and the next member waits for
that leader's assignment for minutes, so the next participant-service never read the
catalog (the lifecycle e2e test failed in CI on it). `kernel.kafka.close_consumer` lets the
join finish before leaving; every consumer of ours closes through it."""

from __future__ import annotations

import asyncio
import time

import pytest
from kafka import KafkaConsumer
from kafka.coordinator.base import MemberState

from kernel.consumer import MessageConsumer
from kernel.kafka import close_consumer, ensure_topics, make_consumer

pytestmark = pytest.mark.integration

TOPIC = "turnout.test.handover.v1"
NEXT_MEMBER_WAIT = 15.0  # a healthy handover on Tansu takes about a second


@pytest.fixture
def group(settings, unique) -> str:
    ensure_topics(settings, [TOPIC])
    return f"test-handover-{unique}"


def _held_in_join(consumer: KafkaConsumer) -> bool:
    """Joining with its member id already (the first JoinGroup only hands one out): a plain
    close now sends a LeaveGroup while the broker holds the second JoinGroup."""
    coordinator = consumer._coordinator
    return coordinator.state is MemberState.REBALANCING and coordinator._generation.has_member_id()


def _mid_join(settings, group: str) -> KafkaConsumer:
    """A member whose JoinGroup the broker is holding (Tansu answers after half the session
    timeout, so there is about a second to catch it)."""
    consumer = make_consumer(settings, group, [TOPIC])
    deadline = time.monotonic() + 10
    while not _held_in_join(consumer):
        assert time.monotonic() < deadline, "the consumer never started joining"
        consumer.poll(timeout_ms=20)
    assert not consumer.assignment()
    return consumer


def _next_member_assigned(settings, group: str, within: float = NEXT_MEMBER_WAIT) -> bool:
    consumer = make_consumer(settings, group, [TOPIC])
    try:
        deadline = time.monotonic() + within
        while not consumer.assignment() and time.monotonic() < deadline:
            consumer.poll(timeout_ms=100)
        return bool(consumer.assignment())
    finally:
        close_consumer(consumer)


def test_a_member_closed_while_joining_leaves_the_group_to_the_next(settings, group) -> None:
    leaving = _mid_join(settings, group)
    close_consumer(leaving)
    assert _next_member_assigned(settings, group)


async def test_a_service_stopped_while_its_consumer_joins_hands_the_group_on(settings, group) -> None:
    made: list[KafkaConsumer] = []

    def factory() -> KafkaConsumer:
        made.append(make_consumer(settings, group, [TOPIC]))
        return made[-1]

    async def never_refused(delivery, error) -> None:  # type: ignore[no-untyped-def]
        raise AssertionError(f"nothing is refused here: {error!r}")

    stop = asyncio.Event()
    running = asyncio.create_task(MessageConsumer(factory, group, {}, never_refused, poll_timeout_ms=20).run(stop))
    async with asyncio.timeout(10):
        while not (made and _held_in_join(made[0])):
            await asyncio.sleep(0.01)
    stop.set()
    async with asyncio.timeout(10):
        await running
    assert await asyncio.to_thread(_next_member_assigned, settings, group)


def test_without_letting_the_join_finish_the_broker_wedges_the_group(engines, settings, group) -> None:
    """Why close_consumer waits. Should this start failing, the broker no longer wedges and
    the wait is no longer needed (Apache Kafka never did)."""
    if "kafka" not in engines.engines:
        pytest.skip("documents the embedded Tansu broker; an external broker is another one")
    leaving = _mid_join(settings, group)
    leaving.close(autocommit=False)
    assert not _next_member_assigned(settings, group, within=8)
