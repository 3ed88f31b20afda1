"""The reconfirmation rules of a registration (participant_service/domain/registrations.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from kernel.errors import FailedPrecondition, PermissionDenied
from participant_service.domain import registrations as domain
from participant_service.domain.registrations import (
    Answer,
    Attendance,
    EndReason,
    Reconfirmation,
    Registration,
    SeatSync,
    SessionSnapshot,
    State,
)

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
DEADLINE = NOW + timedelta(hours=22)
OWNER = {"actor": "visitor:p1", "roles": frozenset({"participant"}), "participant_id": "p1"}


def confirmed(**changes) -> Registration:
    base = Registration(id="r1", participant_id="p1", session=SessionSnapshot("s1", "e1", NOW + timedelta(days=1),
                                                                            NOW + timedelta(days=1, hours=1)),
                        state=State.CONFIRMED, registered_by="vol-1", created_at=NOW, updated_at=NOW, seat_id="seat-1")
    return replace(base, **changes)


def asked(**changes) -> Registration:
    registration = domain.reconfirmation_requested(confirmed(), NOW, DEADLINE)
    assert registration is not None
    return replace(registration, **changes)


def test_a_confirmed_registration_is_asked_once_with_the_deadline() -> None:
    registration = asked()
    assert (registration.reconfirmation, registration.reconfirmation_deadline) == (Reconfirmation.REQUESTED, DEADLINE)
    assert registration.version == 2
    assert domain.reconfirmation_requested(registration, NOW, DEADLINE) is None, "asked once"
    assert domain.reconfirmation_requested(confirmed(state=State.HELD), NOW, DEADLINE) is None
    assert domain.reconfirmation_requested(confirmed(state=State.WAITLISTED, seat_id=None), NOW, DEADLINE) is None


def test_confirm_keeps_the_seat_and_confirming_again_changes_nothing() -> None:
    answered = domain.answered(asked(), NOW, Answer.CONFIRM, **OWNER)
    assert answered is not None
    assert (answered.state, answered.reconfirmation, answered.seat_sync) == (State.CONFIRMED,
                                                                             Reconfirmation.CONFIRMED, None)
    assert domain.answered(answered, NOW, Answer.CONFIRM, **OWNER) is None
    assert domain.answered(answered, DEADLINE + timedelta(hours=1), Answer.CONFIRM, **OWNER) is None


@pytest.mark.parametrize("before", [Reconfirmation.REQUESTED, Reconfirmation.CONFIRMED])
def test_decline_cancels_like_any_cancellation(before: Reconfirmation) -> None:
    declined = domain.answered(asked(reconfirmation=before), NOW, Answer.DECLINE, **OWNER)
    assert declined is not None
    assert declined.state is State.CANCELLED
    assert declined.end_reason is EndReason.RECONFIRMATION_DECLINED
    assert declined.reconfirmation is Reconfirmation.DECLINED
    assert declined.seat_sync is SeatSync.RELEASE, "the seat is owed back to the ledger"
    assert declined.cancelled_by == "visitor:p1"


@pytest.mark.parametrize(("registration", "answer", "where"), [
    (confirmed(), Answer.CONFIRM, "unspecified"),
    (confirmed(), Answer.DECLINE, "unspecified"),
    (asked(), Answer.CONFIRM, "requested"),  # at the deadline
    (asked(reconfirmation=Reconfirmation.CONFIRMED), Answer.DECLINE, "confirmed"),
    (asked(reconfirmation=Reconfirmation.UNANSWERED_KEPT), Answer.CONFIRM, "unanswered_kept"),
    (asked(reconfirmation=Reconfirmation.DECLINED, state=State.CANCELLED), Answer.DECLINE, "declined"),
])
def test_an_answer_when_none_is_awaited_is_closed(registration: Registration, answer: Answer, where: str) -> None:
    at = DEADLINE if registration.reconfirmation in (Reconfirmation.REQUESTED, Reconfirmation.CONFIRMED) else NOW
    with pytest.raises(FailedPrecondition) as refused:
        domain.answered(registration, at, answer, **OWNER)
    assert refused.value.reason == "RECONFIRMATION_CLOSED"
    assert refused.value.metadata == {"reconfirmation": where}


def test_only_the_participant_their_volunteer_or_an_admin_may_answer() -> None:
    with pytest.raises(PermissionDenied):
        domain.answered(asked(), NOW, Answer.CONFIRM, actor="visitor:p2", roles=frozenset({"participant"}),
                        participant_id="p2")
    assert domain.answered(asked(), NOW, Answer.CONFIRM, actor="vol-1", roles=frozenset({"volunteer"}),
                           participant_id="") is not None
    assert domain.answered(asked(), NOW, Answer.DECLINE, actor="boss", roles=frozenset({"admin"}),
                           participant_id="") is not None


def test_the_deadline_settles_what_is_still_unanswered() -> None:
    released = domain.unanswered(asked(), DEADLINE, release=True)
    assert released is not None
    assert (released.state, released.end_reason, released.reconfirmation, released.seat_sync) == (
        State.CANCELLED, EndReason.NOT_RECONFIRMED, Reconfirmation.UNANSWERED_RELEASED, SeatSync.RELEASE)
    assert released.cancelled_by == "system"
    kept = domain.unanswered(asked(), DEADLINE, release=False)
    assert kept is not None and (kept.state, kept.reconfirmation) == (State.CONFIRMED, Reconfirmation.UNANSWERED_KEPT)
    answered = domain.answered(asked(), NOW, Answer.CONFIRM, **OWNER)
    assert domain.unanswered(answered, DEADLINE, release=True) is None, "an answer stands"
    assert domain.unanswered(confirmed(), DEADLINE, release=True) is None, "never asked: nothing to settle"


def test_only_the_change_into_no_show_is_a_missed_attendance() -> None:
    present = confirmed()
    absent = replace(present, attendance=Attendance.NO_SHOW)
    assert domain.missed_attendance(present, absent)
    assert not domain.missed_attendance(absent, replace(absent, attendance_comment="again"))
    assert not domain.missed_attendance(present, replace(present, attendance=Attendance.ATTENDED))
