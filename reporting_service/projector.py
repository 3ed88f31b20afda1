"""The projector: consumes the topics in a consumer group and applies each envelope to the
Redis read models, committing offsets only after Redis has the effect."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from kafka import KafkaConsumer
from kafka.errors import KafkaError
from prometheus_client import Counter
from redis.exceptions import RedisError

from kernel.kafka import close_consumer
from reporting_service.projections.registry import to_change
from reporting_service.projections.store import Fenced, ProjectionStore

log = logging.getLogger("turnout.projector")

CONSUMED = Counter("turnout_projector_messages_total", "Kafka messages consumed by the projector")
APPLIED = Counter("turnout_projector_applied_total", "Envelopes applied to the read models (not duplicates)")


class Projector:
    def __init__(self, consumer_factory: Callable[[], KafkaConsumer], store: ProjectionStore, *,
                 poll_timeout_ms: int = 200, max_records: int = 1000, fence_pause: float = 0.05):
        self._consumer_factory = consumer_factory
        self._store = store
        self._poll_timeout_ms = poll_timeout_ms
        self._max_records = max_records
        self._fence_pause = fence_pause

    def run(self, stop: threading.Event) -> None:
        consumer: KafkaConsumer | None = None
        try:
            while not stop.is_set():
                try:
                    if consumer is None:
                        # Only while running: a consumer made with the broker away blocks for
                        # its whole bootstrap timeout, which would hold up a stop (SIGTERM)
                        # that came meanwhile.
                        consumer = self._consumer_factory()
                    self.step(consumer)
                except Fenced:
                    # A rebuild is handing over; nothing is committed past what was applied,
                    # so read again from the committed offsets once the fence is down.
                    self._rewind(consumer)
                    stop.wait(self._fence_pause)
                except (KafkaError, RedisError, OSError) as exc:
                    # Offsets were not committed: the same messages come again after the pause.
                    log.warning("projection paused: %s", exc)
                    if consumer is not None:
                        close_consumer(consumer)
                        consumer = None
                    stop.wait(1.0)
        finally:
            if consumer is not None:
                close_consumer(consumer)

    @staticmethod
    def _rewind(consumer: KafkaConsumer) -> None:
        for partition in consumer.assignment():
            committed = consumer.committed(partition)
            if committed is None:
                consumer.seek_to_beginning(partition)
            else:
                consumer.seek(partition, committed)

    def step(self, consumer: KafkaConsumer) -> int:
        """Polls once, applies what came, commits; the number of messages handled."""
        batches = consumer.poll(timeout_ms=self._poll_timeout_ms, max_records=self._max_records)
        records = [record for partition in batches.values() for record in partition]
        if not records:
            return 0
        changes = [c for c in (to_change(r.topic, r.value, self._store.keyspace) for r in records) if c is not None]
        applied = self._store.apply(changes)
        consumer.commit()
        CONSUMED.inc(len(records))
        APPLIED.inc(applied)
        return len(records)
