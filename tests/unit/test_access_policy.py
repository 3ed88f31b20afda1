"""The object-level access rules (issue 6), as pure functions: participant_service's
`domain.access`, event_service's `application.access` and reporting-service's participant
page rule."""

from __future__ import annotations

import pytest

from event_service.application import access as events
from kernel.errors import PermissionDenied
from participant_service.domain import access
from participant_service.domain.access import Caller
from reporting_service import participant_view

SYSTEM = Caller("system", frozenset())
ADMIN = Caller("ann", frozenset({"admin"}))
V1 = Caller("vol-1", frozenset({"volunteer"}))
V2 = Caller("vol-2", frozenset({"volunteer"}))
ANALYST = Caller("ana", frozenset({"analyst"}))
SERVICE = Caller("svc", frozenset({"service"}))
A = Caller("user-a", frozenset({"participant"}), "pa")
B = Caller("user-b", frozenset({"participant"}), "pb")


@pytest.mark.parametrize(("caller", "read", "update", "listing"), [
    (SYSTEM, True, True, True), (ADMIN, True, True, True), (V1, True, True, True), (SERVICE, True, True, True),
    (ANALYST, True, False, True), (A, True, True, False), (B, False, False, False),
])
def test_participants(caller, read, update, listing) -> None:
    assert access.may_read_participant(caller, "pa") is read
    assert access.may_update_participant(caller, "pa") is update
    assert access.may_list_participants(caller) is listing


def test_listing_participants_as_a_participant_names_the_query() -> None:
    with pytest.raises(PermissionDenied) as refused:
        access.check_list_participants(A)
    assert refused.value.metadata == {"field": "query"}
    access.check_list_participants(ANALYST)


def test_a_participant_changes_only_their_harmless_fields() -> None:
    assert access.fields_not_settable(A, ["first_name", "phone", "messenger_username"]) == []
    assert access.fields_not_settable(A, ["phone", "kind", "comment"]) == ["kind", "comment"]
    assert access.fields_not_settable(V1, ["kind", "comment"]) == []
    assert access.fields_not_settable(SYSTEM, ["kind"]) == []
    with pytest.raises(PermissionDenied) as refused:
        access.check_participant_fields(A, ["kind"])
    assert refused.value.reason == "FIELD_NOT_SETTABLE"
    assert refused.value.metadata == {"field": "update_mask.kind"}


@pytest.mark.parametrize(("caller", "owner", "allowed"), [
    (A, "user-a", True), (B, "user-a", False), (ADMIN, "user-a", True), (V1, "user-a", False),
    (V1, "vol-1", True), (SYSTEM, "user-a", True),
    # Drafts from before owners were recorded: admins (and the system) only.
    (A, None, False), (V1, None, False), (ADMIN, None, True), (SYSTEM, None, True),
])
def test_drafts_belong_to_whoever_started_them(caller, owner, allowed) -> None:
    assert access.may_use_draft(caller, owner) is allowed


@pytest.mark.parametrize(("caller", "seen"), [
    (SYSTEM, True), (ADMIN, True), (SERVICE, True), (ANALYST, True),
    (A, True), (B, False), (V1, True), (V2, False),
])
def test_who_sees_a_registration_of_a_made_by_volunteer_1(caller, seen) -> None:
    assert access.may_see_registration(caller, participant_id="pa", registered_by="vol-1") is seen


def test_a_volunteers_listing_is_narrowed_to_their_own_bookings() -> None:
    assert access.registrations_registered_by(V1, "pa") == "vol-1"
    for caller in (SYSTEM, ADMIN, SERVICE, ANALYST, Caller("both", frozenset({"admin", "volunteer"}))):
        assert access.registrations_registered_by(caller, "pa") is None
    # A volunteer who is also a participant sees all of their own.
    assert access.registrations_registered_by(Caller("v", frozenset({"volunteer", "participant"}), "pa"), "pa") is None
    assert access.may_list_participant_registrations(A, "pa")
    assert not access.may_list_participant_registrations(B, "pa")
    assert access.may_list_session_registrations(V1) and access.may_list_session_registrations(ANALYST)
    assert not access.may_list_session_registrations(A)


def test_attendance_is_the_desks() -> None:
    assert all(access.may_mark_attendance(c) for c in (SYSTEM, ADMIN, V1, SERVICE))
    assert not any(access.may_mark_attendance(c) for c in (A, ANALYST))


def test_catalog_writes_need_an_admin_when_the_call_carries_roles() -> None:
    assert events.may_write_catalog(frozenset())  # the system's own call
    assert events.may_write_catalog(frozenset({"admin"}))
    for roles in ({"participant"}, {"analyst"}, {"volunteer"}, {"service"}):
        assert not events.may_write_catalog(frozenset(roles))


def test_the_ledger_lets_a_participant_use_only_their_own_seats() -> None:
    assert events.may_use_seat_of("pa", roles=frozenset({"participant"}), caller_participant_id="pa")
    assert not events.may_use_seat_of("pa", roles=frozenset({"participant"}), caller_participant_id="pb")
    assert events.may_use_seat_of("pa", roles=frozenset({"volunteer"}), caller_participant_id="")
    assert events.may_use_seat_of("pa", roles=frozenset(), caller_participant_id="")


def test_a_participants_page_and_metrics_are_their_own() -> None:
    assert participant_view.may_read("pa", roles=frozenset({"participant"}), caller_participant_id="pa")
    assert not participant_view.may_read("pa", roles=frozenset({"participant"}), caller_participant_id="pb")
    assert participant_view.may_read("pa", roles=frozenset({"analyst"}), caller_participant_id="")
    assert participant_view.may_read("pa", roles=frozenset(), caller_participant_id="")
    with pytest.raises(PermissionDenied):
        participant_view.check_may_read("pa", roles=frozenset({"participant"}), caller_participant_id="pb")


def test_a_volunteers_view_of_a_participants_page_is_narrowed_to_their_bookings() -> None:
    def narrowed(roles: set[str], caller_participant_id: str = "") -> str | None:
        return participant_view.narrowed_to("pa", roles=frozenset(roles), actor="vol-1",
                                            caller_participant_id=caller_participant_id)

    assert narrowed({"volunteer"}) == "vol-1"
    assert narrowed({"volunteer", "participant"}, "pa") is None  # their own page
    for roles in ({"volunteer", "admin"}, {"analyst"}, {"participant"}, set()):
        assert narrowed(roles) is None
