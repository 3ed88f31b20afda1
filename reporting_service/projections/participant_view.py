"""The participant view: each participant's registrations, upcoming and past, for their page.

Per registration, one JSON string (`Keyspace.participant_view_registration`) of what the page
shows of it, and one member in its participant's index (`Keyspace.participant_view_index`):
"{session start ms:013d}:{registration id}", score 0, read in lex order.

Order: a registration's events are one aggregate on the participants topic, applied in order
with the store's per-topic version check, and each carries the whole registration, so a SET
of the whole value converges to the latest. The index member is built from the session start
the registration recorded when it was created (participant_service never changes it), so
every event of a registration ZADDs the same member: idempotent, and independent of how
registrations and sessions interleave. The reader skips a member whose start disagrees with
the stored registration, so even a changed start could only leave an ignored member behind.

Session data (event title, service, venue, current start and end) is not copied here: the
reader joins the export's session hash (`export_rows.session_key`, kept from SessionScheduled
and SessionUpdated), so a session moved after the booking shows its new times; until that
hash exists it falls back to the times the registration recorded.
"""

from __future__ import annotations

import json

from reporting_service.keyspace import Keyspace
from reporting_service.projections.payloads import REGISTRATION_EVENTS, enum_word
from reporting_service.projections.payloads import id_of as _id
from reporting_service.projections.payloads import iso_of as _iso
from reporting_service.projections.payloads import millis_of as _millis
from reporting_service.projections.store import Command, Meta
from turnout.participant.v1 import registration_pb2

# States whose expire_time means something: a hold, or a waitlist offer, until it lapses.
EXPIRING_STATES = ("held", "offered")


def index_member(start_ms: int, registration_id: str) -> str:
    """The registration's member in its participant's index: orders by session start, then id."""
    return f"{max(0, start_ms):013d}:{registration_id}"


def registration_changed(event, keys: Keyspace, meta: Meta) -> list[Command]:  # type: ignore[no-untyped-def]
    r: registration_pb2.Registration = event.registration
    registration_id, participant_id = _id(r.name), _id(r.participant)
    state = enum_word(registration_pb2.RegistrationState, r.state)
    start_ms = _millis(r.session_start_time)
    value = {
        "participant_id": participant_id, "session_id": _id(r.session), "event_id": _id(r.event),
        "state": state, "attendance": enum_word(registration_pb2.Attendance, r.attendance),
        "registered_at": _iso(r.create_time), "registered_by": r.registered_by,
        "expire_time": _iso(r.expire_time) if state in EXPIRING_STATES else "",
        "waitlist_position": r.waitlist_position,
        "end_reason": enum_word(registration_pb2.EndReason, r.end_reason),
        "session_start": _iso(r.session_start_time), "session_end": _iso(r.session_end_time),
        "start_ms": start_ms, "end_ms": _millis(r.session_end_time), "update_time": meta.occurred_at,
    }
    return [
        ["SET", keys.participant_view_registration(registration_id),
         json.dumps(value, ensure_ascii=False, separators=(",", ":"))],
        ["ZADD", keys.participant_view_index(participant_id), 0, index_member(start_ms, registration_id)],
    ]


HANDLES = [(payload, registration_changed) for payload in REGISTRATION_EVENTS]
