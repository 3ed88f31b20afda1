"""The embedded engines boot from their wheels, answer real clients, stop, and never outlive
the process that started them (kernel/devstack, DESIGN.md §6)."""

from __future__ import annotations

import os
import pathlib
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator

import asyncpg
import pytest
import redis
from kafka import KafkaConsumer, KafkaProducer

from kernel.devstack import engines as engines_module
from kernel.devstack.engines import (
    EngineStartError,
    RunningEngine,
    create_topics,
    start_kafka,
    start_postgres,
    start_redis,
)
from kernel.devstack.processes import free_port, port_is_free, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
STARTERS: dict[str, Callable[..., RunningEngine]] = {
    "postgres": start_postgres,
    "redis": start_redis,
    "kafka": start_kafka,
}


# --- helpers ------------------------------------------------------------------------------


def _proc_stat(pid: int) -> list[str] | None:
    """Fields of /proc/<pid>/stat after the command name (state, ppid, pgrp, session, ...)."""
    try:
        raw = pathlib.Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw.rsplit(")", 1)[1].split()


def _alive(pid: int) -> bool:
    # An orphan is reparented to PID 1, which in a container may never reap it: a zombie
    # counts as gone.
    fields = _proc_stat(pid)
    return fields is not None and fields[0] != "Z"


def _session_members(session_id: int) -> list[int]:
    """Live processes in a session: an engine and every worker it forked share its session."""
    pids = (int(entry) for entry in os.listdir("/proc") if entry.isdigit())
    return [pid for pid in pids
            if (fields := _proc_stat(pid)) and fields[0] != "Z" and int(fields[3]) == session_id]


def _stop_and_assert_gone(engine: RunningEngine) -> None:
    engine.stop()
    engine.stop()  # idempotent
    assert not engine.is_running()
    assert _session_members(engine.process.pid) == []


def _asyncpg_dsn(engine: RunningEngine) -> str:
    return engine.url.replace("postgresql+asyncpg://", "postgresql://")


def _fake_fallback(origin: pathlib.Path) -> pathlib.Path:
    """A fallback cluster directory as start_postgres leaves one for `origin`."""
    root = pathlib.Path(tempfile.mkdtemp(prefix="turnout-"))
    (root / "postgres").mkdir()
    (root / "origin").write_text(str(origin))
    return root


