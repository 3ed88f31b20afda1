"""Kafka clients configured for Turnout (kafka-python 3.x; works against Apache Kafka and the
embedded Tansu broker alike)."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic
from kafka.coordinator.base import MemberState
from kafka.errors import KafkaError, TopicAlreadyExistsError

from kernel import topics as topic_names
from kernel.settings import Settings

log = logging.getLogger(__name__)


def _servers(settings: Settings) -> list[str]:
    return [s.strip() for s in settings.kafka_bootstrap.split(",") if s.strip()]


# kafka-python backs off up to 30 s between reconnects by default: a broker back from a
# restart went unnoticed that long (tests/e2e/test_faults.py). A few seconds is plenty.
RECONNECT_BACKOFF_MAX_MS = 2000


def make_producer(settings: Settings, **overrides: object) -> KafkaProducer:
    """acks=all and idempotence: a retried send is not duplicated and keeps partition order."""
    config: dict[str, object] = {
        "bootstrap_servers": _servers(settings),
        "acks": "all",
        "enable_idempotence": True,
        "max_in_flight_requests_per_connection": 5,
        "retries": 5,
        "linger_ms": 2,
        "request_timeout_ms": 10_000,
        "delivery_timeout_ms": 30_000,
        "client_id": "turnout-relay",
        "reconnect_backoff_max_ms": RECONNECT_BACKOFF_MAX_MS,
    }
    config.update(overrides)
    return KafkaProducer(**config)


def make_consumer(settings: Settings, group_id: str, topics: Iterable[str], **overrides: object) -> KafkaConsumer:
    """Offsets are committed by the caller only after its effects are durable."""
    config: dict[str, object] = {
        "bootstrap_servers": _servers(settings),
        "group_id": group_id,
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
        "session_timeout_ms": settings.kafka_session_timeout_ms,
        "heartbeat_interval_ms": settings.kafka_heartbeat_interval_ms,
        "max_poll_records": 1000,
        # kafka-python waits up to 500 ms for a fetch to fill by default: that wait was most of
        # the projection lag (p99 177 ms at 1,000 events/s, 81 ms at 20 ms; benchmarks/reporting.py).
        "fetch_max_wait_ms": settings.kafka_fetch_max_wait_ms,
        "client_id": f"turnout-{group_id}",
        "reconnect_backoff_max_ms": RECONNECT_BACKOFF_MAX_MS,
    }
    config.update(overrides)
    consumer = KafkaConsumer(**config)
    consumer.subscribe(list(topics))
    return consumer


# Long enough for one join on Tansu (it answers a JoinGroup after half the session timeout).
JOIN_SETTLE_SECONDS = 3.0


def close_consumer(consumer: KafkaConsumer, *, join_settle_seconds: float = JOIN_SETTLE_SECONDS) -> None:
    """Leaves the group without committing, letting a group join in flight finish first.

    Tansu 0.6 wedges a group whose member leaves while that member's own JoinGroup is still
    pending: it completes the join naming the departed member leader, and every later member
    waits for that leader's assignment, for minutes (tests/integration/test_group_handover.py).
    A service stopped a second after it started did exactly that, and the next one never got a
    partition. Apache Kafka copes either way; the wait costs a closing consumer one join at most.
    """
    deadline = time.monotonic() + join_settle_seconds
    try:
        while _joining(consumer) and time.monotonic() < deadline:
            # Records read meanwhile are not committed: the group's next member reads them again.
            consumer.poll(timeout_ms=50, max_records=1)
    except (KafkaError, OSError) as error:  # leaving is what matters now
        log.warning("a consumer's group join did not finish before it closed: %r", error)
    consumer.close(autocommit=False)


def _joining(consumer: KafkaConsumer) -> bool:
    # kafka-python has no public "join in flight"; its coordinator's member state says it.
    coordinator = getattr(consumer, "_coordinator", None)
    return (coordinator is not None and getattr(coordinator, "state", None) is MemberState.REBALANCING
            and not coordinator.coordinator_unknown())


def make_reader(settings: Settings, topics: Iterable[str], **overrides: object) -> KafkaConsumer:
    """A consumer outside any group reading every partition of `topics` from the beginning
    (a replay: nothing is committed, and no group join to wait for)."""
    config: dict[str, object] = {
        "bootstrap_servers": _servers(settings),
        "group_id": None,
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
        "max_poll_records": 2000,
        "fetch_max_wait_ms": settings.kafka_fetch_max_wait_ms,
        "client_id": "turnout-replay",
        "reconnect_backoff_max_ms": RECONNECT_BACKOFF_MAX_MS,
    }
    config.update(overrides)
    consumer = KafkaConsumer(**config)
    partitions = []
    for topic in topics:
        for partition in sorted(consumer.partitions_for_topic(topic) or ()):
            partitions.append(TopicPartition(topic, partition))
    consumer.assign(partitions)
    consumer.seek_to_beginning(*partitions)
    return consumer


def ensure_topics(settings: Settings, names: Iterable[str] = topic_names.ALL, partitions: int = topic_names.PARTITIONS) -> None:
    """Creates the topics explicitly (a broker's auto-create picks its own partition count)."""
    admin = KafkaAdminClient(bootstrap_servers=_servers(settings), request_timeout_ms=10_000)
    try:
        existing = set(admin.list_topics())
        missing = [NewTopic(name, partitions, 1) for name in names if name not in existing]
        if missing:
            try:
                admin.create_topics(missing)
            except TopicAlreadyExistsError:
                pass
    finally:
        admin.close()
