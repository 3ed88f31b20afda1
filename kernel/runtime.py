"""Process-wide runtime tuning shared by the long-running Turnout servers."""

from __future__ import annotations

import gc


def settle_heap() -> None:
    """Called once start-up is done: moves everything allocated so far (modules, generated
    protobuf classes, SQLAlchemy metadata, ...) out of the garbage collector's reach. Those
    objects live as long as the process, but every full collection walked them again: under
    load participant-service paused 85-190 ms every few seconds, about 35 ms after this
    (benchmarks/registrations.py measured it with gc.callbacks)."""
    gc.collect()
    gc.freeze()
