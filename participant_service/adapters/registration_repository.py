"""Registrations in Postgres."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from participant_service.adapters.tables import (
    LIVE_STATES,
    idempotency_keys,
    participants,
)
from participant_service.adapters.tables import registrations as t
from participant_service.domain.registrations import (
    Attendance,
    EndReason,
    Reconfirmation,
    Registration,
    SeatSync,
    SessionSnapshot,
    State,
)

_WAITING = (State.WAITLISTED.value, State.OFFERED.value)


def _position():
    """1-based place in the session's waitlist, for WAITLISTED rows; 0 otherwise."""
    ahead = t.alias("ahead")
    count = (sa.select(sa.func.count()).select_from(ahead)
             .where(ahead.c.session_id == t.c.session_id, ahead.c.state == State.WAITLISTED.value,
                    sa.tuple_(ahead.c.created_at, ahead.c.id) <= sa.tuple_(t.c.created_at, t.c.id))
             .scalar_subquery())
    return sa.case((t.c.state == State.WAITLISTED.value, count), else_=0).label("waitlist_position")


def _select():
    return sa.select(t, _position())


def _registration(row: sa.Row) -> Registration:
    return Registration(
        id=row.id, participant_id=row.participant_id,
        session=SessionSnapshot(row.session_id, row.event_id, row.session_starts_at, row.session_ends_at),
        state=State(row.state), registered_by=row.registered_by, created_at=row.created_at,
        updated_at=row.updated_at, expires_at=row.expires_at, seat_id=row.seat_id,
        seat_sync=SeatSync(row.seat_sync) if row.seat_sync else None, attendance=Attendance(row.attendance),
        attendance_comment=row.attendance_comment, comment=row.comment, capacity_override=row.capacity_override,
        cancelled_by=row.cancelled_by, end_reason=EndReason(row.end_reason) if row.end_reason else None,
        offer_attempts=row.offer_attempts, version=row.version, waitlist_position=getattr(row, "waitlist_position", 0) or 0,
        reconfirmation=Reconfirmation(row.reconfirmation) if row.reconfirmation else None,
        reconfirmation_deadline=row.reconfirmation_deadline,
    )


def _columns(r: Registration) -> dict:
    return dict(
        state=r.state.value, expires_at=r.expires_at, seat_id=r.seat_id,
        seat_sync=r.seat_sync.value if r.seat_sync else None, attendance=r.attendance.value,
        attendance_comment=r.attendance_comment, comment=r.comment, cancelled_by=r.cancelled_by,
        end_reason=r.end_reason.value if r.end_reason else None, offer_attempts=r.offer_attempts, updated_at=r.updated_at,
        version=r.version, reconfirmation=r.reconfirmation.value if r.reconfirmation else None,
        reconfirmation_deadline=r.reconfirmation_deadline,
    )


async def add(connection: AsyncConnection, r: Registration) -> None:
    await connection.execute(t.insert().values(
        id=r.id, participant_id=r.participant_id, session_id=r.session.session_id, event_id=r.session.event_id,
        session_starts_at=r.session.starts_at, session_ends_at=r.session.ends_at, registered_by=r.registered_by,
        capacity_override=r.capacity_override, created_at=r.created_at, **_columns(r)))


async def update(connection: AsyncConnection, r: Registration) -> None:
    await connection.execute(t.update().where(t.c.id == r.id).values(**_columns(r)))


async def get(connection: AsyncConnection, registration_id: str) -> Registration | None:
    row = (await connection.execute(_select().where(t.c.id == registration_id))).first()
    return _registration(row) if row else None


async def get_for_update(connection: AsyncConnection, registration_id: str) -> Registration | None:
    row = (await connection.execute(sa.select(t).where(t.c.id == registration_id).with_for_update())).first()
    return _registration(row) if row else None


