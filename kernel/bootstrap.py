"""Dependencies of a command service: its engine and its unit-of-work factory."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from kernel.db import make_engine
from kernel.settings import Settings
from kernel.unit_of_work import EventMapper, UnitOfWork, UnitOfWorkFactory


@dataclass
class CommandServiceDeps:
    engine: AsyncEngine
    uow_factory: UnitOfWorkFactory


def bootstrap_command_service(settings: Settings, outbox: sa.Table, to_message: EventMapper) -> CommandServiceDeps:
    engine = make_engine(settings.database_url)
    return CommandServiceDeps(engine, partial(UnitOfWork, engine, outbox, to_message))
