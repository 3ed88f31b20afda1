"""Read-model rebuild figures: how fast `turnout rebuild` re-projects a history, from the topics
and from the command side's outbox, next to this machine's limit measured in the same run.

    .venv/bin/python benchmarks/rebuild.py                  # 100,000 envelopes, about 1-2 minutes
    .venv/bin/python benchmarks/rebuild.py --history 20000

* history: booking envelopes as the services publish them (benchmarks/reporting.py's
  `Bookings`: SeatHeld, RegistrationCreated, SeatConfirmed, RegistrationConfirmed per booking
  over `--sessions` sessions), written both to the brokers' topics and, marked sent, to the
  services' outbox tables (event_service for catalog and ledger, participant_service for
  registrations), as the relays leave them.
* each rebuild runs the service's own `Rebuilder` (reporting_service/rebuild.py) on a fresh
  key root with nothing served yet: target = every published aggregate version, read from the
  outbox; done = swapped. Wall time includes computing the target, the replay, the (empty)
  hand-over and the swap; the retirement grace is 0. Peak RSS growth is this process's
  ru_maxrss after minus before (the target and the decoded batches).
* limit: the same envelopes decoded and applied with ProjectionStore's pipelined script to a
  scratch prefix (no Kafka, no Postgres) in batches of 2,000, in this process.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import pathlib
import resource
import sys
import time
import uuid

import asyncpg
import redis
import redis.asyncio as aioredis

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from reporting import _load, _produce, _scratch, history  # noqa: E402 - benchmarks/reporting.py

from kernel import topics  # noqa: E402
from kernel.devstack.stack import DevStack  # noqa: E402
from kernel.kafka import ensure_topics, make_producer, make_reader  # noqa: E402
from kernel.settings import Settings  # noqa: E402
from reporting_service import generations  # noqa: E402
from reporting_service.keyspace import Keyspace  # noqa: E402
from reporting_service.main import PROJECTED_TOPICS  # noqa: E402
from reporting_service.projections.registry import to_change  # noqa: E402
from reporting_service.projections.store import ProjectionStore  # noqa: E402
from reporting_service.rebuild import OutboxSource, RebuildConfig, Rebuilder, TopicSource  # noqa: E402

SCHEMA_OF = {topics.CATALOG: "event_service", topics.LEDGER: "event_service", topics.PARTICIPANTS: "participant_service"}


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def write_outbox(dsn: str, messages: list[tuple[str, str, bytes]]) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        for schema in sorted(set(SCHEMA_OF.values())):
            rows = [(str(uuid.uuid4()), topic, key, "bench", value)
                    for topic, key, value in messages if SCHEMA_OF[topic] == schema]
            await connection.copy_records_to_table(
                "outbox", schema_name=schema, records=rows,
                columns=["event_id", "topic", "message_key", "event_type", "envelope"])
            await connection.execute(f'UPDATE "{schema}".outbox SET sent_at = now() WHERE sent_at IS NULL')
    finally:
        await connection.close()


async def rebuild(settings: Settings, source: str, history: int) -> None:
    root = f"bench-rb-{uuid.uuid4().hex[:6]}"
    client = aioredis.from_url(settings.redis_url)
    sync_client = redis.Redis.from_url(settings.redis_url)
    rebuilder = Rebuilder(client, sync_client, root=root, source=source, dsn=settings.asyncpg_dsn,
                          topics=PROJECTED_TOPICS, config=RebuildConfig(retire_grace_seconds=0),
                          topic_source=lambda: TopicSource(lambda: make_reader(settings, PROJECTED_TOPICS)),
                          outbox_source=lambda: OutboxSource(settings.asyncpg_dsn, PROJECTED_TOPICS))
    rss = _rss_mb()
    started = time.perf_counter()
    await rebuilder.claim()
    progress = await rebuilder.run()
    seconds = time.perf_counter() - started
    if progress.state != "succeeded":
        raise SystemExit(f"rebuild from {source} failed: {progress.error}")
    print(f"rebuild from the {progress.used_source:7} {progress.replayed / seconds:10,.0f} envelopes/s  "
          f"({progress.replayed:,} read, {progress.covered:,} aggregates, {seconds:.1f} s start to swap; "
          f"peak RSS +{_rss_mb() - rss:.0f} MB)")
    await generations.drop(client, await generations.active_prefix(client, root))
    await client.delete(*(f"{root}@{name}" for name in ("active", "rebuild-lock", "building")))
    await client.aclose()
    sync_client.close()


def limit(settings: Settings, messages: list[tuple[str, str, bytes]]) -> None:
    keys = Keyspace(f"bench-rb-limit-{uuid.uuid4().hex[:6]}")
    store = ProjectionStore(redis.Redis.from_url(settings.redis_url), keys)
    started = time.perf_counter()
    for start in range(0, len(messages), 2000):
        store.apply([c for c in (to_change(t, v, keys) for t, _, v in messages[start:start + 2000]) if c])
    seconds = time.perf_counter() - started
    print(f"limit: decode + apply   {len(messages) / seconds:10,.0f} envelopes/s  (same envelopes, no Kafka, "
          f"no Postgres, one process)")
    asyncio.run(_drop(settings, keys.prefix))


async def _drop(settings: Settings, prefix: str) -> None:
    client = aioredis.from_url(settings.redis_url)
    await generations.drop(client, prefix)
    await client.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--history", type=int, default=100_000, help="envelopes in the history")
    parser.add_argument("--sessions", type=int, default=500, help="sessions the bookings spread over")
    args = parser.parse_args()

    print(f"== rebuild on {os.cpu_count()} cores; load average before: {_load()}")
    stack = DevStack(_scratch(), gateway_port=0, durable=True)
    stack.prepare()
    stack.start_engines()
    try:
        stack.migrate()
        settings = Settings(database_url=stack.engine_urls["postgres"], redis_url=stack.engine_urls["redis"],
                            kafka_bootstrap=stack.engine_urls["kafka"])
        ensure_topics(settings)
        messages = history(args.sessions, args.history, seed=5)
        producer = make_producer(settings)
        _produce(producer, messages)
        producer.flush()
        producer.close()
        asyncio.run(write_outbox(settings.asyncpg_dsn, messages))
        print(f"history                 {len(messages):10,} envelopes in the topics and the outbox tables")
        limit(settings, messages)
        asyncio.run(rebuild(settings, "topics", len(messages)))
        asyncio.run(rebuild(settings, "outbox", len(messages)))
    finally:
        stack.stop()
    print(f"\nload average after: {_load()}")


if __name__ == "__main__":
    main()
