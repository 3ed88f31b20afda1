"""The rounds format (speed dating): balanced groups, round-robin schedules in which every
pair meets exactly once, determinism per seed, timing and validation. Pure, no I/O."""

from __future__ import annotations

import math
from collections import Counter
from datetime import UTC, datetime, timedelta
from itertools import combinations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from event_service.domain.rounds import (
    MAX_GROUP_SIZE,
    Round,
    RoundsFormat,
    new_rounds_format,
    round_robin,
    schedule,
    seed_for,
    split_into_groups,
)
from kernel.errors import InvalidArgument

STARTS = datetime(2026, 12, 5, 18, 0, tzinfo=UTC)
FMT = RoundsFormat(round_minutes=7, break_minutes=3, group_size=6)

ids = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=8)
participant_sets = st.sets(ids, max_size=60)
groups = st.sets(ids, max_size=25)
seeds = st.integers(min_value=0, max_value=2**64 - 1)
group_sizes = st.integers(min_value=2, max_value=12)
formats = st.builds(RoundsFormat, round_minutes=st.integers(1, 240), break_minutes=st.integers(0, 120),
                    group_size=group_sizes)

FAST = settings(max_examples=60, deadline=None)


def met(rounds: list[Round]) -> Counter:
    return Counter(frozenset(pair) for played in rounds for pair in played.pairs)


# --- round robin --------------------------------------------------------------------------


@FAST
@given(groups, seeds)
def test_every_pair_of_a_group_meets_exactly_once(group, seed):
    meetings = met(round_robin(group, seed))
    assert set(meetings) == {frozenset(pair) for pair in combinations(group, 2)}
    assert set(meetings.values()) <= {1}


@FAST
@given(groups, seeds)
def test_nobody_appears_twice_in_a_round(group, seed):
    for played in round_robin(group, seed):
        seated = [person for pair in played.pairs for person in pair]
        if played.resting is not None:
            seated.append(played.resting)
        assert len(seated) == len(set(seated))
        assert set(seated) == set(group)  # and nobody is left out of a round
        assert all(a < b for a, b in played.pairs)


