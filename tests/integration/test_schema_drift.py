"""The Alembic revisions create exactly the tables the services' code describes."""

from __future__ import annotations

import importlib

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("service", ["event_service", "participant_service"])
async def test_migrations_match_the_table_definitions(settings, service):
    tables = importlib.import_module(f"{service}.adapters.tables")

    def differences(connection):
        context = MigrationContext.configure(connection, opts={
            "include_schemas": True,
            "include_name": lambda name, type_, parent: type_ != "schema" or name == tables.SCHEMA,
            "compare_type": True,
        })
        return [d for d in compare_metadata(context, tables.metadata)
                if not (isinstance(d, tuple) and d[0] == "remove_table" and d[1].name == "alembic_version")]

    engine = create_async_engine(settings.database_url)
    try:
        async with engine.connect() as connection:
            diff = await connection.run_sync(differences)
    finally:
        await engine.dispose()
    assert diff == [], f"{service}: migrations and adapters/tables.py disagree: {diff}"
