"""The occurrence lifecycle and its timetable: allowed and refused transitions, the policy's
validation, catch-up after downtime, reminders and the next wake-up. Pure, no I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from event_service.domain.lifecycle import (
    FORWARD,
    MAX_REMINDERS,
    TRANSITIONS,
    Actor,
    InvalidTransition,
    LifecyclePolicy,
    OccurrenceState,
    allowed_targets,
    due_reminders,
    due_transitions,
    next_wakeup,
    prescribed_state,
    releases_unanswered,
    timetable,
    transition,
)
from kernel.errors import FailedPrecondition, InvalidArgument

S = OccurrenceState
H = timedelta(hours=1)
M = timedelta(minutes=1)
START = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)
END = START + 2 * H
POLICY = LifecyclePolicy()

ALLOWED = {
    (S.SCHEDULED, S.CONFIRMING), (S.SCHEDULED, S.CANCELLED),
    (S.CONFIRMING, S.READY), (S.CONFIRMING, S.CANCELLED),
    (S.READY, S.RUNNING), (S.READY, S.CANCELLED),
    (S.RUNNING, S.FINISHED),
}
PAIRS = [(current, target) for current in S for target in S]


# --- transitions -----------------------------------------------------------------------------


def test_the_transition_table_is_the_documented_diagram():
    assert {(current, target) for current, targets in TRANSITIONS.items() for target in targets} == ALLOWED
    assert [state for state in S if state.final] == [S.FINISHED, S.CANCELLED]


@pytest.mark.parametrize(("current", "target"), PAIRS, ids=[f"{c}->{t}" for c, t in PAIRS])
def test_an_admin_takes_exactly_the_allowed_steps(current, target):
    if (current, target) in ALLOWED:
        assert transition(current, target, by="admin") is target
        return
    with pytest.raises(InvalidTransition) as refused:
        transition(current, target, by=Actor.ADMIN)
    error = refused.value
    assert isinstance(error, FailedPrecondition)
    assert error.reason == "INVALID_TRANSITION"
    assert error.metadata["state"] == current.value and error.metadata["target"] == target.value
    assert error.metadata["by"] == "admin"
    assert current.value in error.message and target.value in error.message


@pytest.mark.parametrize(("current", "target"), PAIRS, ids=[f"{c}->{t}" for c, t in PAIRS])
def test_the_scheduler_takes_the_allowed_steps_forward_and_never_cancels(current, target):
    if (current, target) in ALLOWED and target is not S.CANCELLED:
        assert transition(current, target, by="scheduler") is target
        return
    with pytest.raises(InvalidTransition) as refused:
        transition(current, target, by=Actor.SCHEDULER)
    assert refused.value.reason == "INVALID_TRANSITION"
    assert refused.value.metadata["state"] == current.value
    assert current.value in refused.value.message


def test_refusals_say_what_is_wrong_and_what_is_allowed():
    with pytest.raises(InvalidTransition) as skipped:
        transition(S.SCHEDULED, S.RUNNING, by="admin")
    assert skipped.value.message == (
        "an occurrence that is scheduled cannot move to running (allowed: confirming, cancelled)")
    assert skipped.value.metadata == {"state": "scheduled", "target": "running", "by": "admin",
                                      "allowed": "confirming,cancelled"}

    with pytest.raises(InvalidTransition) as again:
        transition(S.CONFIRMING, S.CONFIRMING, by="scheduler")
    assert again.value.message == "the occurrence is already confirming (allowed: ready)"

    with pytest.raises(InvalidTransition) as cancelling:
        transition(S.READY, S.CANCELLED, by="scheduler")
    assert cancelling.value.message == (
        "the scheduler may not move an occurrence from ready to cancelled (allowed: running)")

    with pytest.raises(InvalidTransition) as final:
        transition(S.FINISHED, S.CANCELLED, by="admin")
    assert final.value.message == "an occurrence that is finished cannot move to cancelled (finished is final)"
    assert final.value.metadata["allowed"] == ""


def test_running_is_finished_early_not_cancelled():
    assert allowed_targets(S.RUNNING, by="admin") == {S.FINISHED}


def test_an_unknown_actor_is_a_programming_error():
    with pytest.raises(ValueError):
        transition(S.SCHEDULED, S.CONFIRMING, by="robot")


# --- the policy ------------------------------------------------------------------------------


def violations(**fields) -> dict[str, str]:
    with pytest.raises(InvalidArgument) as refused:
        LifecyclePolicy(**fields)
    return {v.field: v.description for v in refused.value.violations}


def test_the_defaults_are_the_issues():
    assert POLICY.confirming_before == 24 * H
    assert POLICY.reconfirmation_deadline_before == 2 * H
    assert POLICY.release_unanswered is True
    assert POLICY.reminders == (24 * H, 5 * M)


def test_reminders_are_kept_from_the_earliest_moment_to_the_latest():
    assert LifecyclePolicy(reminders=[5 * M, 24 * H, H]).reminders == (24 * H, H, 5 * M)
    assert LifecyclePolicy(reminders=()).reminders == ()


@pytest.mark.parametrize(("fields", "expected"), [
    ({"confirming_before": timedelta(0)}, {"lifecycle.confirming_before"}),
    ({"confirming_before": timedelta(days=31)}, {"lifecycle.confirming_before"}),
    ({"reconfirmation_deadline_before": timedelta(0)}, {"lifecycle.reconfirmation_deadline_before"}),
    ({"reconfirmation_deadline_before": -H}, {"lifecycle.reconfirmation_deadline_before"}),
    ({"reconfirmation_deadline_before": 24 * H}, {"lifecycle.reconfirmation_deadline_before"}),
    ({"confirming_before": 3 * H, "reconfirmation_deadline_before": 4 * H},
     {"lifecycle.reconfirmation_deadline_before"}),
    ({"release_unanswered": "yes"}, {"lifecycle.release_unanswered"}),
    ({"reminders": (H, timedelta(0))}, {"lifecycle.reminders[1]"}),
    ({"reminders": (-M,)}, {"lifecycle.reminders[0]"}),
    ({"reminders": (H, 2 * H, H)}, {"lifecycle.reminders[2]"}),
    ({"reminders": (timedelta(days=31),)}, {"lifecycle.reminders[0]"}),
    ({"reminders": tuple(n * M for n in range(1, MAX_REMINDERS + 2))}, {"lifecycle.reminders"}),
    ({"confirming_before": 60, "reminders": ("5m",)},
     {"lifecycle.confirming_before", "lifecycle.reminders[0]"}),
])
def test_a_bad_policy_is_refused_naming_each_field(fields, expected):
    assert set(violations(**fields)) == expected


def test_every_violation_is_reported_at_once_and_in_words():
    got = violations(confirming_before=timedelta(0), reconfirmation_deadline_before=timedelta(0),
                     reminders=(5 * M, 5 * M))
    assert got == {
        "lifecycle.confirming_before": "must be more than zero and at most 30 days",
        "lifecycle.reconfirmation_deadline_before": "must be more than zero: the deadline is before the start",
        "lifecycle.reminders[1]": "repeats the reminder 5 minutes before the start",
    }
    assert violations(reconfirmation_deadline_before=25 * H) == {
        "lifecycle.reconfirmation_deadline_before":
            "must be less than confirming_before (1 day): the deadline comes after confirmation begins"}


# --- the timetable ---------------------------------------------------------------------------


def test_the_timetable_of_the_defaults():
    table = timetable(START, END, POLICY)
    assert (table.confirming_at, table.ready_at, table.running_at, table.finished_at) == (
        START - 24 * H, START - 2 * H, START, END)
    assert table.moment(S.SCHEDULED) is None and table.moment(S.CANCELLED) is None


@pytest.mark.parametrize(("now", "expected"), [
    (START - 30 * H, S.SCHEDULED),
    (START - 24 * H - timedelta(microseconds=1), S.SCHEDULED),
    (START - 24 * H, S.CONFIRMING),  # a moment is due when it has come
    (START - 2 * H - M, S.CONFIRMING),
    (START - 2 * H, S.READY),
    (START - M, S.READY),
    (START, S.RUNNING),
    (END - M, S.RUNNING),
    (END, S.FINISHED),
    (END + 1000 * H, S.FINISHED),
])
def test_the_prescribed_state_at_each_boundary(now, expected):
    assert prescribed_state(START, END, now, POLICY) is expected


def test_the_scheduler_catches_up_step_by_step():
    assert due_transitions(S.SCHEDULED, START, END, START - 25 * H, POLICY) == []
    assert due_transitions(S.SCHEDULED, START, END, START - 24 * H, POLICY) == [S.CONFIRMING]
    assert due_transitions(S.SCHEDULED, START, END, START - H, POLICY) == [S.CONFIRMING, S.READY]
    # Down from before confirming until after the end: every state, in order.
    assert due_transitions(S.SCHEDULED, START, END, END, POLICY) == [
        S.CONFIRMING, S.READY, S.RUNNING, S.FINISHED]
    assert due_transitions(S.READY, START, END, START + M, POLICY) == [S.RUNNING]


def test_the_scheduler_never_moves_back_nor_touches_final_states():
    # An admin opened confirmations early and started early: the scheduler leaves it.
    assert due_transitions(S.CONFIRMING, START, END, START - 30 * H, POLICY) == []
    assert due_transitions(S.RUNNING, START, END, START - H, POLICY) == []
    assert due_transitions(S.RUNNING, START, END, END, POLICY) == [S.FINISHED]
    assert due_transitions(S.CANCELLED, START, END, END + H, POLICY) == []
    assert due_transitions(S.FINISHED, START, END, END + H, POLICY) == []


def test_an_occurrence_without_duration_still_runs_before_it_finishes():
    assert due_transitions(S.READY, START, START, START, POLICY) == [S.RUNNING, S.FINISHED]


def test_bad_times_are_programming_errors():
    with pytest.raises(ValueError):
        timetable(START, START - M, POLICY)
    with pytest.raises(ValueError):
        due_transitions(S.SCHEDULED, START, END, datetime(2026, 12, 1), POLICY)


# --- settling unanswered registrations -------------------------------------------------------


def test_unanswered_registrations_are_released_only_after_a_fair_chance_to_answer():
    on_time = releases_unanswered(POLICY, confirming_since=START - 24 * H, ready_at=START - 2 * H)
    assert on_time is True
    # Half the promised 22 h window is enough; less is not.
    assert releases_unanswered(POLICY, confirming_since=START - 13 * H, ready_at=START - 2 * H) is True
    assert releases_unanswered(POLICY, confirming_since=START - 13 * H + M, ready_at=START - 2 * H) is False
    # Caught up after downtime: confirming and ready entered at once.
    assert releases_unanswered(POLICY, confirming_since=START - H, ready_at=START - H) is False
    # The event keeps them whatever happens.
    keeping = LifecyclePolicy(release_unanswered=False)
    assert releases_unanswered(keeping, confirming_since=START - 24 * H, ready_at=START - 2 * H) is False


# --- reminders -------------------------------------------------------------------------------


def test_reminders_fire_at_their_moment_once_and_never_after_the_start():
    assert due_reminders(S.SCHEDULED, START, START - 24 * H - M, POLICY) == []
    assert due_reminders(S.SCHEDULED, START, START - 24 * H, POLICY) == [24 * H]
    assert due_reminders(S.CONFIRMING, START, START - 3 * H, POLICY, {24 * H}) == []
    assert due_reminders(S.READY, START, START - 5 * M, POLICY, {24 * H}) == [5 * M]
    assert due_reminders(S.READY, START, START - M, POLICY, {24 * H, 5 * M}) == []
    assert due_reminders(S.READY, START, START, POLICY) == []


def test_after_downtime_only_the_latest_reminder_is_sent():
    assert due_reminders(S.READY, START, START - 3 * M, POLICY) == [5 * M]
    # The 24 h reminder it superseded is not sent afterwards.
    assert due_reminders(S.READY, START, START - 2 * M, POLICY, {5 * M}) == []
    # A late reminder is still sent while the occurrence has not started.
    assert due_reminders(S.CONFIRMING, START, START - 3 * H, POLICY) == [24 * H]


def test_no_reminders_once_running_finished_or_cancelled():
    for state in (S.RUNNING, S.FINISHED, S.CANCELLED):
        assert due_reminders(state, START, START - 5 * M, POLICY) == []


def test_next_wakeup_of_the_defaults():
    assert next_wakeup(S.SCHEDULED, START, END, START - 30 * H, POLICY) == START - 24 * H
    assert next_wakeup(S.CONFIRMING, START, END, START - 24 * H, POLICY, {24 * H}) == START - 2 * H
    assert next_wakeup(S.READY, START, END, START - 2 * H, POLICY, {24 * H}) == START - 5 * M
    assert next_wakeup(S.READY, START, END, START - 5 * M, POLICY, {24 * H, 5 * M}) == START
    assert next_wakeup(S.RUNNING, START, END, START, POLICY) == END
    assert next_wakeup(S.FINISHED, START, END, END, POLICY) is None
    assert next_wakeup(S.CANCELLED, START, END, START - 30 * H, POLICY) is None


# --- properties ------------------------------------------------------------------------------

offsets = st.integers(min_value=1, max_value=48 * 60).map(lambda n: n * M)


@st.composite
def policies(draw) -> LifecyclePolicy:
    deadline = draw(st.integers(min_value=1, max_value=47 * 60))
    confirming = draw(st.integers(min_value=deadline + 1, max_value=48 * 60))
    reminders = draw(st.lists(offsets, max_size=MAX_REMINDERS, unique=True))
    return LifecyclePolicy(confirming_before=confirming * M, reconfirmation_deadline_before=deadline * M,
                           release_unanswered=draw(st.booleans()), reminders=tuple(reminders))


durations = st.integers(min_value=0, max_value=6 * 60).map(lambda n: n * M)
# Minutes around the start, so that boundaries are hit exactly and often.
moments = st.integers(min_value=-60 * 60, max_value=12 * 60).map(lambda n: START + n * M)
states = st.sampled_from(list(S))


def reach(state: OccurrenceState, starts_at, ends_at, now, policy) -> OccurrenceState:
    """Apply the due steps the way the scheduler does, each through `transition`."""
    for step in due_transitions(state, starts_at, ends_at, now, policy):
        state = transition(state, step, by="scheduler")
    return state


@settings(max_examples=200, deadline=None)
@given(states, durations, moments, policies())
def test_stepping_through_the_due_transitions_ends_where_the_timetable_says(state, duration, now, policy):
    ends_at = START + duration
    prescribed = prescribed_state(START, ends_at, now, policy)
    reached = reach(state, START, ends_at, now, policy)  # raises on any step that is not allowed
    if state.final:
        assert reached is state
    else:
        # Where the timetable says, unless an admin moved it further already.
        assert reached is max(state, prescribed, key=FORWARD.index)
    # Idempotent: asked again, nothing is due; that is what makes each transition happen once.
    assert due_transitions(reached, START, ends_at, now, policy) == []


@settings(max_examples=100, deadline=None)
@given(durations, policies(), st.lists(moments, min_size=1, max_size=12))
def test_a_scheduler_waking_at_any_moments_takes_each_step_once_and_in_order(duration, policy, ticks):
    ends_at = START + duration
    state, taken = S.SCHEDULED, []
    for now in sorted(ticks):
        steps = due_transitions(state, START, ends_at, now, policy)
        taken += steps
        state = reach(state, START, ends_at, now, policy)
    assert taken == list(FORWARD[1:FORWARD.index(state) + 1])
    assert state is prescribed_state(START, ends_at, max(ticks), policy)


@settings(max_examples=100, deadline=None)
@given(policies(), st.lists(moments, min_size=1, max_size=15), st.sampled_from([S.SCHEDULED, S.CONFIRMING, S.READY]))
def test_reminders_never_fire_twice_never_after_the_start_and_never_out_of_order(policy, ticks, state):
    sent: list[timedelta] = []
    for now in sorted(ticks):
        for offset in due_reminders(state, START, now, policy, set(sent)):
            assert offset not in sent
            assert START - offset <= now < START
            sent.append(offset)
    assert sent == sorted(sent, reverse=True)  # never "in 24 hours" after "in 5 minutes"
    assert set(sent) <= set(policy.reminders)


def apply_everything_due(state, ends_at, now, policy, sent: set[timedelta]) -> OccurrenceState:
    state = reach(state, START, ends_at, now, policy)
    sent.update(due_reminders(state, START, now, policy, sent))
    return state


def nothing_due(state, ends_at, now, policy, sent) -> bool:
    return not due_transitions(state, START, ends_at, now, policy) and not due_reminders(
        state, START, now, policy, sent)


@settings(max_examples=150, deadline=None)
@given(states, durations, moments, policies(), st.lists(offsets, max_size=3), st.floats(0, 1))
def test_next_wakeup_is_in_the_future_nothing_is_due_before_it_and_something_is_due_at_it(
        state, duration, now, policy, sent_before, fraction):
    ends_at = START + duration
    sent = set(sent_before) & set(policy.reminders)
    state = apply_everything_due(state, ends_at, now, policy, sent)
    wakeup = next_wakeup(state, START, ends_at, now, policy, sent)
    if wakeup is None:
        assert state.final  # an occurrence that is not final always has its end ahead
        return
    assert wakeup > now
    between = now + (wakeup - now) * fraction
    if between < wakeup:
        assert nothing_due(state, ends_at, between, policy, sent)
    assert not nothing_due(state, ends_at, wakeup, policy, sent)


@settings(max_examples=150, deadline=None)
@given(durations, policies(), moments)
def test_without_downtime_everything_happens_exactly_at_its_moment(duration, policy, first):
    """A scheduler that sleeps until each next_wakeup enters every state at its timetable
    moment and sends every reminder whose moment lies ahead, each at that moment."""
    ends_at = START + duration
    table = timetable(START, ends_at, policy)
    state, sent, now = S.SCHEDULED, set(), first
    entered, reminded = {}, {}
    for _ in range(20):
        for step in due_transitions(state, START, ends_at, now, policy):
            state = transition(state, step, by="scheduler")
            entered[step] = now
        for offset in due_reminders(state, START, now, policy, sent):
            sent.add(offset)
            reminded[offset] = now
        following = next_wakeup(state, START, ends_at, now, policy, sent)
        if following is None:
            break
        now = following
    assert state is S.FINISHED
    for step, at in entered.items():
        assert at == max(table.moment(step), first)
    assert {offset for offset in policy.reminders if START - offset > first} <= set(reminded)
    for offset, at in reminded.items():
        assert at == max(START - offset, first)
