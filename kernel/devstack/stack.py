"""The local stack `turnout dev` runs: the embedded engines (or external ones named by
settings), migrations, and every Turnout process as a child, with their URLs in
`<data-dir>/stack.json` so the CLI, benchmarks and tests attach without guessing ports."""

from __future__ import annotations

import json
import logging
import os
import pathlib
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass, field

from kernel.devstack.engines import (
    RunningEngine,
    create_topics,
    start_kafka,
    start_postgres,
    start_redis,
)
from kernel.devstack.processes import (
    free_port,
    port_is_free,
    spawn,
    stop_process,
    wait_until,
)
from kernel.settings import SettingsError

log = logging.getLogger("turnout.dev")

GRPC_SERVICES = {
    "event-service": "event_service_port",
    "participant-service": "participant_service_port",
    "reporting-service": "reporting_service_port",
}
WORKERS = ("event-relay", "participant-relay", "projector")
COMPONENTS = (*GRPC_SERVICES, *WORKERS, "gateway")
ENGINE_SETTINGS = {"postgres": "TURNOUT_DATABASE_URL", "redis": "TURNOUT_REDIS_URL", "kafka": "TURNOUT_KAFKA_BOOTSTRAP"}


@dataclass
class Component:
    name: str
    process: subprocess.Popen
    log_path: pathlib.Path
    metrics_port: int


