"""Alembic, one schema and one version table per service.

Each service keeps its revisions in `<service>/migrations/versions/`; its `env.py` only calls
`run_env(SCHEMA)`. `upgrade(service_package, url)` is what `turnout migrate` and the test
fixtures call.
"""

from __future__ import annotations

import asyncio
import importlib
import pathlib

import sqlalchemy as sa
from alembic import command, context, op
from alembic.config import Config
from sqlalchemy.ext.asyncio import create_async_engine

from kernel.db import OUTBOX_UNSENT_INDEX, idempotency_columns, outbox_columns

SERVICES_WITH_SCHEMAS = ("event_service", "participant_service")


def alembic_config(service_package: str, database_url: str) -> Config:
    package = importlib.import_module(service_package)
    location = pathlib.Path(package.__file__).parent / "migrations"
    config = Config()
    config.set_main_option("script_location", str(location))
    config.set_main_option("sqlalchemy.url", database_url)
    return config


def upgrade(service_package: str, database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(service_package, database_url), revision)


def upgrade_all(database_url: str) -> None:
    for service in SERVICES_WITH_SCHEMAS:
        upgrade(service, database_url)


def run_env(schema: str) -> None:
    """Body of every service's env.py: online, async, version table inside the schema."""
    url = context.config.get_main_option("sqlalchemy.url")

    def migrate(connection: sa.Connection) -> None:
        connection.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        context.configure(
            connection=connection,
            version_table_schema=schema,
            include_schemas=True,
            transaction_per_migration=True,
        )
        with context.begin_transaction():
            context.run_migrations()

    async def main() -> None:
        engine = create_async_engine(url)
        try:
            async with engine.begin() as connection:
                await connection.run_sync(migrate)
        finally:
            await engine.dispose()

    asyncio.run(main())


def create_messaging_tables(schema: str) -> None:
    """For a service's first revision: the outbox and idempotency tables kernel.db defines."""
    op.create_table("outbox", *outbox_columns(), schema=schema)
    name, columns, options = OUTBOX_UNSENT_INDEX
    op.create_index(name, "outbox", columns, schema=schema, **options)
    op.create_table("idempotency_keys", *idempotency_columns(), schema=schema)
