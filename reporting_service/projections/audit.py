"""The audit trail read model: one entry per envelope, whatever its type.

The entry is keyed by the envelope's event id, so a redelivered or replayed envelope writes
the same entry again (see reporting_service/audit_log.py); the store's version check usually
skips it before that anyway.
"""

from __future__ import annotations

from reporting_service.audit_log import entry_commands
from reporting_service.keyspace import Keyspace
from reporting_service.projections.payloads import enum_word
from reporting_service.projections.store import Command, Meta
from turnout.common.v1 import envelope_pb2
from turnout.participant.v1 import (
    registration_events_pb2,
    registration_pb2,
    visitor_events_pb2,
)

_SIGN_IN = visitor_events_pb2.VisitorSignInAttempted.DESCRIPTOR.full_name
# Registration events that may record a reconfirmation step, and which steps they record: the
# change itself any, a cancellation only the one it caused (a decline, a release at the
# deadline); an ordinary cancellation of a reconfirmed registration reads as any other.
_RECONFIRMATION_STEPS = {
    registration_events_pb2.RegistrationReconfirmationChanged.DESCRIPTOR.full_name: (
        registration_events_pb2.RegistrationReconfirmationChanged,
        set(registration_pb2.Reconfirmation.values()) - {registration_pb2.RECONFIRMATION_UNSPECIFIED}),
    registration_events_pb2.RegistrationCancelled.DESCRIPTOR.full_name: (
        registration_events_pb2.RegistrationCancelled,
        {registration_pb2.RECONFIRMATION_DECLINED, registration_pb2.RECONFIRMATION_UNANSWERED_RELEASED}),
}


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


def _reconfirmation_detail(envelope: envelope_pb2.Envelope) -> str:
    """"reconfirmation confirmed", "reconfirmation declined", ...: the event type alone does
    not say which step it was (one type covers asking, confirming and keeping; a decline
    arrives as a cancellation)."""
    payload_type, recorded = _RECONFIRMATION_STEPS.get(envelope.type, (None, set()))
    if payload_type is None:
        return ""
    change = payload_type()
    if not envelope.payload.Unpack(change) or change.registration.reconfirmation not in recorded:
        return ""
    return f"reconfirmation {enum_word(registration_pb2.Reconfirmation, change.registration.reconfirmation)}"


def audit_entry(envelope: envelope_pb2.Envelope, keys: Keyspace, meta: Meta) -> list[Command]:
    if not envelope.event_id:
        return []
    entry = {"command": envelope.type, "target_type": envelope.aggregate_type, "target_id": envelope.aggregate_id}
    if envelope.type == _SIGN_IN:
        entry = _sign_in_entry(envelope) or entry
    elif detail := _reconfirmation_detail(envelope):
        entry["detail"] = detail
    return entry_commands(keys, entry_id=envelope.event_id, at_iso=meta.occurred_at, actor=envelope.actor,
                          request_id=envelope.request_id, **entry)


EVERY_ENVELOPE = [audit_entry]