async def many_for_update(connection: AsyncConnection, ids: Sequence[str]) -> dict[str, Registration]:
    rows = (await connection.execute(
        sa.select(t).where(t.c.id.in_(list(ids))).order_by(t.c.id).with_for_update())).all()
    return {row.id: _registration(row) for row in rows}


async def live_for(connection: AsyncConnection, participant_id: str, session_id: str) -> Registration | None:
    row = (await connection.execute(_select().where(
        t.c.participant_id == participant_id, t.c.session_id == session_id,
        t.c.state.in_(LIVE_STATES)))).first()
    return _registration(row) if row else None


async def participant_and_waitlist(connection: AsyncConnection, participant_id: str,
                                   session_id: str) -> tuple[bool, bool]:
    """Whether the participant exists, and whether anyone waits for (or has been offered) a
    seat of the session: one round trip."""
    row = (await connection.execute(sa.select(
        sa.exists().where(participants.c.id == participant_id),
        sa.exists().where(t.c.session_id == session_id, t.c.state.in_(_WAITING))))).one()
    return bool(row[0]), bool(row[1])


async def sessions_with_waitlist(connection: AsyncConnection, limit: int) -> list[str]:
    """Sessions whose waitlist has someone waiting and no offer outstanding."""
    offered = sa.select(t.c.session_id).where(t.c.state == State.OFFERED.value)
    rows = await connection.execute(
        sa.select(t.c.session_id).where(t.c.state == State.WAITLISTED.value, t.c.session_id.not_in(offered))
        .group_by(t.c.session_id).order_by(sa.func.min(t.c.created_at)).limit(limit))
    return [row.session_id for row in rows]


async def first_waiting_for_update(connection: AsyncConnection, session_id: str) -> Registration | None:
    """The head of a session's waitlist, locked; skipped while another replica offers it."""
    row = (await connection.execute(
        sa.select(t).where(t.c.session_id == session_id, t.c.state == State.WAITLISTED.value)
        .order_by(t.c.created_at, t.c.id).limit(1).with_for_update(skip_locked=True))).first()
    return _registration(row) if row else None


async def owing_seat_sync(connection: AsyncConnection, *, older_than: datetime, limit: int) -> list[str]:
    rows = await connection.execute(
        sa.select(t.c.id).where(t.c.seat_sync.is_not(None), t.c.updated_at <= older_than)
        .order_by(t.c.updated_at).limit(limit))
    return [row.id for row in rows]


async def lapsed(connection: AsyncConnection, *, now: datetime, limit: int) -> list[str]:
    """HELD or OFFERED registrations past their expiry that owe the ledger nothing."""
    rows = await connection.execute(
        sa.select(t.c.id).where(t.c.state.in_((State.HELD.value, State.OFFERED.value)), t.c.expires_at <= now,
                                t.c.seat_sync.is_(None))
        .order_by(t.c.expires_at).limit(limit))
    return [row.id for row in rows]


async def clear_seat_sync(connection: AsyncConnection, registration_id: str, seat_sync: SeatSync) -> None:
    """Records that the owed ledger call succeeded (only if the row still owes that call)."""
    await connection.execute(t.update().where(t.c.id == registration_id, t.c.seat_sync == seat_sync.value)
                             .values(seat_sync=None))


async def confirmed_unasked_for_update(connection: AsyncConnection, session_ids: Sequence[str], *,
                                      created_by: datetime) -> list[Registration]:
    """Confirmed registrations of the sessions never asked to reconfirm and made by
    `created_by` (the moment the occurrence started asking), locked in id order."""
    rows = await connection.execute(
        sa.select(t).where(t.c.session_id.in_(list(session_ids)), t.c.state == State.CONFIRMED.value,
                           t.c.reconfirmation.is_(None), t.c.created_at <= created_by)
        .order_by(t.c.id).with_for_update())
    return [_registration(row) for row in rows]


_AWAITING = sa.and_(t.c.state == State.CONFIRMED.value, t.c.reconfirmation == Reconfirmation.REQUESTED.value)


