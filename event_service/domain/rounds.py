"""The rounds format (speed dating): participants split into balanced groups, each group a
round-robin in which every pair meets exactly once.

Pure: no I/O, no framework. Everything is a function of (the set of participant ids, the
format, the start time, the seed), so the same occurrence always gets the same schedule, and
the order in which the ids arrive (database order, a retry) never changes it.

Randomness: a `random.Random(seed)`, but only its `random()` method is used (our own
Fisher-Yates shuffle instead of `Random.shuffle`). Python guarantees that `random()` yields
the same sequence for the same int seed across versions; it does not promise that for
`shuffle`, and a schedule recomputed after an interpreter upgrade must match the one that
was published.

Edge cases, decided here:
* Participant ids are a set: duplicates collapse, input order is irrelevant.
* No participants: no groups, and the schedule ends when it starts.
* A group of fewer than two (one participant in total, or an odd number with group size 2):
  the group exists, so everyone is in exactly one group, but it has no rounds: there is
  nobody to meet. It is the only way a participant sits out the whole event.
* An odd group of n >= 3 has n rounds; in each, one participant rests (recorded in
  `Round.resting`), and everyone rests exactly once. An even group has n - 1 rounds, nobody
  rests.
* Groups run in parallel on the same clock: round i of every group starts at
  starts_at + i * (round + break). Groups whose sizes differ by one may have different round
  counts (4 -> 3 rounds, 5 -> 5 rounds); the schedule ends at the end of the last round of
  the longest group (no trailing break).
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from kernel.errors import Validator

MIN_ROUND_MINUTES = 1
MAX_ROUND_MINUTES = 240
MIN_BREAK_MINUTES = 0
MAX_BREAK_MINUTES = 120
MIN_GROUP_SIZE = 2
MAX_GROUP_SIZE = 100

_FIELD = "rounds"


@dataclass(frozen=True)
class RoundsFormat:
    """How an event runs its rounds: each round lasts `round_minutes`, `break_minutes` pass
    between rounds, and a group holds at most `group_size` participants."""

    round_minutes: int
    break_minutes: int
    group_size: int

    def validate(self) -> RoundsFormat:
        """Self, when every field is within bounds; otherwise InvalidArgument naming each bad
        field ("rounds.round_minutes", ...)."""
        check = Validator()
        _check_bounds(check, "round_minutes", self.round_minutes, MIN_ROUND_MINUTES, MAX_ROUND_MINUTES)
        _check_bounds(check, "break_minutes", self.break_minutes, MIN_BREAK_MINUTES, MAX_BREAK_MINUTES)
        _check_bounds(check, "group_size", self.group_size, MIN_GROUP_SIZE, MAX_GROUP_SIZE)
        check.raise_if_any()
        return self

    @property
    def slot(self) -> timedelta:
        """From the start of one round to the start of the next."""
        return timedelta(minutes=self.round_minutes + self.break_minutes)


def _check_bounds(check: Validator, name: str, value: object, low: int, high: int) -> None:
    field_name = f"{_FIELD}.{name}"
    if not isinstance(value, int) or isinstance(value, bool):
        check.add(field_name, "must be an integer")
    else:
        check.check(low <= value <= high, field_name, f"must be between {low} and {high}")


def new_rounds_format(*, round_minutes: int, break_minutes: int, group_size: int) -> RoundsFormat:
    """A validated format; every violation is reported at once."""
    return RoundsFormat(round_minutes=round_minutes, break_minutes=break_minutes, group_size=group_size).validate()


@dataclass(frozen=True)
class Round:
    """One round of a group: who sits with whom, and who rests (odd groups only).

    `index` is 0-based. Each pair is ordered (smaller id first); pairs are listed by table.
    """

    index: int
    pairs: tuple[tuple[str, str], ...]
    resting: str | None = None


@dataclass(frozen=True)
class ScheduledRound:
    index: int
    starts_at: datetime
    ends_at: datetime
    pairs: tuple[tuple[str, str], ...]
    resting: str | None = None


@dataclass(frozen=True)
class GroupSchedule:
    index: int  # 0-based
    participants: tuple[str, ...]
    rounds: tuple[ScheduledRound, ...]


@dataclass(frozen=True)
class RoundsSchedule:
    format: RoundsFormat
    seed: int
    starts_at: datetime
    ends_at: datetime  # end of the last round of any group; starts_at when there is none
    groups: tuple[GroupSchedule, ...]


def seed_for(occurrence_id: str) -> int:
    """A 64-bit seed from an occurrence id, the same in every process (hashlib, not the
    per-process salted `hash()`)."""
    return _digest_int(f"turnout.rounds:{occurrence_id}")


def _digest_int(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")


def _shuffled(items: list[str], seed: int) -> list[str]:
    """Fisher-Yates with `Random.random()` only: stable across Python versions (see module
    docstring). The bias of `int(random() * k)` for k <= a few thousand is negligible."""
    rng = random.Random(seed)
    result = list(items)
    for i in range(len(result) - 1, 0, -1):
        j = int(rng.random() * (i + 1))
        result[i], result[j] = result[j], result[i]
    return result


def _canonical(participant_ids: Iterable[str]) -> list[str]:
    return sorted(set(participant_ids))


def split_into_groups(participant_ids: Iterable[str], group_size: int, seed: int) -> list[list[str]]:
    """Balanced groups: ceil(n / group_size) of them, so none exceeds group_size, with sizes
    differing by at most one (the larger groups first). Duplicates collapse; the outcome
    depends only on the set of ids and the seed. No participants: no groups."""
    check = Validator()
    _check_bounds(check, "group_size", group_size, MIN_GROUP_SIZE, MAX_GROUP_SIZE)
    check.raise_if_any()
    people = _shuffled(_canonical(participant_ids), seed)
    if not people:
        return []
    count = math.ceil(len(people) / group_size)
    base, larger = divmod(len(people), count)
    groups: list[list[str]] = []
    start = 0
    for index in range(count):
        size = base + (1 if index < larger else 0)
        groups.append(people[start:start + size])
        start += size
    return groups


def round_robin(group: Iterable[str], seed: int) -> list[Round]:
    """Every pair of the group meets exactly once (the circle method).

    The seed only chooses the seating; the ids are a set, so their order does not matter.
    n even: n - 1 rounds of n/2 pairs. n odd: a phantom seat is added and whoever faces it
    rests, giving n rounds of (n-1)/2 pairs with everyone resting exactly once. Fewer than
    two: no rounds.
    """
    people = _shuffled(_canonical(group), seed)
    if len(people) < 2:
        return []
    # The phantom (None) takes the fixed seat, so the resting seat rotates through everyone.
    seats: list[str | None] = ([None] if len(people) % 2 else []) + list(people)
    size = len(seats)
    rounds: list[Round] = []
    for index in range(size - 1):
        pairs: list[tuple[str, str]] = []
        resting: str | None = None
        for table in range(size // 2):
            left, right = seats[table], seats[size - 1 - table]
            if left is None or right is None:
                resting = right if left is None else left
                continue
            pairs.append((left, right) if left < right else (right, left))
        rounds.append(Round(index=index, pairs=tuple(pairs), resting=resting))
        # Keep seat 0, rotate the others one step clockwise.
        seats = [seats[0], seats[-1], *seats[1:-1]]
    return rounds


def schedule(participant_ids: Iterable[str], fmt: RoundsFormat, starts_at: datetime, seed: int) -> RoundsSchedule:
    """Groups and their timed rounds. Round i of every group runs from
    starts_at + i * (round + break) for round_minutes; each group gets its own seed derived
    from `seed` and its index, so equal-sized groups are not seated alike."""
    fmt.validate()
    groups: list[GroupSchedule] = []
    ends_at = starts_at
    length = timedelta(minutes=fmt.round_minutes)
    for group_index, members in enumerate(split_into_groups(participant_ids, fmt.group_size, seed)):
        timed: list[ScheduledRound] = []
        for played in round_robin(members, _digest_int(f"turnout.rounds.group:{seed}:{group_index}")):
            begins = starts_at + played.index * fmt.slot
            timed.append(ScheduledRound(index=played.index, starts_at=begins, ends_at=begins + length,
                                        pairs=played.pairs, resting=played.resting))
        if timed:
            ends_at = max(ends_at, timed[-1].ends_at)
        groups.append(GroupSchedule(index=group_index, participants=tuple(members), rounds=tuple(timed)))
    return RoundsSchedule(format=fmt, seed=seed, starts_at=starts_at, ends_at=ends_at, groups=tuple(groups))



# --- an occurrence's schedule, once made ---------------------------------------------------


@dataclass(frozen=True)
class OccurrenceRounds:
    """The rounds schedule made for one occurrence (made once, then only read)."""

    occurrence_id: str
    event_id: str
    schedule: RoundsSchedule
    created_at: datetime

    def seen_by(self, participant_id: str) -> OccurrenceRounds | None:
        """What a participant may see: only their own group (the other groups are other
        people's pairings), or None when they are not in the schedule at all."""
        own = tuple(g for g in self.schedule.groups if participant_id in g.participants)
        if not own:
            return None
        return OccurrenceRounds(self.occurrence_id, self.event_id,
                                RoundsSchedule(format=self.schedule.format, seed=self.schedule.seed,
                                               starts_at=self.schedule.starts_at, ends_at=self.schedule.ends_at,
                                               groups=own),
                                self.created_at)


@dataclass(frozen=True)
class OccurrenceRoundsScheduled:
    """The rounds of an occurrence were scheduled (aggregate: the occurrence at `version`)."""

    rounds: OccurrenceRounds
    version: int