@FAST
@given(groups, seeds)
def test_round_counts_and_rests(group, seed):
    rounds = round_robin(group, seed)
    n = len(group)
    assert [played.index for played in rounds] == list(range(len(rounds)))
    if n < 2:
        assert rounds == []
    elif n % 2 == 0:
        assert len(rounds) == n - 1
        assert all(len(played.pairs) == n // 2 and played.resting is None for played in rounds)
    else:
        assert len(rounds) == n
        assert all(len(played.pairs) == (n - 1) // 2 and played.resting is not None for played in rounds)
        assert sorted(played.resting for played in rounds) == sorted(group)  # everyone rests once


def test_small_groups():
    assert round_robin([], 1) == []
    assert round_robin(["solo"], 1) == []
    assert round_robin(["b", "a"], 1) == [Round(index=0, pairs=(("a", "b"),))]
    assert len(round_robin(["a", "b", "c"], 1)) == 3


@FAST
@given(st.data(), groups, seeds)
def test_round_robin_ignores_input_order_and_duplicates(data, group, seed):
    listed = data.draw(st.permutations(sorted(group)))
    assert round_robin(listed + listed[:3], seed) == round_robin(sorted(group), seed)


# --- groups -------------------------------------------------------------------------------


@FAST
@given(participant_sets, group_sizes, seeds)
def test_groups_are_balanced_and_never_exceed_the_size(people, size, seed):
    split = split_into_groups(people, size, seed)
    sizes = [len(group) for group in split]
    assert len(split) == math.ceil(len(people) / size)
    assert all(0 < s <= size for s in sizes)
    if sizes:
        assert max(sizes) - min(sizes) <= 1
        assert sizes == sorted(sizes, reverse=True)


@FAST
@given(participant_sets, group_sizes, seeds)
def test_every_participant_is_in_exactly_one_group(people, size, seed):
    everyone = [person for group in split_into_groups(people, size, seed) for person in group]
    assert sorted(everyone) == sorted(people)


@FAST
@given(st.data(), participant_sets, group_sizes, seeds)
def test_groups_depend_on_the_set_not_the_order(data, people, size, seed):
    listed = data.draw(st.permutations(sorted(people)))
    assert split_into_groups(listed + listed[:5], size, seed) == split_into_groups(sorted(people), size, seed)


def test_no_participants_no_groups_and_a_lone_one_gets_a_group_without_rounds():
    assert split_into_groups([], 4, 1) == []
    assert split_into_groups(["solo"], 4, 1) == [["solo"]]
    # Group size 2 with an odd count leaves one participant alone, with nobody to meet.
    plan = schedule(["a", "b", "c"], RoundsFormat(10, 5, 2), STARTS, 7)
    assert sorted(len(group.participants) for group in plan.groups) == [1, 2]
    assert [len(group.rounds) for group in plan.groups if len(group.participants) == 1] == [0]


@pytest.mark.parametrize("size", [0, 1, MAX_GROUP_SIZE + 1, True, "4"])
def test_split_refuses_a_bad_group_size(size):
    with pytest.raises(InvalidArgument) as refused:
        split_into_groups(["a", "b"], size, 1)
    assert [v.field for v in refused.value.violations] == ["rounds.group_size"]


# --- the schedule -------------------------------------------------------------------------


@FAST
@given(participant_sets, formats, seeds)
def test_schedule_covers_every_pair_within_each_group(people, fmt, seed):
    plan = schedule(people, fmt, STARTS, seed)
    assert sorted(p for group in plan.groups for p in group.participants) == sorted(people)
    for group in plan.groups:
        assert len(group.participants) <= fmt.group_size
        meetings = Counter(frozenset(pair) for played in group.rounds for pair in played.pairs)
        assert set(meetings) == {frozenset(pair) for pair in combinations(group.participants, 2)}
        assert set(meetings.values()) <= {1}


@FAST
@given(st.data(), participant_sets, formats, seeds)
def test_same_seed_and_permuted_input_give_the_same_schedule(data, people, fmt, seed):
    listed = data.draw(st.permutations(sorted(people)))
    assert schedule(listed, fmt, STARTS, seed) == schedule(sorted(people), fmt, STARTS, seed)


def test_different_seeds_usually_differ():
    people = [f"p{i:02d}" for i in range(20)]
    plans = {schedule(people, FMT, STARTS, seed).groups for seed in range(8)}
    assert len(plans) >= 6
    seatings = {tuple(round_robin(people[:6], seed)) for seed in range(8)}
    assert len(seatings) >= 6


@FAST
@given(participant_sets, formats, seeds)
def test_rounds_are_consecutive_and_do_not_overlap(people, fmt, seed):
    plan = schedule(people, fmt, STARTS, seed)
    length, gap = timedelta(minutes=fmt.round_minutes), timedelta(minutes=fmt.break_minutes)
    last_end = STARTS
    for group in plan.groups:
        previous = None
        for played in group.rounds:
            assert played.starts_at == STARTS + played.index * (length + gap)
            assert played.ends_at - played.starts_at == length
            if previous is not None:
                assert played.starts_at - previous.ends_at == gap
            previous = played
            last_end = max(last_end, played.ends_at)
    assert plan.ends_at == last_end
    assert plan.starts_at == STARTS and plan.seed == seed and plan.format == fmt


def test_a_worked_example():
    # 10 people, groups of at most 4: 3 groups of 4, 3, 3. The group of 4 has 3 rounds,
    # the groups of 3 have 3 rounds with a rest each; 7 min rounds + 3 min breaks.
    plan = schedule([f"p{i}" for i in range(10)], RoundsFormat(7, 3, 4), STARTS, seed_for("occ-1"))
    assert [len(group.participants) for group in plan.groups] == [4, 3, 3]
    assert [len(group.rounds) for group in plan.groups] == [3, 3, 3]
    first = plan.groups[0].rounds
    assert [r.starts_at for r in first] == [STARTS, STARTS + timedelta(minutes=10), STARTS + timedelta(minutes=20)]
    assert plan.ends_at == STARTS + timedelta(minutes=27)


def test_no_participants_schedule_ends_when_it_starts():
    plan = schedule([], FMT, STARTS, 1)
    assert plan.groups == () and plan.ends_at == STARTS


# --- seed and validation ------------------------------------------------------------------


def test_seed_is_stable_across_processes():
    # A fixed value: hash() is salted per process, sha256 is not.
    assert seed_for("occ-1") == 0x5DBA517E95D2A8B6
    assert seed_for("occ-1") != seed_for("occ-2")
    assert 0 <= seed_for("Цветной 2026-12-05") < 2**64


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"round_minutes": 0}, "rounds.round_minutes"),
        ({"round_minutes": 241}, "rounds.round_minutes"),
        ({"round_minutes": 7.5}, "rounds.round_minutes"),
        ({"break_minutes": -1}, "rounds.break_minutes"),
        ({"break_minutes": 121}, "rounds.break_minutes"),
        ({"group_size": 1}, "rounds.group_size"),
        ({"group_size": 101}, "rounds.group_size"),
        ({"group_size": False}, "rounds.group_size"),
    ],
)
def test_validation_names_the_field(changes, field):
    arguments = {"round_minutes": 7, "break_minutes": 3, "group_size": 6, **changes}
    with pytest.raises(InvalidArgument) as refused:
        new_rounds_format(**arguments)
    assert [v.field for v in refused.value.violations] == [field]
    with pytest.raises(InvalidArgument):
        schedule(["a", "b"], RoundsFormat(**arguments), STARTS, 1)


def test_validation_reports_every_field_at_once_and_accepts_the_bounds():
    with pytest.raises(InvalidArgument) as refused:
        new_rounds_format(round_minutes=0, break_minutes=-1, group_size=1)
    assert [v.field for v in refused.value.violations] == [
        "rounds.round_minutes", "rounds.break_minutes", "rounds.group_size"]
    assert new_rounds_format(round_minutes=1, break_minutes=0, group_size=2) == RoundsFormat(1, 0, 2)
    assert new_rounds_format(round_minutes=240, break_minutes=120, group_size=100) == RoundsFormat(240, 120, 100)