async def awaiting_answer_for_update(connection: AsyncConnection, session_ids: Sequence[str]) -> list[Registration]:
    """Registrations of the sessions still awaiting a reconfirmation answer, locked in id
    order. A row answered while this waited for its lock no longer matches and is skipped."""
    rows = await connection.execute(
        sa.select(t).where(t.c.session_id.in_(list(session_ids)), _AWAITING).order_by(t.c.id).with_for_update())
    return [_registration(row) for row in rows]


async def awaiting_answer_count(connection: AsyncConnection, now: datetime) -> int:
    """Requests still open for an answer (one of a cancelled occurrence stays requested, but
    its deadline passes)."""
    open_now = sa.or_(t.c.reconfirmation_deadline.is_(None), t.c.reconfirmation_deadline > now)
    return await connection.scalar(sa.select(sa.func.count()).select_from(t).where(_AWAITING, open_now)) or 0


async def in_sessions(connection: AsyncConnection, session_ids: Sequence[str], *, states: Sequence[State] = (),
                      owing: SeatSync | None = None) -> list[Registration]:
    """Registrations of the sessions, in the given states (all when none), or only those that
    still owe the ledger the call `owing`."""
    query = sa.select(t).where(t.c.session_id.in_(list(session_ids)))
    if states:
        query = query.where(t.c.state.in_([state.value for state in states]))
    if owing is not None:
        query = query.where(t.c.seat_sync == owing.value)
    return [_registration(row) for row in await connection.execute(query.order_by(t.c.id))]


async def claim_once(connection: AsyncConnection, key: str, method: str) -> bool:
    """Claims `key` in this transaction; False when some earlier transaction did (something
    to do once ever, such as one notification per registration)."""
    claimed = await connection.scalar(
        insert(idempotency_keys).values(request_id=key, method=method, fingerprint=method, outcome={})
        .on_conflict_do_nothing().returning(idempotency_keys.c.request_id))
    return claimed is not None


async def session_page(connection: AsyncConnection, session_id: str, *, states: Sequence[str],
                       after: tuple[datetime, str] | None, limit: int) -> list[Registration]:
    """A session's registrations in the order they were made, keyset on (created_at, id)."""
    query = _select().where(t.c.session_id == session_id)
    if states:
        query = query.where(t.c.state.in_(list(states)))
    if after is not None:
        query = query.where(sa.tuple_(t.c.created_at, t.c.id) > sa.tuple_(sa.literal(after[0], t.c.created_at.type), after[1]))
    rows = await connection.execute(query.order_by(t.c.created_at, t.c.id).limit(limit))
    return [_registration(row) for row in rows]


async def participant_page(connection: AsyncConnection, participant_id: str, *, now: datetime,
                           timing: str | None, states: Sequence[str], after: tuple[datetime, str] | None,
                           limit: int, registered_by: str | None = None) -> list[Registration]:
    """A participant's registrations by session start: upcoming soonest first, past (and
    unfiltered) latest first; keyset on (session_starts_at, id). `registered_by` narrows them
    to one booker's (a volunteer sees the ones they made)."""
    query = _select().where(t.c.participant_id == participant_id)
    if registered_by is not None:
        query = query.where(t.c.registered_by == registered_by)
    if states:
        query = query.where(t.c.state.in_(list(states)))
    ascending = timing == "upcoming"
    if timing == "upcoming":
        query = query.where(t.c.session_ends_at > now)
    elif timing == "past":
        query = query.where(t.c.session_ends_at <= now)
    if after is not None:
        position = sa.tuple_(sa.literal(after[0], t.c.session_starts_at.type), after[1])
        key = sa.tuple_(t.c.session_starts_at, t.c.id)
        query = query.where(key > position if ascending else key < position)
    order = (t.c.session_starts_at, t.c.id) if ascending else (t.c.session_starts_at.desc(), t.c.id.desc())
    rows = await connection.execute(query.order_by(*order).limit(limit))
    return [_registration(row) for row in rows]
