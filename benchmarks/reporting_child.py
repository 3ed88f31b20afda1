"""Child processes of benchmarks/reporting.py (run by it; not meant to be run by hand).

    reporting_child.py project --redis URL --kafka HOST:PORT --group G --prefix P --out FILE [--ready FILE]
        The real Projector (reporting_service/projector.py) with a ProjectionStore on keyspace P,
        in its own process as in production. It records, for every record of every batch, the
        seconds from the record's Kafka CreateTime (stamped by the producer at send()) to the
        moment the store's pipeline of Lua calls returned (Redis has the effect), and writes
        them to FILE when SIGTERM arrives.

    reporting_child.py consume --kafka HOST:PORT --group G --out FILE [--ready FILE]
        A bare KafkaConsumer (the kernel's make_consumer) on the same topics: per record, the
        seconds from its CreateTime to its receipt by poll(); no decoding, no Redis, no commit;
        a new group starts at the end (auto_offset_reset=latest).

    reporting_child.py export --redis URL --prefix P --format csv|xlsx --rows N --mode M
        The service's export path (reporting_service/exports.py: RowSource + export()) to
        /dev/null; prints one JSON line: rows, seconds, bytes, RSS before and peak RSS.
        --mode full: the export; read: RowSource.pages() alone (Redis reads and the join, no
        writer); write: the writer alone over the first page's rows cycled in memory (in pages of
        that size, as RowSource.pages() gives them), no Redis.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import pathlib
import resource
import signal
import sys
import threading
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _rss_kb() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def _overrides(args: argparse.Namespace) -> dict[str, int]:
    """Consumer settings changed from the kernel's (diagnostics only; none by default)."""
    return {"fetch_max_wait_ms": args.fetch_max_wait_ms} if args.fetch_max_wait_ms else {}


def project(args: argparse.Namespace) -> None:
    import redis

    from kernel import topics
    from kernel.kafka import make_consumer
    from kernel.settings import Settings
    from reporting_service.keyspace import Keyspace
    from reporting_service.projections.store import ProjectionStore
    from reporting_service.projector import Projector

    settings = Settings(redis_url=args.redis, kafka_bootstrap=args.kafka)
    lags: list[float] = []
    timestamp_types: set[int] = set()
    polled: collections.deque[list] = collections.deque()  # batches polled and not yet applied
    ready = pathlib.Path(args.ready) if args.ready else None

    class TimedConsumer:
        """The real consumer; remembers the records of each poll until the store applied them
        (the projector polls the next batch while one is being applied)."""

        def __init__(self, consumer) -> None:
            self._consumer = consumer

        def poll(self, **kwargs):
            batches = self._consumer.poll(**kwargs)
            records = [record for partition in batches.values() for record in partition]
            if records:  # the projector applies each non-empty poll once, in order
                polled.append(records)
            if ready is not None and not ready.exists() and self._consumer.assignment():
                ready.write_text("assigned")
            return batches

        def commit(self, *a, **kw):
            return self._consumer.commit(*a, **kw)

        def close(self, *a, **kw):
            return self._consumer.close(*a, **kw)

    class TimedStore(ProjectionStore):
        def apply(self, changes):
            applied = super().apply(changes)
            now_ms = time.time() * 1000
            for record in polled.popleft():
                timestamp_types.add(record.timestamp_type)
                lags.append((now_ms - record.timestamp) / 1000)
            return applied

    store = TimedStore(redis.Redis.from_url(args.redis), Keyspace(args.prefix))
    projector = Projector(lambda: TimedConsumer(make_consumer(
        settings, args.group, (topics.CATALOG, topics.LEDGER, topics.PARTICIPANTS), **_overrides(args))), store)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    projector.run(stop)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    pathlib.Path(args.out).write_text(json.dumps({
        "lags": lags, "timestamp_types": sorted(timestamp_types),
        "cpu_seconds": usage.ru_utime + usage.ru_stime}))


