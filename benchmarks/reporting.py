"""Read-side figures (issue 5): projection lag under steady booking load, catch-up on a
backlog, and registrations exports, each next to this machine's limit measured in the same run.

    .venv/bin/python benchmarks/reporting.py                      # about 2-3 minutes
    .venv/bin/python benchmarks/reporting.py --csv-rows 1000000   # the full CSV size (issue 5)

* lag: booking envelopes (SeatHeld, SeatConfirmed, RegistrationCreated, RegistrationConfirmed
  per booking, built as the services build them) are produced straight to the broker with the
  kernel's producer at a steady rate (open loop: each send is due at t0 + i/rate); the real
  Projector runs in its own process (benchmarks/reporting_child.py) on a fresh keyspace. Per
  record, lag = the moment the projector's Redis pipeline returned (the effect is in Redis)
  minus the record's Kafka CreateTime, stamped by the producer in send(). Same machine, same
  clock. The first `--warmup` seconds are left out.
* catch-up: `--backlog` envelopes produced first with no projector running, then a fresh
  projector process (fresh group, fresh keyspace; `--projectors N`: N processes in that one
  group, where the dev stack runs one) is started and timed until the keyspace's
  `totals.applied_events` counter reaches the backlog (the data itself, never end offsets).
  Limits, same messages, same run: a bare KafkaConsumer reading them (no Redis); and the
  same changes (to_change of the same bytes) applied with ProjectionStore's pipelined Lua
  script (no Kafka), with the decoding timed apart. The projector polls, decodes and applies
  one after another, so it can at best reach one core's worth of its own CPU per event.
* exports: the export read models are written directly with the commands the projections
  themselves build (export_rows' and participants' functions on synthetic SessionScheduled,
  ParticipantCreated and RegistrationCreated payloads), without the version-check script, the
  audit trail and stats (not read by exports). The export then runs in a child process, the
  service's own code path (reporting_service/exports.py RowSource + export()) to /dev/null;
  peak RSS growth = the larger of ru_maxrss after minus before the export and the highest RSS
  sampled every 20 ms minus RSS before. Limits: the same writer over the
  first page's rows cycled in memory (no Redis), and RowSource alone (Redis + join, no writer).
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import random
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta

import redis

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kernel import topics
from kernel.devstack.processes import wait_until
from kernel.devstack.stack import DevStack
from kernel.kafka import close_consumer, ensure_topics, make_consumer, make_producer
from kernel.settings import Settings
from kernel.unit_of_work import OutboxMessage, build_envelope
from reporting_service.keyspace import Keyspace
from reporting_service.projections import export_rows, participants
from reporting_service.projections.registry import to_change
from reporting_service.projections.store import Meta, ProjectionStore
from turnout.event.v1 import (
    catalog_events_pb2,
    ledger_events_pb2,
    seat_pb2,
    session_pb2,
)
from turnout.participant.v1 import participant_events_pb2, participant_pb2
from turnout.participant.v1 import registration_events_pb2 as reg_events
from turnout.participant.v1 import registration_pb2 as rpb

CHILD = pathlib.Path(__file__).with_name("reporting_child.py")
FETCH_MAX_WAIT_MS = [0]  # 0: the kernel's consumer settings unchanged
ENGINE_PIDS: dict[str, int] = {}  # embedded engines' pids, for their CPU time


def _engine_cpu() -> dict[str, float]:
    """CPU seconds used so far by each embedded engine (empty for external ones)."""
    import psutil

    return {name: sum(psutil.Process(pid).cpu_times()[:2]) for name, pid in ENGINE_PIDS.items()}


def _cpu_note(before: dict[str, float], events: int) -> str:
    after = _engine_cpu()
    return ", ".join(f"{name} {(after[name] - before[name]) / events * 1e6:.0f} µs/event" for name in before)
Message = tuple[str, str, bytes]  # topic, key, envelope bytes


def _scratch() -> pathlib.Path:
    path = pathlib.Path(tempfile.mkdtemp(prefix="turnout-bench-"))
    path.chmod(0o755)
    return path


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _verdict(ok: bool) -> str:
    return "MEETS" if ok else "MISSES"


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


# --- booking envelopes --------------------------------------------------------------------------


class Bookings:
    """Envelopes as event_service and participant_service publish them for bookings spread over
    `sessions` sessions: each session's version counts across the catalog and ledger topics."""

    def __init__(self, sessions: int, seed: int = 1):
        self.rng = random.Random(seed)
        self.event_id = uuid.uuid4().hex
        self.sessions = [uuid.uuid4().hex for _ in range(sessions)]
        self.version = dict.fromkeys(self.sessions, 0)
        self.held = dict.fromkeys(self.sessions, 0)
        self.confirmed = dict.fromkeys(self.sessions, 0)

    def _session(self, session_id: str) -> session_pb2.Session:
        return session_pb2.Session(name=f"sessions/{session_id}", event=f"events/{self.event_id}",
                                   occurrence=f"occurrences/{session_id}", service="services/laundry",
                                   venue="venues/bench", capacity=1_000_000, event_title="Bench event",
                                   service_display_name="Laundry", venue_display_name="Bench venue")

    def _emit(self, topic: str, aggregate: str, aggregate_id: str, version: int, payload) -> Message:
        envelope = build_envelope(OutboxMessage(topic, aggregate, aggregate_id, version, payload))
        return topic, aggregate_id, envelope.SerializeToString()

    def schedules(self) -> list[Message]:
        out = []
        for session_id in self.sessions:
            self.version[session_id] += 1
            out.append(self._emit(topics.CATALOG, "session", session_id, self.version[session_id],
                                  catalog_events_pb2.SessionScheduled(
                                      session=self._session(session_id),
                                      occurrence=session_pb2.Occurrence(name=f"occurrences/{session_id}",
                                                                        capacity=1_000_000))))
        return out

    def _seat(self, session_id: str, seat_id: str, participant_id: str, state: int, payload_type) -> Message:
        self.version[session_id] += 1
        counts = seat_pb2.SessionCounts(session=f"sessions/{session_id}", capacity=1_000_000,
                                        held=self.held[session_id], confirmed=self.confirmed[session_id],
                                        occurrence=f"occurrences/{session_id}", occurrence_capacity=1_000_000)
        seat = seat_pb2.Seat(name=f"seats/{seat_id}", session=f"sessions/{session_id}",
                             participant=f"participants/{participant_id}", state=state)
        return self._emit(topics.LEDGER, "session", session_id, self.version[session_id],
                          payload_type(seat=seat, counts=counts))

    def _registration(self, registration_id: str, participant_id: str, session_id: str, seat_id: str,
                      state: int, version: int, payload_type) -> Message:
        registration = rpb.Registration(name=f"registrations/{registration_id}",
                                        participant=f"participants/{participant_id}",
                                        session=f"sessions/{session_id}", event=f"events/{self.event_id}",
                                        state=state, attendance=rpb.ATTENDANCE_EXPECTED, seat=f"seats/{seat_id}",
                                        registered_by="bench")
        registration.create_time.GetCurrentTime()
        return self._emit(topics.PARTICIPANTS, "registration", registration_id, version,
                          payload_type(registration=registration))

    def booking(self) -> list[Message]:
        """The four envelopes of one booking, in the order the services publish them."""
        session_id = self.rng.choice(self.sessions)
        seat_id, participant_id, registration_id = uuid.uuid4().hex, uuid.uuid4().hex, uuid.uuid4().hex
        self.held[session_id] += 1
        held = self._seat(session_id, seat_id, participant_id, seat_pb2.SEAT_STATE_HELD, ledger_events_pb2.SeatHeld)
        created = self._registration(registration_id, participant_id, session_id, seat_id,
                                     rpb.REGISTRATION_STATE_HELD, 1, reg_events.RegistrationCreated)
        self.held[session_id] -= 1
        self.confirmed[session_id] += 1
        confirmed = self._seat(session_id, seat_id, participant_id, seat_pb2.SEAT_STATE_CONFIRMED,
                               ledger_events_pb2.SeatConfirmed)
        reg_confirmed = self._registration(registration_id, participant_id, session_id, seat_id,
                                           rpb.REGISTRATION_STATE_CONFIRMED, 2, reg_events.RegistrationConfirmed)
        return [held, created, confirmed, reg_confirmed]


