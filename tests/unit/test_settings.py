"""A bad setting ends the process with one line naming it, not a traceback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from kernel.settings import SettingsError, load_settings


def test_invalid_value_names_the_variable(monkeypatch):
    monkeypatch.setenv("TURNOUT_GATEWAY_PORT", "eighty")
    with pytest.raises(SettingsError, match="^TURNOUT_GATEWAY_PORT is invalid"):
        load_settings()


def test_database_url_must_be_postgres(monkeypatch):
    monkeypatch.setenv("TURNOUT_DATABASE_URL", "mysql://x")
    with pytest.raises(SettingsError, match="^TURNOUT_DATABASE_URL is invalid"):
        load_settings()


def test_plain_postgres_urls_get_the_asyncpg_driver(monkeypatch):
    monkeypatch.setenv("TURNOUT_DATABASE_URL", "postgres://u@h:1/d")
    assert load_settings().database_url == "postgresql+asyncpg://u@h:1/d"


def _turnout(*args: str, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("TURNOUT_")} | env
    return subprocess.run([sys.executable, "-m", "turnout.cli", *args], env=environ, capture_output=True,
                          text=True, timeout=60)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _one_line(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_unreachable_database_fails_fast_naming_the_setting():
    line = _one_line(_turnout("serve", "event-service",
                              TURNOUT_DATABASE_URL=f"postgresql://turnout@127.0.0.1:{_closed_port()}/turnout"))
    assert "TURNOUT_DATABASE_URL" in line


def test_unreachable_redis_fails_fast_naming_the_setting():
    line = _one_line(_turnout("serve", "reporting-service", TURNOUT_REDIS_URL=f"redis://127.0.0.1:{_closed_port()}/0"))
    assert "TURNOUT_REDIS_URL" in line


def test_missing_secret_fails_fast_naming_the_setting():
    line = _one_line(_turnout("serve", "gateway", TURNOUT_GATEWAY_PORT="0"))
    assert "TURNOUT_AUTH_SECRET" in line


def test_taken_gateway_port_fails_fast_naming_the_setting():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        line = _one_line(_turnout("serve", "gateway", TURNOUT_GATEWAY_PORT=str(port), TURNOUT_AUTH_SECRET="s"))
    assert "TURNOUT_GATEWAY_PORT" in line
