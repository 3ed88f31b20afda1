"""Seat ledger throughput and latency through gRPC, next to pgbench running the ledger's
statements on the same database in the same run.

    .venv/bin/python benchmarks/ledger.py [--spread 6000] [--hot 10000] [--concurrency 64] [--services 1]

* spread: BookSeat (hold + confirm in one call) for fresh participants over 1,000 sessions;
* hot: 10,000 attempts on one 100-seat session (decisions/s, and zero oversell checked);
* limit: pgbench with the same statements one booking runs (`benchmarks/ledger_book.sql`),
  same database, same sessions spread, same client count.
PostgreSQL runs with its default durability (fsync on); everything shares this machine's
cores: the client, event-service (one process) and PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import pathlib
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date, timedelta

import asyncpg
import grpc

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from event_service.adapters.service_catalog import load_service_catalog  # noqa: E402
from kernel.db import make_engine  # noqa: E402
from kernel.devstack.engines import _pg_bin  # noqa: E402
from kernel.devstack.processes import free_port, spawn, stop_process, wait_until  # noqa: E402
from kernel.devstack.stack import DevStack, _grpc_serving  # noqa: E402
from kernel.migrations import upgrade_all  # noqa: E402
from turnout.event.v1 import event_pb2, event_service_pb2, event_service_pb2_grpc  # noqa: E402

SQL_SCRIPT = pathlib.Path(__file__).with_name("ledger_book.sql")


def _scratch() -> pathlib.Path:
    path = pathlib.Path(tempfile.mkdtemp(prefix="turnout-bench-"))
    path.chmod(0o755)
    return path


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _create_events(stub, events: int, occurrences: int, capacity: int) -> list[str]:
    """`events` daily series of `occurrences` dates, one session each: events*occurrences sessions."""
    venue_name = f"Bench {uuid.uuid4().hex[:6]}"
    session_ids: list[str] = []
    for number in range(events):
        request = event_service_pb2.CreateEventRequest(
            event=event_pb2.Event(
                title=f"Bench series {number}", capacity=capacity, kind=event_pb2.EVENT_KIND_RECURRING,
                first_date=(date.today() + timedelta(days=1)).isoformat(),
                recurrence=event_pb2.Recurrence(frequency=event_pb2.FREQUENCY_DAILY, interval=1, count=occurrences),
                sessions=[event_pb2.SessionTemplate(key="s", service="services/laundry", start_time="10:00",
                                                    capacity=capacity, booking_window_days=occurrences + 20)],
                venue="" if number == 0 else f"venues/{venue_id}",
            ),
            request_id=str(uuid.uuid4()),
        )
        if number == 0:
            request.new_venue.display_name = venue_name
        event = await stub.CreateEvent(request, timeout=60)
        venue_id = event.venue.removeprefix("venues/")
        token = ""
        while True:
            page = await stub.ListSessions(event_service_pb2.ListSessionsRequest(
                event=event.name, page_size=1000, page_token=token), timeout=60)
            session_ids += [s.name for s in page.sessions]
            token = page.next_page_token
            if not token:
                break
    return session_ids


async def _load(stubs, sessions: list[str], attempts: int, concurrency: int) -> tuple[float, list[float], dict[str, int]]:
    """Books `attempts` seats for fresh participants on random sessions, the clients spread
    over the event-service processes; (seconds, latencies, outcomes)."""
    latencies: list[float] = []
    outcomes: dict[str, int] = {}
    remaining = iter(range(attempts))

    async def worker(stub) -> None:
        for _ in remaining:
            request = event_service_pb2.BookSeatRequest(session=random.choice(sessions),
                                                        participant=f"participants/{uuid.uuid4()}",
                                                        request_id=str(uuid.uuid4()))
            began = time.perf_counter()
            try:
                await stub.BookSeat(request, timeout=30)
                outcome = "booked"
            except grpc.aio.AioRpcError as error:
                outcome = error.code().name
            latencies.append(time.perf_counter() - began)
            outcomes[outcome] = outcomes.get(outcome, 0) + 1

    began = time.perf_counter()
    await asyncio.gather(*[worker(stubs[n % len(stubs)]) for n in range(concurrency)])
    return time.perf_counter() - began, latencies, outcomes


def _print_run(label: str, seconds: float, latencies: list[float], outcomes: dict[str, int]) -> float:
    rate = len(latencies) / seconds
    print(f"{label:<34}{rate:9,.0f} /s   p50 {_percentile(latencies, .5) * 1000:6.1f} ms   "
          f"p99 {_percentile(latencies, .99) * 1000:6.1f} ms   {outcomes}")
    return rate


async def _pgbench(dsn_port: int, sessions: list[str], clients: int, seconds: int) -> float:
    connection = await asyncpg.connect(f"postgresql://turnout@127.0.0.1:{dsn_port}/turnout")
    await connection.execute("DROP TABLE IF EXISTS public.bench_sessions")
    await connection.execute("CREATE TABLE public.bench_sessions (n int PRIMARY KEY, id text, occurrence_id text)")
    rows = await connection.fetch("SELECT id, occurrence_id FROM event_service.sessions WHERE id = ANY($1::text[])",
                                  [s.removeprefix("sessions/") for s in sessions])
    await connection.executemany("INSERT INTO public.bench_sessions VALUES ($1, $2, $3)",
                                 [(i + 1, r["id"], r["occurrence_id"]) for i, r in enumerate(rows)])
    await connection.close()
    script = SQL_SCRIPT.read_text().replace(":sessions", str(len(rows)))
    script_path = pathlib.Path(tempfile.mkstemp(suffix=".sql")[1])
    script_path.write_text(script)
    done = subprocess.run(
        [_pg_bin("pgbench"), "-h", "127.0.0.1", "-p", str(dsn_port), "-U", "turnout", "-n", "-M", "prepared",
         "-c", str(clients), "-j", "2", "-T", str(seconds), "-f", str(script_path), "turnout"],
        capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"pgbench failed:\n{done.stdout}\n{done.stderr}")
    match = re.search(r"tps = ([\d.]+)", done.stdout)
    latency = re.search(r"latency average = ([\d.]+) ms", done.stdout)
    print(f"{'limit: pgbench, same statements':<34}{float(match.group(1)):9,.0f} /s   "
          f"avg {float(latency.group(1)):6.1f} ms   ({clients} clients, {seconds} s)")
    return float(match.group(1))


async def main(args: argparse.Namespace) -> None:
    stack = DevStack(_scratch(), gateway_port=0, durable=not args.no_fsync)
    stack.prepare()
    stack.start_engines()
    services: list = []
    try:
        url = stack.engine_urls["postgres"]
        await asyncio.to_thread(upgrade_all, url)
        engine = make_engine(url)
        await load_service_catalog(engine)
        await engine.dispose()
        env = {**os.environ, **{k: v for k, v in stack.settings_env().items() if k.startswith("TURNOUT_")},
               "TURNOUT_LOG_LEVEL": "WARNING"}
        ports = [free_port() for _ in range(args.services)]
        services = [spawn([sys.executable, "-m", "turnout.cli", "serve", "event-service"],
                          log_path=stack.data_dir / "logs" / f"event-service-{port}.log",
                          env={**env, "TURNOUT_EVENT_SERVICE_PORT": str(port)}) for port in ports]
        for port in ports:
            wait_until(lambda p=port: _grpc_serving(p), timeout=60, what="event-service")
        channels = [grpc.aio.insecure_channel(f"127.0.0.1:{port}") for port in ports]
        try:
            stubs = [event_service_pb2_grpc.EventServiceStub(channel) for channel in channels]
            spread_sessions = await _create_events(stubs[0], 10, 100, capacity=100_000)
            print(f"== seat ledger on {os.cpu_count()} cores, PostgreSQL fsync {'off' if args.no_fsync else 'on'}, "
                  f"{args.concurrency} concurrent clients, {args.services} event-service process(es)")
            await _load(stubs, spread_sessions, 500, args.concurrency)  # warm-up: connections, caches
            seconds, latencies, outcomes = await _load(stubs, spread_sessions, args.spread, args.concurrency)
            spread_rate = _print_run(f"spread over {len(spread_sessions)} sessions", seconds, latencies, outcomes)

            hot = await _create_events(stubs[0], 1, 1, capacity=100)
            seconds, latencies, outcomes = await _load(stubs, hot, args.hot, args.concurrency)
            _print_run("hot 100-seat session", seconds, latencies, outcomes)
            counted = await stubs[0].GetSession(event_service_pb2.GetSessionRequest(name=hot[0]))
            oversold = counted.confirmed + counted.held - counted.capacity
            print(f"{'hot session after':<34}confirmed {counted.confirmed}, held {counted.held}, capacity "
                  f"{counted.capacity}: oversold by {max(0, oversold)}, booked answers {outcomes.get('booked', 0)}")
        finally:
            for channel in channels:
                await channel.close()

        limit = await _pgbench(int(url.rsplit(":", 1)[1].split("/")[0]), spread_sessions, args.concurrency, args.pgbench_seconds)
        print(f"{'ratio gRPC / pgbench':<34}{spread_rate / limit:9.0%}")
    finally:
        for service in services:
            stop_process(service)
        stack.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--spread", type=int, default=6000)
    parser.add_argument("--hot", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--services", type=int, default=1, help="event-service processes (replicas)")
    parser.add_argument("--pgbench-seconds", type=int, default=10)
    parser.add_argument("--no-fsync", action="store_true", help="PostgreSQL without fsync (labelled in the output)")
    asyncio.run(main(parser.parse_args()))