def history(sessions: int, count: int, seed: int) -> list[Message]:
    """`count` envelopes: the sessions scheduled, then bookings spread over them."""
    bookings = Bookings(sessions, seed=seed)
    messages = bookings.schedules()
    while len(messages) < count:
        messages += bookings.booking()
    return messages[:count]


def _produce(producer, messages: list[Message]) -> None:
    for topic, key, value in messages:
        producer.send(topic, key=key.encode(), value=value)


def _applied(client: redis.Redis, keys: Keyspace) -> int:
    return int(client.hget(keys.totals, "applied_events") or 0)


class ProjectorChild:
    def __init__(self, settings: Settings, group: str, keys: Keyspace | None, work: pathlib.Path, member: int = 0):
        """The projector (keys given) or a bare consumer (keys None) in a child process;
        `member` tells apart several processes in one group."""
        name = f"{group}-{member}" if member else group
        self.out = work / f"lags-{name}.json"
        self.ready = work / f"ready-{name}"
        self.log = open(work / f"child-{name}.log", "wb")  # noqa: SIM115
        mode = ["project", "--redis", settings.redis_url, "--prefix", keys.prefix] if keys else ["consume"]
        self.process = subprocess.Popen(
            [sys.executable, str(CHILD), *mode, "--kafka", settings.kafka_bootstrap, "--group", group,
             "--out", str(self.out), "--ready", str(self.ready), "--fetch-max-wait-ms", str(FETCH_MAX_WAIT_MS[0])],
            stdout=self.log, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True)

    def stop(self) -> dict:
        self.process.terminate()
        self.process.wait(30)
        self.log.close()
        if not self.out.exists():
            raise SystemExit(f"projector child failed; see {self.log.name}")
        return json.loads(self.out.read_text())


