"""The audit trail read model: one entry per envelope, whatever its type.

The entry is keyed by the envelope's event id, so a redelivered or replayed envelope writes
the same entry again (see reporting_service/audit_log.py); the store's version check usually
skips it before that anyway.
"""

from __future__ import annotations

from reporting_service.audit_log import entry_commands
from reporting_service.keyspace import Keyspace
from reporting_service.projections.store import Command, Meta
from turnout.common.v1 import envelope_pb2


def audit_entry(envelope: envelope_pb2.Envelope, keys: Keyspace, meta: Meta) -> list[Command]:
    if not envelope.event_id:
        return []
    return entry_commands(keys, entry_id=envelope.event_id, at_iso=meta.occurred_at, actor=envelope.actor,
                          request_id=envelope.request_id, command=envelope.type,
                          target_type=envelope.aggregate_type, target_id=envelope.aggregate_id)


EVERY_ENVELOPE = [audit_entry]