def consume(args: argparse.Namespace) -> None:
    from kernel import topics
    from kernel.kafka import close_consumer, make_consumer
    from kernel.settings import Settings

    consumer = make_consumer(Settings(kafka_bootstrap=args.kafka), args.group,
                             (topics.CATALOG, topics.LEDGER, topics.PARTICIPANTS), auto_offset_reset="latest",
                             **_overrides(args))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    ready = pathlib.Path(args.ready) if args.ready else None
    lags: list[float] = []
    while not stop.is_set():
        batches = consumer.poll(timeout_ms=200, max_records=1000)
        now_ms = time.time() * 1000
        lags += [(now_ms - r.timestamp) / 1000 for records in batches.values() for r in records]
        if ready is not None and not ready.exists() and consumer.assignment():
            ready.write_text("assigned")
    close_consumer(consumer)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    pathlib.Path(args.out).write_text(json.dumps({"lags": lags, "cpu_seconds": usage.ru_utime + usage.ru_stime}))


async def export(args: argparse.Namespace) -> None:
    import redis.asyncio as aioredis

    from reporting_service import exports
    from reporting_service.keyspace import Keyspace

    client = aioredis.from_url(args.redis, decode_responses=True)
    source = exports.RowSource(client, Keyspace(args.prefix))
    query = exports.ExportQuery(max_rows=args.rows, mask_phones=True)
    first_page: list[tuple[str, ...]] = []
    if args.mode == "write":
        async for page in source.pages(exports.ExportQuery(max_rows=exports.PAGE)):
            first_page += page
    await client.ping()
    sampled = [0]
    sampling = threading.Event()

    def sample() -> None:  # current RSS every 20 ms, beside ru_maxrss
        while not sampling.wait(0.02):
            sampled[0] = max(sampled[0], _rss_kb())

    sampler = threading.Thread(target=sample, daemon=True)
    rss_before = _rss_kb()
    sampler.start()
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    cpu_before = time.process_time()
    rows = [0]
    size = 0
    began = time.perf_counter()
    if args.mode == "full":
        with open(os.devnull, "wb") as sink:  # noqa: ASYNC230 (/dev/null never blocks)
            async for chunk in exports.export(source, query, args.format, rows):
                size += len(chunk)
                sink.write(chunk)
    elif args.mode == "read":
        async for page in source.pages(query):
            rows[0] += len(page)
    else:
        async def cycled():  # pages of the export's size, as RowSource.pages() gives them
            for start in range(0, args.rows, len(first_page)):
                yield first_page[:args.rows - start]

        with open(os.devnull, "wb") as sink:  # noqa: ASYNC230 (/dev/null never blocks)
            pages = exports.chosen(cycled(), query.fields, rows)
            async for chunk in exports.WRITERS[args.format](pages, query.fields):
                size += len(chunk)
                sink.write(chunk)
    seconds = time.perf_counter() - began
    cpu = time.process_time() - cpu_before
    sampling.set()
    sampler.join()
    await client.aclose()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"rows": rows[0], "seconds": seconds, "bytes": size, "cpu_seconds": cpu,
                      "rss_before_kb": rss_before, "rss_sampled_max_kb": sampled[0], "peak_before_kb": peak_before, "peak_kb": peak}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("project")
    p.add_argument("--redis", required=True)
    p.add_argument("--kafka", required=True)
    p.add_argument("--group", required=True)
    p.add_argument("--prefix", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--ready")
    p.add_argument("--fetch-max-wait-ms", type=int, default=0)
    c = sub.add_parser("consume")
    c.add_argument("--kafka", required=True)
    c.add_argument("--group", required=True)
    c.add_argument("--out", required=True)
    c.add_argument("--ready")
    c.add_argument("--fetch-max-wait-ms", type=int, default=0)
    e = sub.add_parser("export")
    e.add_argument("--redis", required=True)
    e.add_argument("--prefix", required=True)
    e.add_argument("--format", choices=("csv", "xlsx", "html"), default="csv")
    e.add_argument("--rows", type=int, required=True)
    e.add_argument("--mode", choices=("full", "read", "write"), default="full")
    args = parser.parse_args()
    if args.command == "project":
        project(args)
    elif args.command == "consume":
        consume(args)
    else:
        asyncio.run(export(args))


if __name__ == "__main__":
    main()