# --- 1. lag under steady load ---------------------------------------------------------------------


def lag_run(settings: Settings, client: redis.Redis, work: pathlib.Path, args: argparse.Namespace,
            group: str | None = None, keys: Keyspace | None = None) -> None:
    """With the catch-up's group and keyspace when it ran (the projector goes on from where the
    backlog left it, as in production); else fresh ones."""
    keys = keys or Keyspace(f"bench-lag-{uuid.uuid4().hex[:8]}")
    group = group or f"bench-lag-{uuid.uuid4().hex[:8]}"
    already = _applied(client, keys)
    bookings = Bookings(args.sessions, seed=2)
    producer = make_producer(settings)
    schedules = bookings.schedules()
    _produce(producer, schedules)
    producer.flush()
    child = ProjectorChild(settings, group, keys, work)
    bare = ProjectorChild(settings, f"bench-bare-lag-{uuid.uuid4().hex[:8]}", None, work) if args.bare_lag else None
    try:
        wait_until(lambda: _applied(client, keys) >= already + len(schedules), timeout=60, interval=0.05,
                   what="the projector applying the schedules")
        if bare is not None:
            wait_until(bare.ready.exists, timeout=60, interval=0.05, what="the bare consumer's assignment")
            time.sleep(1)  # its first fetch of what is already there
        total = int(args.rate * args.seconds) // 4 * 4
        began = time.perf_counter()
        sent = 0
        late = 0.0
        while sent < total:
            due = began + sent / args.rate
            now = time.perf_counter()
            if due > now:
                time.sleep(due - now)
            else:
                late = max(late, now - due)
            _produce(producer, bookings.booking())
            sent += 4
        producer.flush()
        produced_in = time.perf_counter() - began
        wait_until(lambda: _applied(client, keys) >= already + len(schedules) + total, timeout=120, interval=0.02,
                   what="the projector applying the load")
        time.sleep(0.5)
    finally:
        result = child.stop()
        bare_result = bare.stop() if bare is not None else None
        producer.close()
    lags = result["lags"][len(schedules):]
    skip = int(args.warmup * args.rate)
    measured = lags[skip:]
    achieved = total / produced_in
    p50, p99 = _percentile(measured, .5) * 1000, _percentile(measured, .99) * 1000
    print(f"offered load            {achieved:10,.0f} events/s  for {produced_in:.1f} s ({total:,} events, "
          f"{total // 4:,} bookings; producer at most {late * 1000:.0f} ms behind schedule)")
    print(f"projection lag p50      {p50:10.1f} ms")
    print(f"projection lag p99      {p99:10.1f} ms        target ≤ 250 ms at 1,000 events/s: "
          f"{_verdict(p99 <= 250 and achieved >= 990)}")
    print(f"projection lag max      {max(measured) * 1000:10.1f} ms        ({len(measured):,} records measured after "
          f"{args.warmup:g} s warm-up; Kafka timestamp types seen {result['timestamp_types']}, 0 = CreateTime)")
    print(f"projector CPU           {result['cpu_seconds'] / (total + len(schedules)) * 1e6:10.0f} µs/event "
          f"({result['cpu_seconds']:.1f} s over the whole run, join and idle polls included)")
    if bare_result is not None:
        bare_lags = bare_result["lags"][-total:][skip:]
        print(f"limit: bare consumer    p50 {_percentile(bare_lags, .5) * 1000:.1f} ms, p99 "
              f"{_percentile(bare_lags, .99) * 1000:.1f} ms, max {max(bare_lags) * 1000:.1f} ms  (another group in its "
              f"own process reading the same records at the same time: CreateTime to poll(); no Redis)")


