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

Taking a seat checks its buckets in that same order, which is also the precedence of the
reasons (ALREADY_REGISTERED, LIMIT_PER_PARTICIPANT, EVENT_FULL, POOL_FULL, SOLD_OUT): the
first conditional statement that returns no row is the refusal. A counter that grows is
checked in the very statement that moves it; one that shrinks (a seat given back) moves
unconditionally, and the CHECK constraints keep it from going negative. The only reads that
decide a write are `SELECT ... FOR UPDATE` of an occurrence_participants row about to lose a
seat (its row must go when the count reaches zero, and CHECK (live > 0) forbids passing
through zero) and of the seats themselves; pool membership (`pool_sessions`) is static
configuration written with the occurrence.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncConnection

from event_service.adapters.tables import (
    events,
    occurrence_participants,
    occurrences,
    pool_sessions,
    pools,
    seats,
    sessions,
)
from event_service.domain.ledger import (
    BookingSnapshot,
    PoolCount,
    Refusal,
    Seat,
    SeatChange,
    SeatRefused,
    SeatState,
    SessionCounts,
    counts_after_each,
)

_LIVE = [SeatState.HELD.value, SeatState.CONFIRMED.value]
_participants = occurrence_participants


def _seat(row: sa.Row) -> Seat:
    return Seat(id=row.id, session_id=row.session_id, occurrence_id=row.occurrence_id,
                participant_id=row.participant_id, state=SeatState(row.state), expires_at=row.expires_at,
                capacity_override=row.capacity_override, actor=row.actor, created_at=row.created_at,
                updated_at=row.updated_at)


@dataclass(frozen=True)
class Take:
    """The rules the one new live seat of a transaction must pass (the last change)."""

    enforce_capacity: bool  # False: an admin override skips the event, pool and session limits
    limit_per_participant: int | None


@dataclass(frozen=True)
class Applied:
    counts: SessionCounts  # of the change's session, right after the change
    version: int  # the session's aggregate version after the change


# --- reads -----------------------------------------------------------------------------------


async def booking_snapshot(connection: AsyncConnection, session_id: str, participant_id: str,
                           now: datetime) -> BookingSnapshot | None:
    """One plain read (one snapshot, no locks) of everything the rules look at: the fast path
    refuses an obviously full session with it before taking any lock."""
    s = sessions
    pool_rows = (
        sa.select(sa.func.coalesce(
            sa.func.jsonb_agg(sa.func.jsonb_build_array(pools.c.id, pools.c["limit"], pools.c.used)),
            sa.text("'[]'::jsonb")))
        .select_from(pool_sessions.join(pools, pools.c.id == pool_sessions.c.pool_id))
        .where(pool_sessions.c.session_id == s.c.id)
        .scalar_subquery()
    )
    query = (
        sa.select(
            s.c.id, s.c.occurrence_id, s.c.starts_at, s.c.booking_window_days, s.c.capacity, s.c.held,
            s.c.confirmed, events.c.status, events.c.max_sessions_per_participant,
            occurrences.c.capacity.label("occurrence_capacity"), occurrences.c.participants,
            sa.func.coalesce(
                sa.select(_participants.c.live).where(_participants.c.occurrence_id == s.c.occurrence_id,
                                                      _participants.c.participant_id == participant_id)
                .scalar_subquery(), 0).label("participant_live"),
            sa.exists().where(seats.c.session_id == s.c.id, seats.c.participant_id == participant_id,
                              seats.c.state.in_(_LIVE)).label("registered"),
            sa.exists().where(seats.c.occurrence_id == s.c.occurrence_id, seats.c.state == SeatState.HELD.value,
                              seats.c.expires_at <= now).label("due_holds"),
            sa.type_coerce(pool_rows, JSONB).label("pools"),
        )
        .select_from(s.join(events, events.c.id == s.c.event_id).join(occurrences, occurrences.c.id == s.c.occurrence_id))
        .where(s.c.id == session_id)
    )
    row = (await connection.execute(query)).first()
    if row is None:
        return None
    return BookingSnapshot(
        session_id=row.id, occurrence_id=row.occurrence_id, event_archived=row.status == "archived",
        starts_at=row.starts_at, booking_window_days=row.booking_window_days, capacity=row.capacity,
        held=row.held, confirmed=row.confirmed, occurrence_capacity=row.occurrence_capacity,
        occurrence_participants=row.participants, max_sessions_per_participant=row.max_sessions_per_participant,
        participant_live=row.participant_live, registered=row.registered, due_holds=row.due_holds,
        pools=tuple(sorted((PoolCount(pool_id, limit, used) for pool_id, limit, used in row.pools),
                           key=lambda pool: pool.pool_id)),
    )


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


