"""Walking-skeleton figures: `turnout dev` cold start to ready, and the outbox relay's rate.

    .venv/bin/python benchmarks/skeleton.py [--events 20000] [--starts 3]

Each figure is printed next to this machine's own limit measured in the same run:
* start-up: the engines alone (the floor under any start of the whole stack);
* relay: kafka-python's idempotent acks=all producer sending the same messages to the same
  broker with no database in between (the ceiling for any relay).
PostgreSQL runs with its default durability (fsync on).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import pathlib
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

import asyncpg

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kernel.devstack.processes import wait_until  # noqa: E402
from kernel.devstack.stack import DevStack  # noqa: E402
from kernel.kafka import ensure_topics, make_producer  # noqa: E402
from kernel.migrations import upgrade_all  # noqa: E402
from kernel.relay import KafkaPublisher, OutboxRelay  # noqa: E402
from kernel.settings import Settings  # noqa: E402
from kernel.unit_of_work import OutboxMessage, build_envelope  # noqa: E402
from turnout.event.v1 import catalog_events_pb2, venue_pb2  # noqa: E402


def _scratch() -> pathlib.Path:
    # mkdtemp makes it private; the unprivileged postgres user must be able to traverse it.
    path = pathlib.Path(tempfile.mkdtemp(prefix="turnout-bench-"))
    path.chmod(0o755)
    return path


def time_dev_start(data_dir: pathlib.Path) -> tuple[float, float]:
    """Seconds from `turnout dev` launch to stack.json (every component ready), and to exit after SIGINT."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TURNOUT_")} | {"TURNOUT_GATEWAY_PORT": "0"}
    began = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "turnout.cli", "dev", "--data-dir", str(data_dir)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    try:
        wait_until(lambda: (data_dir / "stack.json").exists() or process.poll() is not None, timeout=120,
                   interval=0.02, what="turnout dev")
        if process.poll() is not None:
            raise SystemExit(f"turnout dev exited with {process.returncode}; logs in {data_dir / 'logs'}")
        ready = time.perf_counter() - began
        stopping = time.perf_counter()
        process.send_signal(signal.SIGINT)
        process.wait(60)
        return ready, time.perf_counter() - stopping
    finally:
        if process.poll() is None:
            process.kill()


def time_engines_only(data_dir: pathlib.Path) -> float:
    stack = DevStack(data_dir, gateway_port=0, durable=True)
    began = time.perf_counter()
    stack.prepare()
    stack.start_engines()
    elapsed = time.perf_counter() - began
    stack.stop()
    return elapsed


def _envelopes(count: int) -> list[tuple[str, str, bytes]]:
    rows = []
    for i in range(count):
        venue_id = str(uuid.uuid4())
        payload = catalog_events_pb2.VenueCreated(venue=venue_pb2.Venue(name=f"venues/{venue_id}", display_name=f"Venue {i}"))
        envelope = build_envelope(OutboxMessage("turnout.catalog.v1", "venue", venue_id, 1, payload))
        rows.append((envelope.event_id, venue_id, envelope.SerializeToString()))
    return rows


def producer_ceiling(settings: Settings, rows: list[tuple[str, str, bytes]]) -> float:
    producer = make_producer(settings)
    began = time.perf_counter()
    for _, key, value in rows:
        producer.send("turnout.catalog.v1", key=key.encode(), value=value)
    producer.flush()
    elapsed = time.perf_counter() - began
    producer.close()
    return len(rows) / elapsed


async def relay_rate(settings: Settings, rows: list[tuple[str, str, bytes]], batch_size: int) -> float:
    connection = await asyncpg.connect(settings.asyncpg_dsn)
    await connection.execute("TRUNCATE event_service.outbox")
    await connection.copy_records_to_table(
        "outbox", schema_name="event_service",
        columns=["event_id", "topic", "message_key", "event_type", "envelope"],
        records=[(uuid.UUID(e), "turnout.catalog.v1", k, "turnout.event.v1.VenueCreated", v) for e, k, v in rows],
    )
    relay = OutboxRelay(settings.asyncpg_dsn, "event_service", lambda: KafkaPublisher(make_producer(settings)),
                        batch_size=batch_size, poll_seconds=0.05)
    stop = asyncio.Event()
    began = time.perf_counter()
    task = asyncio.create_task(relay.run(stop))
    while await connection.fetchval("SELECT count(*) FROM event_service.outbox WHERE sent_at IS NULL"):
        await asyncio.sleep(0.01)
    elapsed = time.perf_counter() - began
    stop.set()
    await task
    await connection.close()
    return len(rows) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--starts", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=500)
    args = parser.parse_args()

    print(f"== turnout dev: launch -> every component ready ({args.starts} cold starts, fresh data dir each)")
    cold, stops, engines = [], [], []
    for _ in range(args.starts):
        engines.append(time_engines_only(_scratch()))
        ready, stopped = time_dev_start(_scratch())
        cold.append(ready)
        stops.append(stopped)
    warm_dir = _scratch()
    time_dev_start(warm_dir)
    warm, _ = time_dev_start(warm_dir)
    print(f"cold start to ready   median {statistics.median(cold):6.2f} s   (runs: {', '.join(f'{c:.2f}' for c in cold)})")
    print(f"warm start to ready          {warm:6.2f} s   (existing data dir: no initdb)")
    print(f"Ctrl-C to all stopped median {statistics.median(stops):6.2f} s")
    print(f"limit: engines alone  median {statistics.median(engines):6.2f} s   "
          f"-> the Turnout processes add {statistics.median(cold) - statistics.median(engines):.2f} s")

    print(f"\n== outbox relay: {args.events} committed rows -> Kafka (acks=all, idempotent), marked sent")
    stack = DevStack(_scratch(), gateway_port=0, durable=True)
    stack.prepare()
    stack.start_engines()
    try:
        upgrade_all(stack.engine_urls["postgres"])
        settings = Settings(database_url=stack.engine_urls["postgres"], redis_url=stack.engine_urls["redis"],
                            kafka_bootstrap=stack.engine_urls["kafka"])
        ensure_topics(settings)
        rows = _envelopes(args.events)
        ceiling = producer_ceiling(settings, rows)
        rate = asyncio.run(relay_rate(settings, rows, args.batch_size))
        print(f"relay                 {rate:10,.0f} events/s   (batch {args.batch_size})")
        print(f"limit: bare producer  {ceiling:10,.0f} events/s   same messages, same broker, no database")
        print(f"ratio                 {rate / ceiling:10.0%}")
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
