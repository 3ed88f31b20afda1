"""The seat ledger in Postgres.

Invariants 1-4 of DESIGN.md §3 hold inside one transaction, enforced by the database and
never by a read in Python: each capacity bucket is a counter moved by a conditional
`UPDATE ... SET x = x + d WHERE ... AND x + d <= limit RETURNING ...` (no row back = refused),
and one live seat per (participant, session) is the partial unique index
`seats_one_live_per_participant`. Every ledger transaction (hold, book, confirm, release,
expire, sweep) takes its row locks in one fixed order, so none can deadlock another:

    1. seats               the seats it changes: one seat by id (confirm, release), or the
                           held seats that are due, in (expires_at, id) order (SKIP LOCKED by
                           the sweeper), then the new seat's INSERT, which waits on a live
                           twin through the unique index
    2. occurrence_participants   ordered by (occurrence id, participant id)
    3. occurrences         ordered by id
    4. pools               ordered by id
    5. sessions            ordered by id

Ids are ordered as Python's `sorted` orders them (code points; `COLLATE "C"` in SQL).

Taking a seat (HoldSeat, BookSeat) is one call of the PL/pgSQL function
`event_service.take_seat` (migration 0003, replaced by 0005), on the unit of work's asyncpg connection: it
claims the idempotency key (with the success outcome; a refusal rolls it back), reads the
session, its event, occurrence, pools and this participant in one plain snapshot, and when
no hold of the occurrence is due and that snapshot already refuses, returns every capacity
rule that refuses without writing or locking anything (the fast path; the caller applies the
precedence). Otherwise it runs the locked path: it expires the occurrence's due holds
(step 1), inserts the seat, then moves steps 2-5, checking the new seat's buckets in that
same order, which is also the precedence of the reasons (ALREADY_REGISTERED,
LIMIT_PER_PARTICIPANT, EVENT_FULL, POOL_FULL, SOLD_OUT): the first conditional statement
that changes no row is the refusal it returns, and the caller rolls the transaction back. An
admin override skips the event, pool and session checks. On success it returns each touched
session's counts and version after the changes and each touched participant's live count
before them, from which `counts_after_each` gives the counts every change publishes. The
session rules (archive, start, booking window) are judged in Python on the values it returns.
A cancelled or finished occurrence (OCCURRENCE_CLOSED) is refused by the fast path on the
snapshot and, under concurrency, by the locked path at step 3: the occurrence row is always
locked there (by the UPDATE that counts participants, else FOR SHARE) and its state judged on
the locked row, so a lifecycle step to a final state (an UPDATE of that row) and a take are
ordered by the row lock; confirming a hold takes the same FOR SHARE (`lock_open_occurrence`).

Confirm, release and expiry (`apply`) run the same steps from Python with SQLAlchemy.

A counter that grows is checked in the very statement that moves it; one that shrinks (a
seat given back) moves unconditionally, and the CHECK constraints keep it from going
negative. The only reads that decide a write are `SELECT ... FOR UPDATE` of an
occurrence_participants row about to lose a seat (its row must go when the count reaches
zero, and CHECK (live > 0) forbids passing through zero) and of the seats themselves; pool
membership (`pool_sessions`) is static configuration written with the occurrence.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from event_service.adapters.tables import (
    occurrence_participants,
    occurrences,
    pool_sessions,
    pools,
    seats,
    sessions,
)
from event_service.domain.ledger import (
    PoolCount,
    Refusal,
    Seat,
    SeatChange,
    SeatState,
    SessionCounts,
    counts_after_each,
)

_participants = occurrence_participants


def _seat(row: sa.Row) -> Seat:
    return Seat(id=row.id, session_id=row.session_id, occurrence_id=row.occurrence_id,
                participant_id=row.participant_id, state=SeatState(row.state), expires_at=row.expires_at,
                capacity_override=row.capacity_override, actor=row.actor, created_at=row.created_at,
                updated_at=row.updated_at)


@dataclass(frozen=True)
class Applied:
    counts: SessionCounts  # of the change's session, right after the change
    version: int  # the session's aggregate version after the change


# --- reads -----------------------------------------------------------------------------------


async def get(connection: AsyncConnection, seat_id: str) -> Seat | None:
    row = (await connection.execute(sa.select(seats).where(seats.c.id == seat_id))).first()
    return _seat(row) if row else None


async def is_due(connection: AsyncConnection, seat_id: str, now: datetime) -> bool:
    return bool(await connection.scalar(sa.select(sa.exists().where(
        seats.c.id == seat_id, seats.c.state == SeatState.HELD.value, seats.c.expires_at <= now))))


# --- step 1: seats ---------------------------------------------------------------------------


async def lock(connection: AsyncConnection, seat_id: str) -> Seat | None:
    row = (await connection.execute(sa.select(seats).where(seats.c.id == seat_id).with_for_update())).first()
    return _seat(row) if row else None


async def lock_due(connection: AsyncConnection, *, now: datetime, occurrence_id: str | None = None,
                   seat_id: str | None = None, limit: int | None = None, skip_locked: bool = False) -> list[Seat]:
    """Held seats whose time ran out, oldest first, locked in (expires_at, id) order (a total
    order that cannot change while the seat is held). Waiting (the default) means a
    concurrent sweep of the same seats finishes first and they drop out here (the WHERE is
    checked again on the committed row); the background sweeper skips what others hold."""
    query = sa.select(seats).where(seats.c.state == SeatState.HELD.value, seats.c.expires_at <= now)
    if occurrence_id is not None:
        query = query.where(seats.c.occurrence_id == occurrence_id)
    if seat_id is not None:
        query = query.where(seats.c.id == seat_id)
    query = query.order_by(seats.c.expires_at, seats.c.id).limit(limit).with_for_update(skip_locked=skip_locked)
    return [_seat(row) for row in await connection.execute(query)]


async def lock_open_occurrence(connection: AsyncConnection, occurrence_id: str) -> str | None:
    """Step 3 for a change that moves no occurrence counter (confirming a hold): locks the
    occurrence row FOR SHARE (a concurrent lifecycle step, an UPDATE of the row, waits for this
    transaction, or this waits for it and reads its result) and returns its lifecycle state."""
    return await connection.scalar(
        sa.select(occurrences.c.state).where(occurrences.c.id == occurrence_id).with_for_update(read=True))


async def move(connection: AsyncConnection, seat: Seat) -> None:
    """Writes a locked seat's new state."""
    await connection.execute(seats.update().where(seats.c.id == seat.id).values(
        state=seat.state.value, expires_at=seat.expires_at, updated_at=seat.updated_at))


