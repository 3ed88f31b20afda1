"""Fail-fast start-up checks: a bad setting ends the process with one line naming it."""

from __future__ import annotations

import asyncio

import asyncpg
import redis.asyncio as aioredis

from kernel.settings import Settings, SettingsError


async def check_database(settings: Settings, timeout: float = 5.0) -> None:
    try:
        connection = await asyncpg.connect(settings.asyncpg_dsn, timeout=timeout)
    except (OSError, asyncpg.PostgresError, TimeoutError, asyncio.TimeoutError) as exc:
        raise SettingsError(f"TURNOUT_DATABASE_URL: cannot connect to the database: {_reason(exc)}") from None
    await connection.close()


async def check_redis(settings: Settings, timeout: float = 5.0) -> None:
    client = aioredis.from_url(settings.redis_url, socket_connect_timeout=timeout, socket_timeout=timeout)
    try:
        await client.ping()
    except (OSError, aioredis.RedisError) as exc:
        raise SettingsError(f"TURNOUT_REDIS_URL: cannot connect to Redis: {_reason(exc)}") from None
    finally:
        await client.aclose()


def check_kafka(settings: Settings, timeout: float = 10.0) -> None:
    from kafka import KafkaAdminClient
    from kafka.errors import KafkaError

    try:
        admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap.split(","),
                                 request_timeout_ms=int(timeout * 1000))
        admin.close()
    except (KafkaError, OSError, ValueError) as exc:
        raise SettingsError(f"TURNOUT_KAFKA_BOOTSTRAP: cannot reach the broker: {_reason(exc)}") from None


def _reason(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