# --- fixtures -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def reachable_dir() -> Iterator[pathlib.Path]:
    """A data dir that `nobody` can reach, so postgres keeps its cluster in it.

    pytest's own temp root (/tmp/pytest-of-root) is 0700, which would force the fallback.
    """
    path = pathlib.Path(tempfile.mkdtemp(prefix="turnout-engines-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def engines() -> Iterator[list[RunningEngine]]:
    """Engines a test started; stopped even when the test fails half-way."""
    started: list[RunningEngine] = []
    yield started
    for engine in started:
        engine.stop()


# --- tests --------------------------------------------------------------------------------


def test_free_port_is_free_until_someone_listens() -> None:
    port = free_port()
    assert port_is_free(port)
    with socket.create_server(("127.0.0.1", port)):
        assert not port_is_free(port)


async def test_postgres_round_trip_and_restart_keeps_data(
    reachable_dir: pathlib.Path, engines: list[RunningEngine]
) -> None:
    engine = start_postgres(reachable_dir)
    engines.append(engine)
    assert engine.data_dir == reachable_dir / "postgres"
    assert engine.url == f"postgresql+asyncpg://turnout@127.0.0.1:{engine.port}/turnout"

    conn = await asyncpg.connect(_asyncpg_dsn(engine))
    try:
        assert await conn.fetchval("SELECT 1") == 1
        await conn.execute("CREATE TABLE IF NOT EXISTS kept (id int PRIMARY KEY, label text)")
        await conn.execute("INSERT INTO kept VALUES (1, 'survives a restart')")
    finally:
        await conn.close()
    _stop_and_assert_gone(engine)

    engine = start_postgres(reachable_dir)  # the existing cluster: no initdb this time
    engines.append(engine)
    conn = await asyncpg.connect(_asyncpg_dsn(engine))
    try:
        assert await conn.fetchval("SELECT label FROM kept WHERE id = 1") == "survives a restart"
    finally:
        await conn.close()
    _stop_and_assert_gone(engine)


@pytest.mark.skipif(os.geteuid() != 0, reason="postgres runs as `nobody` only when we are root")
async def test_postgres_moves_a_cluster_nobody_could_reach(
    tmp_path: pathlib.Path, engines: list[RunningEngine], caplog: pytest.LogCaptureFixture
) -> None:
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    private.chmod(0o700)
    data_dir = private / "data"
    abandoned = _fake_fallback(origin=tmp_path / "deleted-by-pytest")
    in_use = _fake_fallback(origin=tmp_path)

    engine = start_postgres(data_dir, durable=False)
    engines.append(engine)
    try:
        assert not abandoned.exists()  # its data_dir is gone: swept
        assert in_use.exists()
        fallback_root = engine.data_dir.parent
        assert fallback_root.parent == pathlib.Path(tempfile.gettempdir())
        assert fallback_root.name.startswith("turnout-")
        assert engine.log_path == data_dir / "logs" / "postgres.log"
        assert any(str(data_dir) in r.getMessage() and r.levelname == "WARNING"
                   for r in caplog.records)
        conn = await asyncpg.connect(_asyncpg_dsn(engine))
        try:
            assert await conn.fetchval("SELECT 1") == 1
        finally:
            await conn.close()
        _stop_and_assert_gone(engine)
    finally:
        engine.stop()
        for root in (engine.data_dir.parent, abandoned, in_use):
            shutil.rmtree(root, ignore_errors=True)


def test_postgres_that_dies_reports_its_log(reachable_dir: pathlib.Path) -> None:
    started = time.monotonic()
    with pytest.raises(EngineStartError) as raised:
        start_postgres(reachable_dir, max_connections=-1)
    message = str(raised.value)
    assert "postgres exited" in message
    assert str(reachable_dir / "logs" / "postgres.log") in message
    assert "max_connections" in message  # the log's own explanation
    assert "\n" not in message
    assert time.monotonic() - started < 10  # not the 30 s start-up timeout


def test_redis_round_trip(tmp_path: pathlib.Path) -> None:
    engine = start_redis(tmp_path)
    try:
        assert engine.url == f"redis://127.0.0.1:{engine.port}/0"
        client = redis.Redis.from_url(engine.url)
        client.set("turnout:test", "ok")
        assert client.get("turnout:test") == b"ok"
        assert client.info("server")["redis_version"].startswith("6.2.")
        client.close()
    finally:
        _stop_and_assert_gone(engine)


def test_kafka_round_trip(tmp_path: pathlib.Path) -> None:
    engine = start_kafka(tmp_path)
    try:
        topic = "engines.round-trip"
        create_topics(engine.url, [topic], partitions=2)
        create_topics(engine.url, [topic], partitions=2)  # existing topics are left alone

        producer = KafkaProducer(bootstrap_servers=engine.url, acks="all", enable_idempotence=True)
        producer.send(topic, key=b"event-1", value=b"hello").get(timeout=10)
        producer.close()

        consumer = KafkaConsumer(
            topic, bootstrap_servers=engine.url, group_id="engines-test",
            session_timeout_ms=2000, heartbeat_interval_ms=500,
            auto_offset_reset="earliest", enable_auto_commit=False,
        )
        try:
            # 2, not Tansu's auto-create default of 4: the explicit creation took effect.
            assert consumer.partitions_for_topic(topic) == {0, 1}
            received: list[tuple[bytes, bytes]] = []

            def got_it() -> bool:
                for records in consumer.poll(timeout_ms=200).values():
                    received.extend((r.key, r.value) for r in records)
                return bool(received)

            wait_until(got_it, timeout=15, what="the produced message")
            assert received == [(b"event-1", b"hello")]
        finally:
            consumer.close()
    finally:
        _stop_and_assert_gone(engine)


@pytest.mark.parametrize("name", STARTERS)
def test_taken_port_is_refused(name: str, tmp_path: pathlib.Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        with pytest.raises(EngineStartError, match=f"^{name}: port {port} is already in use$"):
            STARTERS[name](tmp_path, port=port)
    assert not (tmp_path / "logs").exists()  # nothing was spawned


def test_a_port_taken_while_starting_is_replaced(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.create_server(("127.0.0.1", 0)) as squatter:
        taken = squatter.getsockname()[1]
        offered = iter([taken, free_port()])
        # As if someone bound the port between free_port() and redis-server's own bind.
        monkeypatch.setattr(engines_module, "free_port", lambda: next(offered))
        engine = start_redis(tmp_path)
        try:
            assert engine.port != taken
            assert redis.Redis.from_url(engine.url).ping()
        finally:
            _stop_and_assert_gone(engine)


_ORPHANING_PARENT = """
import pathlib, sys, time
from kernel.devstack import engines
engine = getattr(engines, "start_" + sys.argv[1])(pathlib.Path(sys.argv[2]))
print(engine.process.pid, flush=True)
time.sleep(120)
"""


@pytest.mark.parametrize("name", STARTERS)
def test_killed_parent_leaves_nothing_running(
    name: str, tmp_path: pathlib.Path, reachable_dir: pathlib.Path
) -> None:
    # postgres reuses the module's cluster so that this test does not pay for an initdb.
    data_dir = reachable_dir if name == "postgres" else tmp_path
    parent = subprocess.Popen(
        [sys.executable, "-c", _ORPHANING_PARENT, name, str(data_dir)],
        stdout=subprocess.PIPE, text=True, cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )
    engine_pid = 0
    try:
        line = parent.stdout.readline()
        assert line.strip().isdigit(), f"parent failed to start {name}: {line!r}"
        engine_pid = int(line)
        assert _alive(engine_pid)

        parent.send_signal(signal.SIGKILL)
        parent.wait()
        wait_until(lambda: not _session_members(engine_pid), timeout=5,
                   what=f"{name} (and its workers) exiting after its parent was killed")
    finally:
        parent.kill()
        parent.wait()
        parent.stdout.close()
        if engine_pid and _session_members(engine_pid):
            os.killpg(engine_pid, signal.SIGKILL)