@dataclass
class DevStack:
    data_dir: pathlib.Path
    gateway_port: int = 8080
    durable: bool = True
    environ: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    engines: dict[str, RunningEngine] = field(default_factory=dict)
    engine_urls: dict[str, str] = field(default_factory=dict)
    components: dict[str, Component] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)
    auth_secret: str = ""

    # -- engines -------------------------------------------------------------------------
    def start_engines(self) -> dict[str, float]:
        """Starts each embedded engine unless its setting names an external one; seconds each."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        starters = {
            "postgres": lambda: start_postgres(self.data_dir, durable=self.durable),
            "redis": lambda: start_redis(self.data_dir),
            "kafka": lambda: start_kafka(self.data_dir),
        }
        timings = {}
        for name, start in starters.items():
            began = time.perf_counter()
            external = self.environ.get(ENGINE_SETTINGS[name])
            if external:
                self.engine_urls[name] = external
            else:
                engine = start()
                self.engines[name] = engine
                self.engine_urls[name] = engine.url
            timings[name] = time.perf_counter() - began
        return timings

    def stop_engine(self, name: str) -> None:
        """Stops one embedded engine and keeps its record, so `restart_engine` reuses its port."""
        self.engines[name].stop()

    def restart_engine(self, name: str) -> RunningEngine:
        """Starts a stopped embedded engine again on the same port: the URLs every child was
        given stay right. Tansu comes back with no topics (memory storage), so they are
        created again before anyone can auto-create them with another partition count."""
        old = self.engines[name]
        if old.is_running():
            old.stop()
        starters = {"postgres": lambda port: start_postgres(self.data_dir, port=port, durable=self.durable),
                    "redis": lambda port: start_redis(self.data_dir, port=port),
                    "kafka": lambda port: start_kafka(self.data_dir, port=port)}
        engine = starters[name](old.port)
        self.engines[name] = engine
        if name == "kafka":
            from kernel import topics

            create_topics(engine.url, list(topics.ALL), topics.PARTITIONS)
        return engine

    # -- processes -----------------------------------------------------------------------
    def settings_env(self) -> dict[str, str]:
        """The TURNOUT_* variables every child gets."""
        env = dict(self.environ)
        env.update({
            "TURNOUT_DATABASE_URL": self.engine_urls["postgres"],
            "TURNOUT_REDIS_URL": self.engine_urls["redis"],
            "TURNOUT_KAFKA_BOOTSTRAP": self.engine_urls["kafka"],
            "TURNOUT_AUTH_SECRET": self.auth_secret,
            "TURNOUT_HOST": "127.0.0.1",
            "TURNOUT_GATEWAY_PORT": str(self.ports["gateway"]),
        })
        env.setdefault("TURNOUT_DOCUMENT_DIR", str(self.data_dir / "documents"))
        for name, setting in GRPC_SERVICES.items():
            env[f"TURNOUT_{setting.upper()}"] = str(self.ports[name])
        env.setdefault("PYTHONUNBUFFERED", "1")
        return env

    def prepare(self) -> None:
        """Chooses ports and the auth secret; fails with one line when the gateway port is taken."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.auth_secret = self.environ.get("TURNOUT_AUTH_SECRET") or self._stored_secret()
        if self.gateway_port and not port_is_free(self.gateway_port):
            raise SettingsError(f"TURNOUT_GATEWAY_PORT: port {self.gateway_port} on 127.0.0.1 is already in use")
        self.ports["gateway"] = self.gateway_port or free_port()
        for name in GRPC_SERVICES:
            self.ports[name] = free_port()

    def _stored_secret(self) -> str:
        """Kept across restarts of the same data dir, so tokens printed earlier keep working."""
        path = self.data_dir / "auth_secret"
        if not path.exists():
            path.write_text(secrets.token_urlsafe(32))
            path.chmod(0o600)
        return path.read_text().strip()

    def migrate(self) -> None:
        from kernel.migrations import upgrade_all

        upgrade_all(self.engine_urls["postgres"])

    def start_component(self, name: str) -> Component:
        log_path = self.data_dir / "logs" / f"{name}.log"
        env = self.settings_env()
        metrics_port = free_port()
        env["TURNOUT_METRICS_PORT"] = "0" if name == "gateway" else str(metrics_port)
        process = spawn([sys.executable, "-m", "turnout.cli", "serve", name], log_path=log_path, env=env)
        component = Component(name, process, log_path, 0 if name == "gateway" else metrics_port)
        self.components[name] = component
        return component

    def start_components(self, names: tuple[str, ...] = COMPONENTS) -> None:
        for name in names:
            self.start_component(name)

    def stop_component(self, name: str, *, kill: bool = False) -> None:
        component = self.components.pop(name, None)
        if component is not None:
            stop_process(component.process, sig=9 if kill else 15)

    def wait_ready(self, names: tuple[str, ...] = COMPONENTS, timeout: float = 60.0) -> dict[str, float]:
        """Waits until each component answers its health probe; seconds until each was ready."""
        began = time.perf_counter()
        ready: dict[str, float] = {}
        for name in names:
            wait_until(lambda n=name: self._ready(n), timeout=max(1.0, timeout - (time.perf_counter() - began)),
                       what=f"{name} (log: {self.components[name].log_path})")
            ready[name] = time.perf_counter() - began
        return ready

    def _ready(self, name: str) -> bool:
        component = self.components[name]
        if component.process.poll() is not None:
            raise SettingsError(f"{name} exited with code {component.process.returncode}; "
                                f"see {component.log_path}:\n{_tail(component.log_path)}")
        if name in GRPC_SERVICES:
            return _grpc_serving(self.ports[name])
        if name == "gateway":
            return _http_ok(f"{self.urls()['gateway']}/healthz")
        return _http_ok(f"http://127.0.0.1:{component.metrics_port}/metrics")

    # -- description -----------------------------------------------------------------------
    def urls(self) -> dict[str, str]:
        urls = {f"{name}": url for name, url in self.engine_urls.items()}
        urls["gateway"] = f"http://127.0.0.1:{self.ports['gateway']}"
        urls["docs"] = f"{urls['gateway']}/docs"
        for name in GRPC_SERVICES:
            urls[name] = f"127.0.0.1:{self.ports[name]}"
        for name, component in self.components.items():
            if component.metrics_port:
                urls[f"{name}-metrics"] = f"http://127.0.0.1:{component.metrics_port}/metrics"
        return urls

    def write_stack_json(self) -> pathlib.Path:
        path = self.data_dir / "stack.json"
        path.write_text(json.dumps({
            "pid": os.getpid(),
            "urls": self.urls(),
            "env": {k: v for k, v in self.settings_env().items() if k.startswith("TURNOUT_")},
            "logs": str(self.data_dir / "logs"),
        }, indent=2))
        path.chmod(0o600)  # it holds the auth secret
        return path

    def stop(self) -> None:
        """Stops every child it started: Turnout processes first (signalled together, so their
        grace periods overlap), then the engines."""
        components = list(self.components.values())
        self.components.clear()
        for component in components:
            if component.process.poll() is None:
                component.process.send_signal(15)
        for component in components:
            stop_process(component.process)
        for engine in reversed(list(self.engines.values())):
            engine.stop()
        self.engines.clear()
        (self.data_dir / "stack.json").unlink(missing_ok=True)


def load_stack_env(data_dir: pathlib.Path) -> dict[str, str]:
    """TURNOUT_* settings of a running `turnout dev`, for the CLI and benchmarks to attach."""
    path = data_dir / "stack.json"
    if not path.exists():
        return {}
    return json.loads(path.read_text())["env"]


def _tail(path: pathlib.Path, lines: int = 8) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _grpc_serving(port: int) -> bool:
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        try:
            answer = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=1)
        except grpc.RpcError:
            return False
    return answer.status == health_pb2.HealthCheckResponse.SERVING


def _http_ok(url: str) -> bool:
    import httpx

    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False
