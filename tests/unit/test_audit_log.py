"""The audit trail's pure parts: the commands of one entry, and reading a target filter."""

from __future__ import annotations

import pytest

from kernel.errors import InvalidArgument
from reporting_service.api.audit import target_name, target_of
from reporting_service.audit_log import entry_commands, member
from reporting_service.keyspace import Keyspace

KEYS = Keyspace(prefix="t")
ENTRY = {"entry_id": "e1", "at_iso": "2026-03-01T09:00:00.250Z", "actor": "alice", "request_id": "r1",
         "command": "turnout.participant.v1.RegistrationCreated", "target_type": "registration", "target_id": "x"}


def test_an_entry_is_a_hash_and_one_member_in_each_index() -> None:
    commands = entry_commands(KEYS, **ENTRY)
    ms = 1772355600250
    mine = f"{ms:013d}:e1"
    assert commands[0][:2] == ["HSET", "t:audit:entry:e1"]
    fields = dict(zip(commands[0][2::2], commands[0][3::2], strict=True))
    assert fields["at_ms"] == str(ms) and fields["command"] == ENTRY["command"] and fields["detail"] == ""
    assert commands[1:] == [["ZADD", "t:audit:all", 0, mine], ["ZADD", "t:audit:actor:alice", 0, mine],
                            ["ZADD", "t:audit:target:registration/x", 0, mine]]
    # Pure and deterministic: the same entry gives the same (idempotent) commands.
    assert entry_commands(KEYS, **ENTRY) == commands


def test_an_entry_without_actor_is_in_no_actor_index() -> None:
    commands = entry_commands(KEYS, **{**ENTRY, "actor": ""})
    assert not any(c[1].startswith("t:audit:actor:") for c in commands)


def test_members_sort_by_time_then_entry_id() -> None:
    assert sorted([member(1000, "b"), member(999, "z"), member(1000, "a")]) == [
        member(999, "z"), member(1000, "a"), member(1000, "b")]


@pytest.mark.parametrize("target, expected", [
    ("registrations/r1", ("registration", "r1")), ("sessions/s1", ("session", "s1")),
    ("participants/p1", ("participant", "p1")),
])
def test_a_target_maps_to_an_aggregate(target, expected) -> None:
    assert target_of(target) == expected
    assert target_name(*expected) == target


@pytest.mark.parametrize("target", ["registrations", "registrations/", "/x", "a/b/c"])
def test_a_malformed_target_is_refused(target) -> None:
    with pytest.raises(InvalidArgument):
        target_of(target)