async def move_all(connection: AsyncConnection, moved: list[Seat]) -> None:
    if moved:
        await connection.execute(
            seats.update().where(seats.c.id == sa.bindparam("seat_id")).values(
                state=sa.bindparam("new_state"), expires_at=sa.bindparam("new_expires_at"),
                updated_at=sa.bindparam("new_updated_at")),
            [{"seat_id": s.id, "new_state": s.state.value, "new_expires_at": s.expires_at,
              "new_updated_at": s.updated_at} for s in moved],
        )


# --- taking a seat: the whole transaction body in one call ----------------------------------


@dataclass(frozen=True)
class Taken:
    """What `event_service.take_seat` answered. `claimed` holds the stored (method,
    fingerprint, outcome) when the idempotency key was taken already (nothing else is set);
    `found` is False for an unknown session. The session rules' inputs come back in every
    other case; then either `refusals` (fast path: every capacity rule the plain read refuses,
    nothing written), or `refusal` (locked path: the bucket that refused; the caller rolls
    back), or the changes applied: the holds it expired on the way, then the new seat."""

    claimed: tuple[str, str, dict] | None = None
    found: bool = False
    occurrence_id: str = ""
    event_archived: bool = False
    starts_at: datetime | None = None
    booking_window_days: int = 0
    occurrence_state: str = ""  # in the snapshot, or the closed state the locked path found
    refusals: tuple[Refusal, ...] = ()
    refusal: Refusal | None = None
    seat: Seat | None = None  # the seat taken, in its occurrence
    expired: tuple[Seat, ...] = ()
    applied: tuple[Applied, ...] = ()


_TAKE_SEAT = "SELECT * FROM event_service.take_seat($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"


