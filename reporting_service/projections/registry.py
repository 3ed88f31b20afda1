"""Which projections handle which payload type.

Each projection module declares `HANDLES`: (payload type, function) pairs; several modules
may project the same payload (a registration feeds stats and export rows), and their commands
are applied together, once, with the envelope's version check. A module may also declare
`EVERY_ENVELOPE`: functions given every envelope whatever its type (the audit trail).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from google.protobuf.message import DecodeError, Message

from reporting_service.keyspace import Keyspace
from reporting_service.projections import (
    audit,
    availability,
    catalog,
    export_rows,
    participant_view,
    participants,
    stats,
)
from reporting_service.projections.store import Change, Command, Meta
from turnout.common.v1 import envelope_pb2

log = logging.getLogger("turnout.projector")

Projection = Callable[[Message, Keyspace, Meta], list[Command]]
EnvelopeProjection = Callable[[envelope_pb2.Envelope, Keyspace, Meta], list[Command]]

MODULES = (catalog, participants, availability, stats, audit, export_rows, participant_view)


def _collect() -> dict[str, tuple[type[Message], list[Projection]]]:
    by_type: dict[str, tuple[type[Message], list[Projection]]] = {}
    for module in MODULES:
        for payload_type, projection in getattr(module, "HANDLES", ()):
            name = payload_type.DESCRIPTOR.full_name
            by_type.setdefault(name, (payload_type, []))[1].append(projection)
    return by_type


PROJECTIONS = _collect()
EVERY_ENVELOPE: list[EnvelopeProjection] = [p for m in MODULES for p in getattr(m, "EVERY_ENVELOPE", ())]


def to_change(topic: str, raw: bytes, keys: Keyspace) -> Change | None:
    """The read-model change of one Kafka message; None for messages this projector ignores."""
    try:
        envelope = envelope_pb2.Envelope.FromString(raw)
    except DecodeError:
        log.warning("skipping a message that is not an Envelope")
        return None
    meta = Meta(envelope.occurred_at.ToDatetime().isoformat() + "Z", envelope.aggregate_version)
    commands: list[Command] = [c for every in EVERY_ENVELOPE for c in every(envelope, keys, meta)]
    handler = PROJECTIONS.get(envelope.type)
    # Types this version does not project are still recorded as applied; newer producers may
    # publish more.
    if handler is not None:
        payload_type, projections = handler
        payload = payload_type()
        if not envelope.payload.Unpack(payload):
            log.warning("envelope %s: payload is not %s", envelope.event_id, envelope.type)
            return None
        for project in projections:
            commands.extend(project(payload, keys, meta))
    return Change(topic, envelope.aggregate_type, envelope.aggregate_id, envelope.aggregate_version, commands)