# --- 2. catch-up on a backlog -----------------------------------------------------------------------


def catchup_run(settings: Settings, client: redis.Redis, work: pathlib.Path,
                args: argparse.Namespace) -> tuple[str, Keyspace]:
    messages = history(args.sessions, args.backlog, seed=3)
    producer = make_producer(settings)
    began = time.perf_counter()
    _produce(producer, messages)
    producer.flush()
    produce_rate = len(messages) / (time.perf_counter() - began)
    producer.close()
    print(f"backlog                 {len(messages):10,} envelopes produced at {produce_rate:,.0f}/s, no projector running")

    keys = Keyspace(f"bench-catchup-{uuid.uuid4().hex[:8]}")
    group = f"bench-catchup-{uuid.uuid4().hex[:8]}"
    cpu_before = _engine_cpu()
    started = time.perf_counter()
    children = [ProjectorChild(settings, group, keys, work, member) for member in range(args.projectors)]
    first = None
    try:
        while True:
            applied = _applied(client, keys)
            now = time.perf_counter()
            if applied and first is None:
                first = (now, applied)
            if applied >= len(messages):
                break
            if any(c.process.poll() is not None for c in children) or now - started > 600:
                raise SystemExit(f"projector stopped or stalled at {applied}; see {children[0].log.name}")
            time.sleep(0.01)
        done = time.perf_counter()
        engines = _cpu_note(cpu_before, len(messages))
    finally:
        results = [child.stop() for child in children]
    whole = len(messages) / (done - started)
    steady = (len(messages) - first[1]) / (done - first[0])
    who = "a fresh projector" if args.projectors == 1 else f"{args.projectors} fresh projector processes in one group"
    print(f"catch-up, process start {whole:10,.0f} events/s  ({done - started:.1f} s from launching {who} "
          f"to applied_events = {len(messages):,}; start-up and group join included)")
    print(f"catch-up, applying      {steady:10,.0f} events/s  (from the first applied event)   target ≥ 10,000/s: "
          f"{_verdict(steady >= 10_000)}")
    cpu = sum(result["cpu_seconds"] for result in results)
    print(f"projector CPU           {cpu / len(messages) * 1e6:10.0f} µs/event   (all its processes; engines meanwhile: "
          f"{engines})")
    print(f"{'':24}= at most {args.projectors * len(messages) / cpu:,.0f} events/s with a whole core for each projector "
          f"process (one interpreter lock each)")

    # Limit 1: a bare consumer reading the same messages, no Redis.
    consumer = make_consumer(settings, f"bench-bare-{uuid.uuid4().hex[:8]}",
                             (topics.CATALOG, topics.LEDGER, topics.PARTICIPANTS))
    count, began, first_at, raws = 0, time.perf_counter(), None, []
    while count < len(messages) and time.perf_counter() - began < 300:
        for records in consumer.poll(timeout_ms=200, max_records=1000).values():
            if first_at is None:
                first_at = time.perf_counter()
            count += len(records)
            raws += [(r.topic, r.value) for r in records]
    read_rate = (count - 0) / (time.perf_counter() - first_at)
    close_consumer(consumer)
    print(f"limit: bare consumer    {read_rate:10,.0f} events/s  (same {count:,} messages, from the first record; "
          f"no decoding, no Redis)")

    # Limit 2: the same changes through ProjectionStore, no Kafka.
    cpu = time.process_time()
    changes = [to_change(topic, raw, keys) for topic, raw in raws]
    decode = (time.process_time() - cpu) / len(raws)
    limit_keys = Keyspace(f"bench-limit-{uuid.uuid4().hex[:8]}")
    changes = [to_change(topic, raw, limit_keys) for topic, raw in raws]
    store = ProjectionStore(redis.Redis.from_url(settings.redis_url), limit_keys)
    cpu_before, client_cpu = _engine_cpu(), time.process_time()
    began = time.perf_counter()
    for start in range(0, len(changes), 1000):
        store.apply(changes[start:start + 1000])
    store_rate = len(changes) / (time.perf_counter() - began)
    client_cpu = (time.process_time() - client_cpu) / len(changes) * 1e6
    print(f"limit: store.apply      {store_rate:10,.0f} events/s  (same changes, pipelines of 1,000 Lua calls, "
          f"redis-py, no Kafka; decoding apart)")
    print(f"{'':24}CPU: this client {client_cpu:.0f} µs/event, {_cpu_note(cpu_before, len(changes))}")
    print(f"decoding (to_change)    {decode * 1e6:10.0f} µs/event  = {1 / decode:,.0f} events/s on one core")
    print(f"serial sum of the three {1 / (1 / read_rate + decode + 1 / store_rate):10,.0f} events/s  "
          f"(what one process doing them one after another could reach)")
    return group, keys


