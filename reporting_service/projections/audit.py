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
from turnout.participant.v1 import visitor_events_pb2

_SIGN_IN = visitor_events_pb2.VisitorSignInAttempted.DESCRIPTOR.full_name


def _sign_in_entry(envelope: envelope_pb2.Envelope) -> dict[str, str] | None:
    """A visitor sign-in reads as the command it was, aimed at the participant it matched
    or, refused, at the identifier's digest (so repeated tries on one card line up)."""
    attempt = visitor_events_pb2.VisitorSignInAttempted()
    if not envelope.payload.Unpack(attempt):
        return None
    outcome = visitor_events_pb2.VisitorSignInOutcome.Name(attempt.outcome).removeprefix(
        "VISITOR_SIGN_IN_OUTCOME_").lower()
    kind = visitor_events_pb2.VisitorIdentifierKind.Name(attempt.identifier_kind).removeprefix(
        "VISITOR_IDENTIFIER_KIND_").lower()
    target = (("participant", attempt.participant.removeprefix("participants/")) if attempt.participant
              else ("visitor_identifier", attempt.identifier_digest))
    return {"command": "SignInVisitor", "target_type": target[0], "target_id": target[1],
            "detail": f"{outcome} by {kind} {attempt.identifier_digest[:16]}"}


def audit_entry(envelope: envelope_pb2.Envelope, keys: Keyspace, meta: Meta) -> list[Command]:
    if not envelope.event_id:
        return []
    entry = {"command": envelope.type, "target_type": envelope.aggregate_type, "target_id": envelope.aggregate_id}
    if envelope.type == _SIGN_IN:
        entry = _sign_in_entry(envelope) or entry
    return entry_commands(keys, entry_id=envelope.event_id, at_iso=meta.occurred_at, actor=envelope.actor,
                          request_id=envelope.request_id, **entry)


EVERY_ENVELOPE = [audit_entry]