async def insert_live(connection: AsyncConnection, seat: Seat) -> bool:
    """Adds a live seat; False when the participant has one in the session already (the
    partial unique index decides, waiting for a concurrent twin to commit or roll back)."""
    inserted = await connection.scalar(
        insert(seats).values(
            id=seat.id, session_id=seat.session_id, occurrence_id=seat.occurrence_id,
            participant_id=seat.participant_id, state=seat.state.value, expires_at=seat.expires_at,
            capacity_override=seat.capacity_override, actor=seat.actor, created_at=seat.created_at,
            updated_at=seat.updated_at,
        )
        .on_conflict_do_nothing(index_elements=[seats.c.session_id, seats.c.participant_id],
                                # literal, as in the index predicate: a bound parameter would not infer it
                                index_where=sa.text("state IN ('held', 'confirmed')"))
        .returning(seats.c.id)
    )
    return inserted is not None


# --- steps 2-5: the counters -----------------------------------------------------------------


async def apply(connection: AsyncConnection, changes: list[SeatChange], take: Take | None = None) -> list[Applied]:
    """Moves every counter the changes touch, in the fixed lock order, after their seat rows
    were written (step 1). With `take`, the last change is a new live seat whose buckets are
    checked on the way: the first one that refuses raises SeatRefused, and the caller's
    transaction rolls back. Returns the counts and version after each change."""
    if not changes:
        return []
    taken = changes[-1].seat if take is not None else None
    live_before = await _participants_step(connection, changes, taken, take)
    new_participant = False
    if taken is not None:
        # New to the occurrence once its due holds (if any) are given back: its only live seat is this one.
        key = (taken.occurrence_id, taken.participant_id)
        new_participant = live_before[key] + sum(
            c.live_delta for c in changes if (c.seat.occurrence_id, c.seat.participant_id) == key) == 1
    session_ids = sorted({c.seat.session_id for c in changes})
    membership = await _pools_of(connection, session_ids)
    await _occurrences_step(connection, changes, live_before, taken, take, new_participant)
    await _pools_step(connection, changes, membership, taken, take)
    versions = await _sessions_step(connection, changes, taken, take)
    final = await _counts(connection, session_ids, membership)
    after = counts_after_each(changes, final, live_before)
    # The session's version grew by one per change: number the changes in order.
    version = {sid: versions[sid] - sum(c.seat.session_id == sid for c in changes) for sid in versions}
    applied = []
    for change, counts in zip(changes, after):
        version[change.seat.session_id] += 1
        applied.append(Applied(counts, version[change.seat.session_id]))
    return applied