# --- 3. exports ---------------------------------------------------------------------------------------


def seed_exports(client: redis.Redis, keys: Keyspace, rows: int, sessions: int, people: int) -> float:
    rng = random.Random(5)
    began = time.perf_counter()
    meta = Meta(datetime.now(UTC).isoformat() + "Z", 1)
    pipe = client.pipeline(transaction=False)
    pending = 0

    def flush(force: bool = False) -> None:
        nonlocal pending, pipe
        if pending >= 20_000 or (force and pending):
            pipe.execute()
            pipe = client.pipeline(transaction=False)
            pending = 0

    start = datetime(2026, 6, 1, 7, tzinfo=UTC)
    session_ids = [uuid.uuid4().hex for _ in range(sessions)]
    for n, session_id in enumerate(session_ids):
        session = session_pb2.Session(
            name=f"sessions/{session_id}", event=f"events/e{n % 20}", event_title=f"Дебаты, серия {n % 20}",
            service=f"services/s{n % 7}", service_display_name=f"Услуга {n % 7}", venue=f"venues/v{n % 5}",
            venue_display_name=f"Площадка {n % 5}")
        session.start_time.FromDatetime(start + timedelta(hours=n))
        session.end_time.FromDatetime(start + timedelta(hours=n, minutes=90))
        day = (start + timedelta(hours=n)).date().isoformat()
        for command in export_rows.session_scheduled(catalog_events_pb2.SessionScheduled(
                session=session, occurrence=session_pb2.Occurrence(date=day)), keys, meta):
            pipe.execute_command(*command)
            pending += 1
    person_ids = [uuid.uuid4().hex for _ in range(people)]
    for n, person_id in enumerate(person_ids):
        person = participant_pb2.Participant(name=f"participants/{person_id}", card_number=f"{100000 + n}",
                                             first_name=f"Иван{n % 997}", last_name=f"Петров{n % 1009}",
                                             phone=f"+7912{n:07d}")
        created = participant_events_pb2.ParticipantCreated(participant=person)
        # The profile hash (participants.py) and the export's person string (export_rows.py).
        for command in [*participants.participant_created(created, keys, meta), *export_rows.person(created, keys, meta)]:
            pipe.execute_command(*command)
            pending += 1
        flush()
    project_registration = {t.DESCRIPTOR.full_name: f for t, f in export_rows.HANDLES}[
        reg_events.RegistrationCreated.DESCRIPTOR.full_name]
    base = datetime(2026, 1, 1, tzinfo=UTC)
    for n in range(rows):
        registration = rpb.Registration(
            name=f"registrations/{uuid.uuid4().hex}", participant=f"participants/{rng.choice(person_ids)}",
            session=f"sessions/{rng.choice(session_ids)}", event="events/e1",
            state=rpb.REGISTRATION_STATE_CONFIRMED, attendance=rpb.ATTENDANCE_EXPECTED, registered_by="admin@bench",
            comment="" if n % 10 else "позвонить накануне, \"важно\"")
        registration.create_time.FromDatetime(base + timedelta(seconds=n * 7))
        for command in project_registration(reg_events.RegistrationCreated(registration=registration), keys, meta):
            pipe.execute_command(*command)
            pending += 1
        flush()
    flush(force=True)
    return time.perf_counter() - began


