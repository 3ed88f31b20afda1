"""Builds participant_service's dependencies; nothing connects at import time."""

from __future__ import annotations

from kernel.bootstrap import CommandServiceDeps, bootstrap_command_service
from kernel.settings import Settings
from participant_service.adapters.messages import to_message
from participant_service.adapters.tables import outbox


def bootstrap(settings: Settings) -> CommandServiceDeps:
    return bootstrap_command_service(settings, outbox, to_message)
