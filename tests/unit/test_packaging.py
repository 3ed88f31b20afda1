"""docker-compose.yml cannot run here (no Docker engine), so it is kept correct by reading."""

from __future__ import annotations

import pathlib

import yaml

from kernel.devstack.stack import COMPONENTS
from kernel.settings import Settings

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_runs_every_component_and_the_engines():
    services = _compose()["services"]
    assert {"postgres", "redis", "kafka", "migrate"} <= services.keys()
    commands = {tuple(s["command"]) for s in services.values() if "command" in s and s.get("image") == "turnout:latest"}
    assert {("turnout", "serve", name) for name in COMPONENTS} <= commands
    assert ("turnout", "migrate") in commands
    kafka_env = services["kafka"]["environment"]
    assert "controller" in kafka_env["KAFKA_PROCESS_ROLES"], "Kafka runs in KRaft mode"


def test_compose_sets_only_settings_that_exist():
    known = {f"TURNOUT_{name.upper()}" for name in Settings.model_fields}
    for name, service in _compose()["services"].items():
        for variable in service.get("environment", {}):
            if variable.startswith("TURNOUT_"):
                assert variable in known, f"{name} sets {variable}, which no setting reads"


def test_dockerfile_copies_every_package():
    dockerfile = (ROOT / "Dockerfile").read_text()
    for package in ("turnout", "kernel", "event_service", "participant_service", "reporting_service", "gateway"):
        assert f"COPY {package} ./{package}" in dockerfile