def run_export(settings: Settings, keys: Keyspace, fmt: str, rows: int, mode: str) -> dict:
    done = subprocess.run([sys.executable, str(CHILD), "export", "--redis", settings.redis_url, "--prefix", keys.prefix,
                           "--format", fmt, "--rows", str(rows), "--mode", mode],
                          capture_output=True, text=True, cwd=ROOT, check=False)
    if done.returncode != 0:
        raise SystemExit(f"export child failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _export_line(label: str, result: dict, target: str = "") -> tuple[float, float]:
    rate = result["rows"] / result["seconds"]
    # The larger of: ru_maxrss growth, and the highest RSS sampled every 20 ms minus RSS before.
    growth = max(result["peak_kb"] - result["peak_before_kb"],
                 result["rss_sampled_max_kb"] - result["rss_before_kb"]) / 1024
    print(f"{label:<24}{rate:10,.0f} rows/s    {result['rows']:,} rows in {result['seconds']:.1f} s, "
          f"{result['bytes'] / 1e6:.0f} MB, CPU {result['cpu_seconds']:.1f} s; RSS {result['rss_before_kb'] / 1024:.0f} MB "
          f"before, peak growth {growth:.1f} MB{target}")
    return rate, growth


def exports_run(settings: Settings, client: redis.Redis, args: argparse.Namespace) -> None:
    keys = Keyspace(f"bench-export-{uuid.uuid4().hex[:8]}")
    rows = max(args.csv_rows, args.xlsx_rows)
    people = min(rows, 200_000)
    seconds = seed_exports(client, keys, rows, sessions=2000, people=people)
    memory = client.info("memory")["used_memory"] / 1e6
    print(f"seeded                  {rows:,} registrations, {people:,} participants, 2,000 sessions in {seconds:.0f} s "
          f"(export keys written directly, see --help); Redis uses {memory:,.0f} MB")

    result = run_export(settings, keys, "csv", args.csv_rows, "full")
    rate, growth = _export_line("CSV export", result)
    print(f"{'':24}target ≥ 250,000 rows/s: {_verdict(rate >= 250_000)}; peak RSS growth ≤ 100 MB: "
          f"{_verdict(growth <= 100)}")
    limit_rows = min(args.csv_rows, 200_000)
    _export_line("limit: rows alone", run_export(settings, keys, "csv", limit_rows, "read"),
                 "  (RowSource: Redis pages + join, no writer)")
    _export_line("limit: CSV writer alone", run_export(settings, keys, "csv", limit_rows, "write"),
                 "  (same writer, first page cycled in memory, no Redis)")

    result = run_export(settings, keys, "xlsx", args.xlsx_rows, "full")
    rate, growth = _export_line("XLSX export", result)
    print(f"{'':24}target {args.xlsx_rows:,} rows ≤ 10 s: {_verdict(result['seconds'] <= 10 * args.xlsx_rows / 100_000)}"
          f" (scaled to the rows asked); flat memory (growth ≤ 100 MB): {_verdict(growth <= 100)}")
    _export_line("limit: XLSX writer alone", run_export(settings, keys, "xlsx", args.xlsx_rows, "write"),
                 "  (same writer, first page cycled in memory, no Redis)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=1000, help="events/s offered in the lag run")
    parser.add_argument("--seconds", type=float, default=30, help="length of the lag run")
    parser.add_argument("--warmup", type=float, default=3, help="seconds of the lag run left out")
    parser.add_argument("--no-bare-lag", dest="bare_lag", action="store_false",
                        help="no bare consumer beside the projector in the lag run")
    parser.add_argument("--fetch-max-wait-ms", type=int, default=0,
                        help="diagnostic: override the consumers' fetch_max_wait_ms (default: the kernel's "
                             "settings, i.e. kafka-python's 500 ms); labelled in the output")
    parser.add_argument("--sessions", type=int, default=500, help="sessions the bookings spread over")
    parser.add_argument("--backlog", type=int, default=100_000, help="envelopes in the catch-up backlog")
    parser.add_argument("--projectors", type=int, default=1,
                        help="projector processes in the catch-up's consumer group (the dev stack runs one)")
    parser.add_argument("--csv-rows", type=int, default=200_000, help="CSV export rows (issue 5 target: 1,000,000)")
    parser.add_argument("--xlsx-rows", type=int, default=100_000, help="XLSX export rows")
    parser.add_argument("--skip", action="append", default=[], choices=("lag", "catchup", "exports"))
    args = parser.parse_args()
    FETCH_MAX_WAIT_MS[0] = args.fetch_max_wait_ms

    print(f"== reporting on {os.cpu_count()} cores; load average before: {_load()}")
    stack = DevStack(_scratch(), gateway_port=0, durable=True)
    stack.prepare()
    stack.start_engines()
    ENGINE_PIDS.update({name: engine.process.pid for name, engine in stack.engines.items() if name != "postgres"})
    work = _scratch()
    try:
        settings = Settings(database_url=stack.engine_urls["postgres"], redis_url=stack.engine_urls["redis"],
                            kafka_bootstrap=stack.engine_urls["kafka"])
        ensure_topics(settings)
        client = redis.Redis.from_url(settings.redis_url)
        group, keys = None, None
        if "catchup" not in args.skip:
            print(f"\n== catch-up: {args.projectors} fresh projector process(es) on a backlog of {args.backlog:,} envelopes")
            group, keys = catchup_run(settings, client, work, args)
        if "lag" not in args.skip:
            print(f"\n== projection lag: bookings at {args.rate:,.0f} events/s for {args.seconds:g} s, "
                  f"projector in its own process" + (f"; DIAGNOSTIC: consumers with fetch_max_wait_ms="
                                                     f"{args.fetch_max_wait_ms}" if args.fetch_max_wait_ms else ""))
            lag_run(settings, client, work, args, group, keys)
        if "exports" not in args.skip:
            print(f"\n== exports: CSV {args.csv_rows:,} rows, XLSX {args.xlsx_rows:,} rows, child process, to /dev/null")
            exports_run(settings, client, args)
    finally:
        stack.stop()
    print(f"\nload average after: {_load()}")


if __name__ == "__main__":
    main()