async def take(driver: Any, *, request_id: str, method: str, fingerprint: str, outcome: dict, seat: Seat,
               now: datetime, fast: bool) -> Taken:
    """Runs `event_service.take_seat` on the unit of work's asyncpg connection (`driver`):
    claims `request_id` (with `outcome`), reads, and unless the plain read refuses (`fast`)
    takes `seat` in the fixed lock order, giving back the occurrence's due holds first."""
    row = await driver.fetchrow(
        _TAKE_SEAT, request_id, method, fingerprint, json.dumps(outcome), seat.id, seat.session_id, seat.participant_id,
        seat.state.value, seat.expires_at, seat.capacity_override, seat.actor, now, fast)
    if row["claimed_method"] is not None:
        stored = row["claimed_outcome"]
        return Taken(claimed=(row["claimed_method"], row["claimed_fingerprint"],
                              json.loads(stored) if isinstance(stored, str) else stored))
    if not row["session_found"]:
        return Taken()
    base = dict(found=True, occurrence_id=row["occurrence_id"], event_archived=row["event_archived"],
                starts_at=row["starts_at"], booking_window_days=row["booking_window_days"],
                occurrence_state=row["occurrence_state"],
                refusals=tuple(Refusal(r) for r in row["refusals"] or ()))
    if row["refusal"] is not None or base["refusals"]:
        return Taken(**base, refusal=Refusal(row["refusal"]) if row["refusal"] is not None else None)
    changes = row["changes"]
    if isinstance(changes, str):
        changes = json.loads(changes)
    occurrence_id = row["occurrence_id"]
    expired = tuple(
        Seat(id=seat_id, session_id=session_id, occurrence_id=occurrence_id, participant_id=participant_id,
             state=SeatState.EXPIRED, expires_at=None, capacity_override=override, actor=actor,
             created_at=datetime.fromisoformat(created_at), updated_at=now)
        for seat_id, session_id, participant_id, override, actor, created_at in changes["expired"])
    final = {}
    versions = {}
    for sid, capacity, held, confirmed, occ, occ_capacity, occ_participants, version, pool_rows in changes["sessions"]:
        final[sid] = SessionCounts(session_id=sid, capacity=capacity, held=held, confirmed=confirmed,
                                   occurrence_id=occ, occurrence_capacity=occ_capacity,
                                   occurrence_participants=occ_participants,
                                   pools=tuple(PoolCount(pid, limit, used) for pid, limit, used in pool_rows))
        versions[sid] = version
    live_before = {(occurrence_id, pid): live for pid, live in changes["live_before"]}
    seat = replace(seat, occurrence_id=occurrence_id)
    seat_changes = [SeatChange(e, SeatState.HELD) for e in expired] + [SeatChange(seat, None)]
    return Taken(**base, seat=seat, expired=expired,
                 applied=tuple(_applied(seat_changes, final, live_before, versions)))


def is_lock_upgrade_race(error: BaseException) -> bool:
    """Postgres (seen on 18.6) sometimes aborts a statement that upgrades a row lock held as
    KEY SHARE (the foreign-key checks of the seat and participant inserts) to an update, while
    many transactions lock and update the same occurrence row and abort, with this internal
    error; its guard fired before anything was written wrong, and the transaction rolled
    back, so the command can simply run again."""
    return (getattr(error, "sqlstate", None) == "XX000"
            and "new multixact has more than one updating member" in str(error))


# --- steps 2-5: the counters of seats given back or confirmed --------------------------------


async def apply(connection: AsyncConnection, changes: list[SeatChange]) -> list[Applied]:
    """Moves every counter the changes (confirmations and seats given back; a seat is taken
    by `take`) touch, in the fixed lock order, after their seat rows were written (step 1).
    Returns the counts and version after each change."""
    if not changes:
        return []
    live_before = await _participants_step(connection, changes)
    session_ids = sorted({c.seat.session_id for c in changes})
    membership = await _pools_of(connection, session_ids)
    await _occurrences_step(connection, changes, live_before)
    await _pools_step(connection, changes, membership)
    versions = await _sessions_step(connection, changes)
    final = await _counts(connection, session_ids, membership)
    return _applied(changes, final, live_before, versions)


def _applied(changes: list[SeatChange], final: dict[str, SessionCounts], live_before: dict[tuple[str, str], int],
             versions: dict[str, int]) -> list[Applied]:
    """The counts and version after each change, from those after all of them."""
    after = counts_after_each(changes, final, live_before)
    # The session's version grew by one per change: number the changes in order.
    version = {sid: versions[sid] - sum(c.seat.session_id == sid for c in changes) for sid in versions}
    applied = []
    for change, counts in zip(changes, after):
        version[change.seat.session_id] += 1
        applied.append(Applied(counts, version[change.seat.session_id]))
    return applied


async def _participants_step(connection: AsyncConnection, changes: list[SeatChange]) -> dict[tuple[str, str], int]:
    """Step 2: each participant's live seats in the occurrence (invariant 4's limit, and the
    distinct participants of invariant 2: a row exists while the participant has a live seat).
    Returns the live count before the changes of every row it touched."""
    deltas: dict[tuple[str, str], int] = defaultdict(int)
    for change in changes:
        if change.live_delta:
            deltas[(change.seat.occurrence_id, change.seat.participant_id)] += change.live_delta
    before: dict[tuple[str, str], int] = {}
    p = _participants
    for key in sorted(deltas):
        occurrence_id, participant_id = key
        delta = deltas[key]
        where = (p.c.occurrence_id == occurrence_id, p.c.participant_id == participant_id)
        # Giving seats back: lock the row, then drop it at zero or count down.
        live = await connection.scalar(sa.select(p.c.live).where(*where).with_for_update())
        if live is None or live + delta < 0:
            raise RuntimeError(f"occurrence_participants {key} has {live} live seats, cannot give back {-delta}")
        before[key] = live
        if live + delta == 0:
            await connection.execute(p.delete().where(*where))
        else:
            await connection.execute(p.update().where(*where).values(live=p.c.live + delta))
    return before