async def _participants_step(connection: AsyncConnection, changes: list[SeatChange], taken: Seat | None,
                             take: Take | None) -> dict[tuple[str, str], int]:
    """Step 2: each participant's live seats in the occurrence (invariant 4's limit, and the
    distinct participants of invariant 2: a row exists while the participant has a live seat).
    Returns the live count before the changes of every row it touched."""
    deltas: dict[tuple[str, str], int] = defaultdict(int)
    for change in changes:
        if change.live_delta:
            deltas[(change.seat.occurrence_id, change.seat.participant_id)] += change.live_delta
    taker = (taken.occurrence_id, taken.participant_id) if taken is not None else None
    before: dict[tuple[str, str], int] = {}
    p = _participants
    for key in sorted(deltas.keys() | ({taker} if taker else set())):
        occurrence_id, participant_id = key
        delta = deltas.get(key, 0)
        where = (p.c.occurrence_id == occurrence_id, p.c.participant_id == participant_id)
        if key == taker:
            assert take is not None
            limit = take.limit_per_participant
            if limit is not None and limit < 1:
                raise SeatRefused(Refusal.LIMIT_PER_PARTICIPANT, taken.session_id)
            if delta == 1:  # a plain take: insert the row or count one more, within the limit
                statement = (
                    insert(p).values(occurrence_id=occurrence_id, participant_id=participant_id, live=1)
                    .on_conflict_do_update(index_elements=[p.c.occurrence_id, p.c.participant_id],
                                           set_={"live": p.c.live + 1},
                                           where=(p.c.live + 1 <= limit) if limit is not None else None)
                    .returning(p.c.live)
                )
            else:  # the same transaction also gave back due holds of this participant
                statement = p.update().where(*where).values(live=p.c.live + delta).returning(p.c.live)
                if limit is not None:
                    statement = statement.where(p.c.live + delta <= limit)
            live = await connection.scalar(statement)
            if live is None:
                raise SeatRefused(Refusal.LIMIT_PER_PARTICIPANT, taken.session_id)
            before[key] = live - delta
            continue
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
                            live_before: dict[tuple[str, str], int], taken: Seat | None, take: Take | None,
                            new_participant: bool) -> None:
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
        check = (taken is not None and take is not None and take.enforce_capacity and new_participant
                 and occurrence_id == taken.occurrence_id)
        if delta == 0 and not check:
            continue
        statement = (occurrences.update().where(occurrences.c.id == occurrence_id)
                     .values(participants=occurrences.c.participants + delta).returning(occurrences.c.id))
        if check:
            statement = statement.where(occurrences.c.participants + delta <= occurrences.c.capacity)
        if await connection.scalar(statement) is None:
            if check:
                assert taken is not None
                raise SeatRefused(Refusal.EVENT_FULL, taken.session_id)
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


async def _pools_step(connection: AsyncConnection, changes: list[SeatChange], membership: dict[str, list[str]],
                      taken: Seat | None, take: Take | None) -> None:
    """Step 4: live seats across each pool's sessions (invariant 3)."""
    deltas: dict[str, int] = defaultdict(int)
    for change in changes:
        for pool_id in membership[change.seat.session_id]:
            deltas[pool_id] += change.live_delta
    checked = set(membership[taken.session_id]) if taken is not None and take and take.enforce_capacity else set()
    for pool_id in sorted(deltas):
        delta = deltas[pool_id]
        if delta == 0 and pool_id not in checked:
            continue
        statement = (pools.update().where(pools.c.id == pool_id).values(used=pools.c.used + delta)
                     .returning(pools.c.id))
        if pool_id in checked:
            statement = statement.where(pools.c.used + delta <= pools.c["limit"])
        if await connection.scalar(statement) is None:
            if pool_id in checked:
                assert taken is not None
                raise SeatRefused(Refusal.POOL_FULL, taken.session_id)
            raise RuntimeError(f"pool {pool_id} vanished")


async def _sessions_step(connection: AsyncConnection, changes: list[SeatChange], taken: Seat | None,
                         take: Take | None) -> dict[str, int]:
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
        check = taken is not None and take is not None and take.enforce_capacity and session_id == taken.session_id
        if check:
            statement = statement.where(s.c.held + s.c.confirmed + held[session_id] + confirmed[session_id]
                                        <= s.c.capacity)
        version = await connection.scalar(statement)
        if version is None:
            if check:
                raise SeatRefused(Refusal.SOLD_OUT, session_id)
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
