"""The participant view's pure parts, without Redis: the projection's commands (one key each,
at index 1, idempotent values), joining a registration with its session, the missed rule,
the tabs, page sizes and page tokens."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from kernel.errors import InvalidArgument
from kernel.pagination import encode_token
from reporting_service.keyspace import Keyspace
from reporting_service.participant_view import (
    SESSION_FIELDS,
    checked_page_size,
    entry_of,
    in_tab,
    is_missed,
    position_of,
    token_of,
)
from reporting_service.projections import participant_view as projection
from reporting_service.projections.store import Meta
from turnout.participant.v1 import registration_events_pb2 as events
from turnout.participant.v1 import registration_pb2 as rpb

START = datetime(2026, 12, 1, 7, 0, tzinfo=UTC)
NOW = (START + timedelta(hours=2)).timestamp()  # after the session (07:00-08:00)


def _registration(state: int = rpb.REGISTRATION_STATE_CONFIRMED, **values) -> rpb.Registration:
    values.setdefault("attendance", rpb.ATTENDANCE_EXPECTED)
    r = rpb.Registration(name="registrations/r1", participant="participants/p1", session="sessions/s1",
                         event="events/e1", state=state, registered_by="vol-1", **values)
    r.session_start_time.FromDatetime(START)
    r.session_end_time.FromDatetime(START + timedelta(hours=1))
    r.create_time.FromDatetime(START - timedelta(days=3))
    r.expire_time.FromDatetime(START - timedelta(days=2))
    return r


KEYS = Keyspace("t")
NO_SESSION = (None,) * len(SESSION_FIELDS)


def _commands(r: rpb.Registration, keys: Keyspace = KEYS) -> list:
    return projection.registration_changed(events.RegistrationCreated(registration=r), keys,
                                           Meta("2026-11-28T07:00:00Z", 1))


def test_commands_touch_one_key_each_built_by_the_keyspace() -> None:
    keys = Keyspace("t")
    commands = _commands(_registration(), keys)
    assert [(c[0], c[1]) for c in commands] == [
        ("SET", keys.participant_view_registration("r1")), ("ZADD", keys.participant_view_index("p1"))]
    member = commands[1][3]
    assert commands[1][2] == 0 and member == f"{int(START.timestamp() * 1000):013d}:r1"
    # Every event of the registration adds the same member: idempotent whatever the order.
    cancelled = _commands(_registration(rpb.REGISTRATION_STATE_CANCELLED))
    assert cancelled[1] == commands[1]
    value = json.loads(commands[0][2])
    assert (value["state"], value["attendance"], value["expire_time"]) == ("confirmed", "expected", "")
    held = json.loads(_commands(_registration(rpb.REGISTRATION_STATE_HELD))[0][2])
    assert held["expire_time"] == "2026-11-29T07:00:00.000000Z"


def _entry(state=rpb.REGISTRATION_STATE_CONFIRMED, session=NO_SESSION, now=NOW, **values):
    commands = _commands(_registration(state, **values))
    return entry_of(commands[1][3], json.loads(commands[0][2]), session, now, "p1")


def test_missed_is_a_confirmed_seat_in_an_ended_session_not_attended() -> None:
    assert is_missed("confirmed", "no_show", True) and is_missed("confirmed", "expected", True)
    assert not is_missed("confirmed", "attended", True)
    assert not is_missed("confirmed", "expected", False)
    assert not is_missed("cancelled", "expected", True) and not is_missed("held", "expected", True)
    assert _entry().missed
    assert not _entry(attendance=rpb.ATTENDANCE_ATTENDED).missed
    assert not _entry(rpb.REGISTRATION_STATE_CANCELLED).missed
    running = _entry(now=(START + timedelta(minutes=30)).timestamp())
    assert not running.missed and not running.ended


def test_the_session_hash_wins_over_the_recorded_times() -> None:
    recorded = _entry()
    assert (recorded.start_time, recorded.event_title, recorded.ended) == ("2026-12-01T07:00:00.000000Z", "", True)
    moved = dict.fromkeys(SESSION_FIELDS, "")
    moved.update(event_title="Стирка по вторникам", venue_id="v1", venue="Цветной",
                 start_time="2026-12-01T12:00:00.000000Z", end_time="2026-12-01T13:00:00.000000Z")
    entry = _entry(session=[moved[f] for f in SESSION_FIELDS])
    assert (entry.start_time, entry.event_title, entry.venue_id, entry.venue) == (
        "2026-12-01T12:00:00.000000Z", "Стирка по вторникам", "v1", "Цветной")
    assert not entry.ended and not entry.missed  # moved past `now`: upcoming again
    assert in_tab(entry, "upcoming") and in_tab(entry, "all") and not in_tab(entry, "past")
    assert in_tab(recorded, "past") and not in_tab(recorded, "upcoming")


def test_a_member_that_is_not_the_registrations_is_skipped() -> None:
    commands = _commands(_registration())
    value = json.loads(commands[0][2])
    session = (None,) * len(SESSION_FIELDS)
    assert entry_of(commands[1][3], value, session, NOW, "p1") is not None
    assert entry_of("0000000000001:r1", value, session, NOW, "p1") is None  # another start: stale
    assert entry_of(commands[1][3], value, session, NOW, "p2") is None
    assert entry_of(commands[1][3], None, session, NOW, "p1") is None


def test_page_sizes_and_tokens() -> None:
    assert (checked_page_size(0), checked_page_size(7), checked_page_size(10_000)) == (50, 7, 200)
    with pytest.raises(InvalidArgument) as bad:
        checked_page_size(-1)
    assert bad.value.violations[0].field == "page_size"
    token = token_of("p1", "past", "1764572400000:r1")
    assert position_of(token, "p1", "past") == "1764572400000:r1"
    assert position_of("", "p1", "past") is None
    for participant, when in (("p2", "past"), ("p1", "upcoming")):
        with pytest.raises(InvalidArgument) as bad:
            position_of(token, participant, when)
        assert bad.value.violations[0].field == "page_token"
    for forged in (encode_token(["x"]), encode_token(["x", "not-a-member"]), encode_token([1, 2]), "%%%"):
        with pytest.raises(InvalidArgument) as bad:
            position_of(forged, "p1", "past")
        assert bad.value.violations[0].field == "page_token"
