"""Read models of the registrations export: one hash per session (what a row shows of it),
one string per registration and per participant, and an index of registrations by
registered_at.

Order: a session's SessionScheduled/SessionUpdated are one aggregate ("session") on the
catalog topic, applied in order with the store's per-topic version check, and each carries
the whole session, so a plain HSET of everything converges. A registration's events are one
aggregate ("registration") on the participants topic, in order, each carrying the whole
registration: SET of the whole row again. The index member is "{create_time ms}:{registration id}", and
create_time never changes, so ZADD is idempotent. Participant names, cards and phones are not
copied into the registration rows: the export joins them when it reads, so a rename shows. It
joins `person_key`, one string per participant (ParticipantCreated/ParticipantUpdated, one
aggregate, in order, each carrying the whole profile: SET of all of it again), so a page of
rows reads its people in one command rather than one HMGET each; generations projected
before that key existed are joined from `Keyspace.participant` instead (see exports.RowSource).
"""

from __future__ import annotations

import json

from reporting_service.keyspace import Keyspace
from reporting_service.projections.payloads import REGISTRATION_EVENTS, enum_word
from reporting_service.projections.payloads import id_of as _id
from reporting_service.projections.payloads import iso_of as _iso
from reporting_service.projections.payloads import millis_of as _millis
from reporting_service.projections.store import Command, Meta
from turnout.event.v1 import catalog_events_pb2, session_pb2
from turnout.participant.v1 import participant_events_pb2, registration_pb2

SESSION_FIELDS = ("event_id", "event_title", "service_id", "service", "venue_id", "venue", "start_time",
                  "end_time", "date")
REGISTRATION_FIELDS = ("participant_id", "session_id", "event_id", "state", "attendance", "registered_at",
                       "registered_by", "comment")
# The stored array's position of the reconfirmation word: after REGISTRATION_FIELDS and
# update_time, and only there when the registration has been asked (see registration_key).
RECONFIRMATION_AT = len(REGISTRATION_FIELDS) + 1
PERSON_FIELDS = ("first_name", "last_name", "card_number", "phone")


def session_key(keys: Keyspace, session_id: str) -> str:
    """Hash: SESSION_FIELDS of one session."""
    return f"{keys.prefix}:export:session:{session_id}"


def registration_key(keys: Keyspace, registration_id: str) -> str:
    """String: a JSON array of the registration's REGISTRATION_FIELDS then update_time, in that
    order, then its reconfirmation word (`RECONFIRMATION_AT`) when it has been asked (one
    value, so a page of registrations is one read, and an array rather than an object, which
    decodes several times faster). Rows projected before reconfirmations existed, and rows of
    registrations never asked, end at update_time: readers take a missing reconfirmation as
    "". Generations projected before hold a JSON object of the REGISTRATION_FIELDS instead;
    readers take both."""
    return f"{keys.prefix}:export:registration:{registration_id}"


def person_key(keys: Keyspace, participant_id: str) -> str:
    """String: a JSON array of one participant's PERSON_FIELDS, in that order (an array, not an
    object: a page of people decodes several times faster)."""
    return f"{keys.prefix}:export:person:{participant_id}"


def index_key(keys: Keyspace) -> str:
    """Sorted set, every score 0, of `index_member`s: read in lex order they go by
    registered_at, ties by id, so a page token (the last member read) stays stable while
    registrations are added, and a registered_at range is a lex range."""
    return f"{keys.prefix}:export:registrations"


def index_member(registered_ms: int, registration_id: str) -> str:
    return f"{max(0, registered_ms):013d}:{registration_id}"


def template_key(keys: Keyspace, name: str) -> str:
    """Hash: a saved export template (fields, filters as JSON). Analysts' own data, not a
    projection: it lives outside the generations, so a rebuild keeps it."""
    return keys.own(f"export:template:{name}")


def templates_key(keys: Keyspace) -> str:
    """Set of the saved template names (outside the generations, as `template_key`)."""
    return keys.own("export:templates")


def _session(keys: Keyspace, session: session_pb2.Session, date: str | None) -> list[Command]:
    fields: list[str | int] = [
        "event_id", _id(session.event), "event_title", session.event_title,
        "service_id", _id(session.service), "service", session.service_display_name,
        "venue_id", _id(session.venue), "venue", session.venue_display_name,
        "start_time", _iso(session.start_time), "end_time", _iso(session.end_time)]
    if date:
        fields += ["date", date]
    return [["HSET", session_key(keys, _id(session.name)), *fields]]


def session_scheduled(event: catalog_events_pb2.SessionScheduled, keys: Keyspace, meta: Meta) -> list[Command]:
    return _session(keys, event.session, event.occurrence.date)


def session_updated(event: catalog_events_pb2.SessionUpdated, keys: Keyspace, meta: Meta) -> list[Command]:
    return _session(keys, event.session, None)


def _registration(event, keys: Keyspace, meta: Meta) -> list[Command]:
    r: registration_pb2.Registration = event.registration
    registration_id = _id(r.name)
    row = [_id(r.participant), _id(r.session), _id(r.event), enum_word(registration_pb2.RegistrationState, r.state),
           enum_word(registration_pb2.Attendance, r.attendance), _iso(r.create_time), r.registered_by, r.comment,
           meta.occurred_at]  # REGISTRATION_FIELDS, then update_time
    if reconfirmation := enum_word(registration_pb2.Reconfirmation, r.reconfirmation):
        row.append(reconfirmation)  # at RECONFIRMATION_AT; left off when never asked
    return [
        ["SET", registration_key(keys, registration_id), json.dumps(row, ensure_ascii=False, separators=(",", ":"))],
        ["ZADD", index_key(keys), 0, index_member(_millis(r.create_time), registration_id)],
    ]


def person(event, keys: Keyspace, meta: Meta) -> list[Command]:
    """ParticipantCreated or ParticipantUpdated: the whole profile as it is now, set again."""
    p = event.participant
    value = json.dumps([p.first_name, p.last_name, p.card_number, p.phone], ensure_ascii=False, separators=(",", ":"))
    # Keyed as participants.py keys the profile hash that readers of older generations join.
    return [["SET", person_key(keys, p.name.removeprefix("participants/")), value]]


HANDLES = [
    (catalog_events_pb2.SessionScheduled, session_scheduled),
    (catalog_events_pb2.SessionUpdated, session_updated),
    (participant_events_pb2.ParticipantCreated, person),
    (participant_events_pb2.ParticipantUpdated, person),
    *((payload, _registration) for payload in REGISTRATION_EVENTS),
]
