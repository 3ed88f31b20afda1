"""Registration stats: per session (and so per event, service and venue) and per participant.

Each registration's latest state is kept under its id, in its session's hash and in its
participant's; counts are taken when read. A registration's events are ordered (one
aggregate, one partition) and each carries the whole registration, so setting its entry is
order-free across registrations and idempotent under replays.

A session entry reads "{state}|{attendance}|{reconfirmation}" (generations projected before
reconfirmations existed hold "{state}|{attendance}"; readers take both). The reconfirmation
is kept as the registration's own word, not its stats bucket, so the consistency check can
compare it with the command side as it is.
"""

from __future__ import annotations

from reporting_service.keyspace import Keyspace
from reporting_service.projections.payloads import REGISTRATION_EVENTS, enum_word
from reporting_service.projections.payloads import id_of as _id
from reporting_service.projections.store import Command, Meta
from turnout.event.v1 import catalog_events_pb2
from turnout.participant.v1 import registration_pb2


def session_scheduled(event: catalog_events_pb2.SessionScheduled, keys: Keyspace, meta: Meta) -> list[Command]:
    session, session_id = event.session, _id(event.session.name)
    return [["SADD", keys.event_sessions(_id(session.event)), session_id],
            ["HSET", keys.session_info(session_id), "event", _id(session.event), "service", _id(session.service),
             "venue", _id(session.venue)]]


def session_deleted(event: catalog_events_pb2.SessionDeleted, keys: Keyspace, meta: Meta) -> list[Command]:
    session_id = _id(event.name)
    return [["SREM", keys.event_sessions(_id(event.event)), session_id], ["DEL", keys.session_info(session_id)]]


def registration_changed(event, keys: Keyspace, meta: Meta) -> list[Command]:
    r = event.registration
    registration_id = _id(r.name)
    state = enum_word(registration_pb2.RegistrationState, r.state)
    attendance = enum_word(registration_pb2.Attendance, r.attendance)
    reconfirmation = enum_word(registration_pb2.Reconfirmation, r.reconfirmation)
    ends = r.session_end_time.seconds
    return [["HSET", keys.session_registrations(_id(r.session)), registration_id,
             f"{state}|{attendance}|{reconfirmation}"],
            ["HSET", keys.participant_registrations(_id(r.participant)), registration_id,
             f"{state}|{attendance}|{ends}"]]


HANDLES = [
    (catalog_events_pb2.SessionScheduled, session_scheduled),
    (catalog_events_pb2.SessionDeleted, session_deleted),
    *((payload, registration_changed) for payload in REGISTRATION_EVENTS),
]
