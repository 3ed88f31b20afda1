"""Shared fixtures: the real engines, booted once per test session.

Set TURNOUT_DATABASE_URL / TURNOUT_REDIS_URL / TURNOUT_KAFKA_BOOTSTRAP to test against
external engines instead of the embedded ones.
"""

from __future__ import annotations

import os
import pathlib
import uuid

import pytest

from kernel.devstack.stack import DevStack
from kernel.migrations import upgrade_all
from kernel.settings import Settings


@pytest.fixture(scope="session")
def engines(tmp_path_factory: pytest.TempPathFactory) -> DevStack:
    """PostgreSQL (durability off: tests measure correctness, not fsync), Redis and Tansu."""
    stack = DevStack(tmp_path_factory.mktemp("stack"), gateway_port=0, durable=False,
                     environ={**os.environ, **GENEROUS_LIMITS})
    stack.prepare()
    stack.start_engines()
    upgrade_all(stack.engine_urls["postgres"])
    from kernel.kafka import ensure_topics

    ensure_topics(_settings_for(stack))
    yield stack
    stack.stop()


# Tests drive many requests with one token: the rate limits have their own tests
# (tests/integration/test_rate_limits.py), which set tight ones.
GENEROUS_LIMITS = {"TURNOUT_RATE_LIMIT_PER_PRINCIPAL": "1000000/minute",
                   "TURNOUT_RATE_LIMIT_PER_ADDRESS": "1000000/minute",
                   "TURNOUT_RATE_LIMIT_BOOKINGS": "1000000/minute",
                   "TURNOUT_RATE_LIMIT_SIGN_IN_PER_ADDRESS": "1000000/minute",
                   "TURNOUT_RATE_LIMIT_SIGN_IN_PER_IDENTIFIER": "1000000/minute"}


def _settings_for(stack: DevStack, **overrides: object) -> Settings:
    values: dict[str, object] = {
        **{name.removeprefix("TURNOUT_").lower(): value for name, value in GENEROUS_LIMITS.items()},
        "database_url": stack.engine_urls["postgres"],
        "redis_url": stack.engine_urls["redis"],
        "kafka_bootstrap": stack.engine_urls["kafka"],
        "auth_secret": stack.auth_secret,
        "log_format": "text",
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def settings(engines: DevStack) -> Settings:
    return _settings_for(engines)


@pytest.fixture
def unique() -> str:
    """A short unique suffix for names that must not collide across tests."""
    return uuid.uuid4().hex[:10]


REPO_ROOT = pathlib.Path(__file__).resolve().parent.parent
