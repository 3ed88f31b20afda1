"""The seat ledger's pure rules: booking window, start, archive, precedence of refusals, ttl
and name validation, counter deltas and the counts each change publishes."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from event_service.domain.ledger import (
    DEFAULT_TTL,
    MAX_TTL,
    PRECEDENCE,
    BookingSnapshot,
    PoolCount,
    Refusal,
    Seat,
    SeatChange,
    SeatRefused,
    SeatState,
    SessionCounts,
    counts_after_each,
    first_refusal,
    moved,
    new_seat,
    refusals,
    seat_id_from,
    session_refusal,
    take_request,
)
from kernel.errors import FailedPrecondition, InvalidArgument

NOW = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)
STARTS = NOW + timedelta(days=3)


def snapshot(**changes) -> BookingSnapshot:
    """An open, empty session of 10 seats in an occurrence of 100 (no limit, no pools)."""
    base = BookingSnapshot(
        session_id="s", occurrence_id="o", event_archived=False, starts_at=STARTS, booking_window_days=7,
        capacity=10, held=0, confirmed=0, occurrence_capacity=100, occurrence_participants=0,
        max_sessions_per_participant=None, participant_live=0, registered=False, due_holds=False, pools=())
    return replace(base, **changes)


def judged(override: bool = False, **changes) -> Refusal | None:
    return first_refusal(refusals(snapshot(**changes), now=NOW, override_capacity=override))


def violations(call, *args, **kwargs) -> dict[str, str]:
    with pytest.raises(InvalidArgument) as refused:
        call(*args, **kwargs)
    return {v.field: v.description for v in refused.value.violations}


# --- the session rules (invariant 5) ---------------------------------------------------------


def test_an_open_session_refuses_nothing():
    assert judged() is None


@pytest.mark.parametrize(("now", "expected"), [
    (STARTS - timedelta(days=7, microseconds=1), Refusal.OUTSIDE_BOOKING_WINDOW),
    (STARTS - timedelta(days=7), None),  # the window opens exactly booking_window_days before
    (STARTS - timedelta(microseconds=1), None),
    (STARTS, Refusal.SESSION_STARTED),  # a session that starts now has started
    (STARTS + timedelta(days=30), Refusal.SESSION_STARTED),
])
def test_booking_window_and_start(now, expected):
    assert session_refusal(now=now, starts_at=STARTS, booking_window_days=7, event_archived=False) is expected


def test_a_window_of_zero_days_opens_only_at_the_start_which_is_too_late():
    assert session_refusal(now=STARTS - timedelta(seconds=1), starts_at=STARTS, booking_window_days=0,
                           event_archived=False) is Refusal.OUTSIDE_BOOKING_WINDOW


def test_archived_wins_over_started_and_window():
    for now in (STARTS + timedelta(hours=1), STARTS - timedelta(days=30), NOW):
        assert session_refusal(now=now, starts_at=STARTS, booking_window_days=7,
                               event_archived=True) is Refusal.EVENT_ARCHIVED


# --- precedence ------------------------------------------------------------------------------


def test_precedence_is_the_documented_order():
    assert [r.value for r in PRECEDENCE] == [
        "EVENT_ARCHIVED", "OCCURRENCE_CLOSED", "SESSION_STARTED", "OUTSIDE_BOOKING_WINDOW", "ALREADY_REGISTERED",
        "LIMIT_PER_PARTICIPANT", "EVENT_FULL", "POOL_FULL", "SOLD_OUT"]


@given(st.sets(st.sampled_from(list(Refusal))))
def test_first_refusal_is_the_earliest_in_precedence(found):
    winner = first_refusal(list(found))
    if not found:
        assert winner is None
    else:
        assert winner in found
        assert all(PRECEDENCE.index(winner) <= PRECEDENCE.index(other) for other in found)


# Every rule broken at once, then fixed one by one from the top: each fix reveals the next.
EVERYTHING_WRONG = dict(event_archived=True, occurrence_state="cancelled", starts_at=NOW + timedelta(days=30),
                        registered=True,
                        max_sessions_per_participant=1, participant_live=1, occurrence_participants=100,
                        pools=(PoolCount("p", 5, 5),), held=6, confirmed=4)
FIXES = [
    (Refusal.EVENT_ARCHIVED, dict(event_archived=False)),
    (Refusal.OCCURRENCE_CLOSED, dict(occurrence_state="ready")),
    (Refusal.OUTSIDE_BOOKING_WINDOW, dict(starts_at=STARTS)),
    (Refusal.ALREADY_REGISTERED, dict(registered=False)),
    (Refusal.LIMIT_PER_PARTICIPANT, dict(max_sessions_per_participant=2, participant_live=0)),
    (Refusal.EVENT_FULL, dict(occurrence_participants=99)),
    (Refusal.POOL_FULL, dict(pools=(PoolCount("p", 5, 4),))),
    (Refusal.SOLD_OUT, dict(held=5)),
]


def test_every_rule_in_precedence_order():
    state = dict(EVERYTHING_WRONG)
    for expected, fix in FIXES:
        assert judged(**state) is expected
        state.update(fix)
    assert judged(**state) is None


def test_started_wins_over_everything_but_archived_and_closed():
    assert judged(**{**EVERYTHING_WRONG, "event_archived": False, "occurrence_state": "running",
                     "starts_at": NOW}) is Refusal.SESSION_STARTED


@pytest.mark.parametrize(("state", "expected"), [
    ("scheduled", None), ("confirming", None), ("ready", None), ("running", None),
    ("cancelled", Refusal.OCCURRENCE_CLOSED), ("finished", Refusal.OCCURRENCE_CLOSED),
])
def test_only_a_cancelled_or_finished_occurrence_is_closed(state, expected):
    assert judged(occurrence_state=state) is expected
    # Closed wins over the session rules below it, never over an archived event.
    if expected is not None:
        assert judged(occurrence_state=state, starts_at=NOW) is expected
        assert judged(occurrence_state=state, event_archived=True) is Refusal.EVENT_ARCHIVED


def test_a_closed_refusal_names_the_state():
    from event_service.domain.ledger import SeatRefused

    refused = SeatRefused(Refusal.OCCURRENCE_CLOSED, "s", occurrence_state="cancelled")
    assert (refused.reason, refused.message, refused.metadata) == (
        "OCCURRENCE_CLOSED", "the occurrence is cancelled", {"session": "sessions/s", "state": "cancelled"})
    assert SeatRefused(Refusal.OCCURRENCE_CLOSED, "s", occurrence_state="finished").message == \
        "the occurrence has finished"


def test_event_full_applies_only_to_a_newcomer():
    assert judged(occurrence_participants=100) is Refusal.EVENT_FULL
    assert judged(occurrence_participants=100, participant_live=1) is None


def test_limit_counts_live_seats_in_the_occurrence():
    assert judged(max_sessions_per_participant=2, participant_live=1) is None
    assert judged(max_sessions_per_participant=2, participant_live=2) is Refusal.LIMIT_PER_PARTICIPANT
    assert judged(max_sessions_per_participant=None, participant_live=50) is None


def test_any_full_pool_refuses():
    assert judged(pools=(PoolCount("a", 3, 1), PoolCount("b", 4, 4))) is Refusal.POOL_FULL
    assert judged(pools=(PoolCount("a", 3, 2), PoolCount("b", 4, 3))) is None


def test_sold_out_counts_held_and_confirmed():
    assert judged(held=9) is None
    assert judged(held=9, confirmed=1) is Refusal.SOLD_OUT
    assert judged(held=12) is Refusal.SOLD_OUT  # above capacity after an admin override


def test_override_skips_only_the_three_capacity_buckets():
    full = dict(occurrence_participants=100, pools=(PoolCount("p", 1, 1),), held=10)
    assert judged(**full) is Refusal.EVENT_FULL
    assert judged(override=True, **full) is None
    assert judged(override=True, registered=True, **full) is Refusal.ALREADY_REGISTERED
    assert judged(override=True, max_sessions_per_participant=1, participant_live=1, **full) is \
        Refusal.LIMIT_PER_PARTICIPANT
    assert judged(override=True, event_archived=True, **full) is Refusal.EVENT_ARCHIVED
    assert judged(override=True, starts_at=NOW, **full) is Refusal.SESSION_STARTED
    assert judged(override=True, starts_at=NOW + timedelta(days=8), **full) is Refusal.OUTSIDE_BOOKING_WINDOW


def test_a_refusal_is_a_failed_precondition_with_its_reason():
    refused = SeatRefused(Refusal.POOL_FULL, "s-1")
    assert isinstance(refused, FailedPrecondition)
    assert (refused.reason, refused.metadata) == ("POOL_FULL", {"session": "sessions/s-1"})


# --- validation ------------------------------------------------------------------------------


def test_ttl_defaults_to_ten_minutes_and_may_be_up_to_a_day():
    assert take_request(session="sessions/s", participant="participants/p", ttl=None, hold=True).ttl == DEFAULT_TTL
    assert DEFAULT_TTL == timedelta(minutes=10) and MAX_TTL == timedelta(hours=24)
    for ttl in (timedelta(microseconds=1), timedelta(seconds=1), MAX_TTL):
        assert take_request(session="sessions/s", participant="participants/p", ttl=ttl, hold=True).ttl == ttl


@pytest.mark.parametrize(("ttl", "description"), [
    (timedelta(0), "must be greater than zero"), (timedelta(seconds=-1), "must be greater than zero"),
    (MAX_TTL + timedelta(microseconds=1), "must be at most 24 hours"), (timedelta(days=10**6), "must be at most 24 hours"),
])
def test_bad_ttl_names_the_field(ttl, description):
    assert violations(take_request, session="sessions/s", participant="participants/p", ttl=ttl,
                      hold=True) == {"ttl": description}


def test_a_booking_has_no_ttl():
    assert take_request(session="sessions/s", participant="participants/p", ttl=None, hold=False).ttl is None


@pytest.mark.parametrize("name", ["", "participants", "participants/", "people/1", "participants/a/b",
                                  "participants/a\x00b", "participants/" + "x" * 129, "participants/ a",
                                  "Participants/1", "participants/-a"])
def test_malformed_participant_names_the_field(name):
    assert set(violations(take_request, session="sessions/s", participant=name, ttl=None, hold=True)) == {
        "participant"}


def test_every_bad_field_is_reported_at_once():
    assert set(violations(take_request, session="events/1", participant="p", ttl=timedelta(0), hold=True)) == {
        "session", "participant", "ttl"}


def test_seat_names():
    assert seat_id_from("seats/0b6f6f0e-3c1e-4a51-9f5e-1d4c1b7a0001") == "0b6f6f0e-3c1e-4a51-9f5e-1d4c1b7a0001"
    assert violations(seat_id_from, "sessions/1") == {"name": "must look like seats/{id}, got 'sessions/1'"}


# --- seats and what their changes do to the counters -----------------------------------------


def seat(state: SeatState = SeatState.HELD, participant: str = "p", session: str = "s") -> Seat:
    return Seat(id=f"{participant}-{session}", session_id=session, occurrence_id="o", participant_id=participant,
                state=state, expires_at=NOW + DEFAULT_TTL if state is SeatState.HELD else None,
                capacity_override=False, actor="a", created_at=NOW, updated_at=NOW)


def test_new_seat_is_held_until_the_ttl_or_confirmed_at_once():
    request = take_request(session="sessions/s", participant="participants/p", ttl=timedelta(minutes=3), hold=True)
    held = new_seat(seat_id="x", request=request, occurrence_id="o", now=NOW, override_capacity=True, actor="al")
    assert (held.state, held.expires_at, held.capacity_override, held.actor) == (
        SeatState.HELD, NOW + timedelta(minutes=3), True, "al")
    booked = new_seat(seat_id="y", request=replace(request, ttl=None), occurrence_id="o", now=NOW,
                      override_capacity=False, actor="al")
    assert (booked.state, booked.expires_at) == (SeatState.CONFIRMED, None)


def test_a_hold_is_due_when_its_time_is_up():
    held = seat()
    assert not held.due(NOW + DEFAULT_TTL - timedelta(microseconds=1))
    assert held.due(NOW + DEFAULT_TTL)
    assert not moved(held, SeatState.CONFIRMED, NOW).due(NOW + timedelta(days=1))


def test_only_a_held_seat_keeps_an_expiry():
    for state in (SeatState.CONFIRMED, SeatState.RELEASED, SeatState.EXPIRED):
        assert moved(seat(), state, NOW).expires_at is None


@pytest.mark.parametrize(("before", "after", "deltas"), [
    (None, SeatState.HELD, (1, 1, 0)), (None, SeatState.CONFIRMED, (1, 0, 1)),
    (SeatState.HELD, SeatState.CONFIRMED, (0, -1, 1)), (SeatState.HELD, SeatState.RELEASED, (-1, -1, 0)),
    (SeatState.HELD, SeatState.EXPIRED, (-1, -1, 0)), (SeatState.CONFIRMED, SeatState.RELEASED, (-1, 0, -1)),
])
def test_change_deltas(before, after, deltas):
    change = SeatChange(seat(after), before)
    assert (change.live_delta, change.held_delta, change.confirmed_delta) == deltas


def test_counts_after_each_change_replay_a_batch():
    """Two holds of p expire and q takes a seat, in one transaction: each message carries the
    counts right after its own change, and the last one the final counts."""
    final = SessionCounts("s", capacity=3, held=1, confirmed=1, occurrence_id="o", occurrence_capacity=5,
                          occurrence_participants=2, pools=(PoolCount("pl", 4, 2),))
    changes = [SeatChange(moved(seat(participant="p"), SeatState.EXPIRED, NOW), SeatState.HELD),
               SeatChange(moved(seat(participant="p2"), SeatState.EXPIRED, NOW), SeatState.HELD),
               SeatChange(seat(participant="q"), None)]
    # Before: held 2 (p, p2) + q's none; p and p2 had one live seat each, and r a confirmed one.
    after = counts_after_each(changes, {"s": final}, {("o", "p"): 1, ("o", "p2"): 1, ("o", "q"): 0})
    assert [(c.held, c.confirmed, c.occurrence_participants, c.pools[0].used) for c in after] == [
        (1, 1, 2, 2), (0, 1, 1, 1), (1, 1, 2, 2)]
    assert after[-1] == final
