"""The registration state machine and its rules, without I/O."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from kernel.errors import FailedPrecondition, InvalidArgument, PermissionDenied
from participant_service.domain import registrations as r
from participant_service.domain.registrations import Attendance, EndReason, SeatSync, State

NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)
ADMIN = dict(actor="admin-1", roles=frozenset({"admin"}), participant_id="")
SESSION = r.SessionSnapshot("s1", "e1", NOW + timedelta(days=1), NOW + timedelta(days=1, hours=1))


def booked(hold: bool = False, **changes) -> r.Registration:
    registration = r.new_registration(
        registration_id="r1", participant_id="p1", session=SESSION, now=NOW, registered_by="vol-1", comment="",
        hold=hold, seat_id="seat1", expires_at=NOW + timedelta(minutes=10), capacity_override=False)
    return replace(registration, **changes) if changes else registration


def test_a_booking_owes_its_confirmation_and_a_hold_does_not() -> None:
    assert (booked().state, booked().seat_sync, booked().expires_at) == (State.CONFIRMED, SeatSync.CONFIRM, None)
    held = booked(hold=True)
    assert (held.state, held.seat_sync, held.expires_at) == (State.HELD, None, NOW + timedelta(minutes=10))


def test_confirming_a_hold_before_and_after_its_expiry() -> None:
    confirmed = r.confirmed(booked(hold=True), NOW, **ADMIN)
    assert (confirmed.state, confirmed.seat_sync, confirmed.version) == (State.CONFIRMED, SeatSync.CONFIRM, 2)
    with pytest.raises(FailedPrecondition) as late:
        r.confirmed(booked(hold=True), NOW + timedelta(minutes=10), **ADMIN)
    assert late.value.reason == "HOLD_EXPIRED"
    with pytest.raises(PermissionDenied):
        r.confirmed(booked(hold=True), NOW, actor="p-2", roles=frozenset({"participant"}), participant_id="p2")
    with pytest.raises(FailedPrecondition) as cancelled:
        r.confirmed(booked(state=State.CANCELLED), NOW, **ADMIN)
    assert cancelled.value.reason == "REGISTRATION_NOT_ACTIVE"


@pytest.mark.parametrize(("actor", "roles", "participant_id", "allowed"), [
    ("admin-1", {"admin"}, "", True),
    ("vol-1", {"volunteer"}, "", True),  # registered them
    ("vol-2", {"volunteer"}, "", False),
    ("p-1", {"participant"}, "p1", True),  # themself
    ("p-2", {"participant"}, "p2", False),
    ("analyst", {"analyst"}, "", False),
])
def test_who_may_cancel(actor: str, roles: set[str], participant_id: str, allowed: bool) -> None:
    if allowed:
        cancelled = r.cancelled(booked(), NOW, actor=actor, roles=frozenset(roles), participant_id=participant_id)
        assert (cancelled.state, cancelled.cancelled_by, cancelled.seat_sync) == (State.CANCELLED, actor,
                                                                                  SeatSync.RELEASE)
    else:
        with pytest.raises(PermissionDenied):
            r.cancelled(booked(), NOW, actor=actor, roles=frozenset(roles), participant_id=participant_id)


def test_cancelling_an_offer_declines_it_and_leaving_a_waitlist_owes_no_seat() -> None:
    offer = booked(state=State.OFFERED)
    declined = r.cancelled(offer, NOW, actor="admin", roles=frozenset({"admin"}), participant_id="")
    assert (declined.state, declined.end_reason) == (State.DECLINED, EndReason.DECLINED)
    waiting = r.waitlisted(registration_id="w", participant_id="p1", session=SESSION, now=NOW,
                           registered_by="p", comment="")
    left = r.cancelled(waiting, NOW, actor="admin", roles=frozenset({"admin"}), participant_id="")
    assert (left.state, left.seat_sync) == (State.CANCELLED, None)


def test_offers_and_refused_offers() -> None:
    waiting = r.waitlisted(registration_id="w", participant_id="p1", session=SESSION, now=NOW,
                           registered_by="p", comment="")
    assert r.offer_refused(waiting).offer_attempts == 1 and r.offer_refused(waiting).version == waiting.version
    offer = r.offered(waiting, NOW, seat_id="s", expires_at=NOW + timedelta(minutes=15))
    assert (offer.state, offer.seat_id, offer.offer_attempts) == (State.OFFERED, "s", 1)
    with pytest.raises(FailedPrecondition):
        r.offered(offer, NOW, seat_id="s2", expires_at=NOW)


def test_attendance_applies_to_confirmed_registrations_and_missed_means_past_and_not_attended() -> None:
    confirmed = booked()
    attended = r.with_attendance(confirmed, NOW, Attendance.ATTENDED, "ok")
    assert attended is not None and attended.attendance is Attendance.ATTENDED
    assert r.with_attendance(attended, NOW, Attendance.ATTENDED, "ok") is None  # nothing changes
    with pytest.raises(FailedPrecondition):
        r.with_attendance(booked(hold=True), NOW, Attendance.ATTENDED, None)
    after = SESSION.ends_at + timedelta(minutes=1)
    assert confirmed.missed(after) and not attended.missed(after) and not confirmed.missed(NOW)
    assert not booked(state=State.CANCELLED).missed(after)


def test_participants_register_only_themselves() -> None:
    assert r.may_register_for("p1", roles=frozenset({"participant"}), participant_id="p1")
    assert not r.may_register_for("p2", roles=frozenset({"participant"}), participant_id="p1")
    assert r.may_register_for("p2", roles=frozenset({"participant", "volunteer"}), participant_id="p1")


def test_new_registration_input_is_checked_field_by_field() -> None:
    with pytest.raises(InvalidArgument) as refused:
        r.check_new_registration("x" * 1001, timedelta(hours=25), hold=False)
    assert {v.field for v in refused.value.violations} == {"comment", "hold_ttl"}
    r.check_new_registration("ok", timedelta(minutes=5), hold=True)