async def _occurrences_step(connection: AsyncConnection, changes: list[SeatChange],
                            live_before: dict[tuple[str, str], int]) -> None:
    """Step 3: distinct live participants per occurrence (invariant 2)."""
    live = dict(live_before)
    deltas: dict[str, int] = defaultdict(int)
    for change in changes:
        key = (change.seat.occurrence_id, change.seat.participant_id)
        was = live.get(key, 0)
        live[key] = was + change.live_delta
        deltas[change.seat.occurrence_id] += int(live[key] > 0) - int(was > 0)
    for occurrence_id in sorted(deltas):
        delta = deltas[occurrence_id]
        if delta == 0:
            continue
        statement = (occurrences.update().where(occurrences.c.id == occurrence_id)
                     .values(participants=occurrences.c.participants + delta).returning(occurrences.c.id))
        if await connection.scalar(statement) is None:
            raise RuntimeError(f"occurrence {occurrence_id} vanished")


async def _pools_of(connection: AsyncConnection, session_ids: list[str]) -> dict[str, list[str]]:
    """Pool ids of each session (set when the catalog materialises the occurrence)."""
    rows = await connection.execute(
        sa.select(pool_sessions.c.session_id, pool_sessions.c.pool_id)
        .where(pool_sessions.c.session_id.in_(session_ids)).order_by(pool_sessions.c.pool_id))
    membership: dict[str, list[str]] = {sid: [] for sid in session_ids}
    for session_id, pool_id in rows:
        membership[session_id].append(pool_id)
    return membership


async def _pools_step(connection: AsyncConnection, changes: list[SeatChange], membership: dict[str, list[str]]) -> None:
    """Step 4: live seats across each pool's sessions (invariant 3)."""
    deltas: dict[str, int] = defaultdict(int)
    for change in changes:
        for pool_id in membership[change.seat.session_id]:
            deltas[pool_id] += change.live_delta
    for pool_id in sorted(deltas):
        delta = deltas[pool_id]
        if delta == 0:
            continue
        statement = (pools.update().where(pools.c.id == pool_id).values(used=pools.c.used + delta)
                     .returning(pools.c.id))
        if await connection.scalar(statement) is None:
            raise RuntimeError(f"pool {pool_id} vanished")


async def _sessions_step(connection: AsyncConnection, changes: list[SeatChange]) -> dict[str, int]:
    """Step 5: held and confirmed seats per session (invariant 1) and the session's aggregate
    version, one step per change. Returns each session's version after all the changes."""
    held: dict[str, int] = defaultdict(int)
    confirmed: dict[str, int] = defaultdict(int)
    count: dict[str, int] = defaultdict(int)
    for change in changes:
        sid = change.seat.session_id
        held[sid] += change.held_delta
        confirmed[sid] += change.confirmed_delta
        count[sid] += 1
    versions = {}
    for session_id in sorted(count):
        s = sessions
        statement = (s.update().where(s.c.id == session_id)
                     .values(held=s.c.held + held[session_id], confirmed=s.c.confirmed + confirmed[session_id],
                             version=s.c.version + count[session_id])
                     .returning(s.c.version))
        version = await connection.scalar(statement)
        if version is None:
            raise RuntimeError(f"session {session_id} vanished")
        versions[session_id] = version
    return versions


async def _counts(connection: AsyncConnection, session_ids: Iterable[str],
                  membership: dict[str, list[str]]) -> dict[str, SessionCounts]:
    """The counts of the sessions after the changes (rows this transaction changed are locked
    by it, so they read exactly its result)."""
    ids = list(session_ids)
    rows = (await connection.execute(
        sa.select(sessions.c.id, sessions.c.capacity, sessions.c.held, sessions.c.confirmed, sessions.c.occurrence_id,
                  occurrences.c.capacity.label("occurrence_capacity"), occurrences.c.participants)
        .select_from(sessions.join(occurrences, occurrences.c.id == sessions.c.occurrence_id))
        .where(sessions.c.id.in_(ids)))).all()
    pool_ids = sorted({pid for sid in ids for pid in membership[sid]})
    used = {row.id: PoolCount(row.id, row.limit, row.used) for row in await connection.execute(
        sa.select(pools.c.id, pools.c["limit"], pools.c.used).where(pools.c.id.in_(pool_ids)))} if pool_ids else {}
    return {
        row.id: SessionCounts(session_id=row.id, capacity=row.capacity, held=row.held, confirmed=row.confirmed,
                              occurrence_id=row.occurrence_id, occurrence_capacity=row.occurrence_capacity,
                              occurrence_participants=row.participants,
                              pools=tuple(used[pid] for pid in membership[row.id]))
        for row in rows
    }


async def counts(connection: AsyncConnection, session_id: str) -> SessionCounts | None:
    membership = await _pools_of(connection, [session_id])
    return (await _counts(connection, [session_id], membership)).get(session_id)
