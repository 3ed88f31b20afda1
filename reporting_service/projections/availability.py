"""Availability read models: seats of each session, distinct participants of each occurrence,
use of each pool.

Only order-free commands are projected, so that the interleaving of partitions and topics
cannot leave a stale figure behind: a session's counts come from its own ledger events
(one partition, in order); its capacity, update time and deletion are kept with the version
that set them (see `Keyspace.session_capacity`), since both topics carry them; an occurrence's participants are its live seats, set and
deleted seat by seat; a pool's use is summed from its sessions when read.
"""

from __future__ import annotations

from dataclasses import dataclass

from reporting_service.keyspace import Keyspace
from reporting_service.projections.payloads import id_of as _id
from reporting_service.projections.store import Command, Meta
from turnout.event.v1 import (
    catalog_events_pb2,
    ledger_events_pb2,
    seat_pb2,
    session_pb2,
)


DELETED = "deleted"


@dataclass(frozen=True)
class SessionHead:
    """What the newest version of a session says, whichever topic it came from."""

    capacity: int | None  # None: the session was deleted
    update_time: str  # "" in members written before update times were kept here


def _head(keys: Keyspace, session_id: str, capacity: int | str, meta: Meta) -> list[Command]:
    key = keys.session_capacity(session_id)
    # Keep only the newest version's member, whatever order the two commands' sources came in.
    return [["ZADD", key, meta.version, f"{meta.version}:{capacity}:{meta.occurred_at}"],
            ["ZREMRANGEBYRANK", key, 0, -2]]


def session_head(members: list[str]) -> SessionHead | None:
    """The newest member of `Keyspace.session_capacity` (ZREVRANGE 0 0), parsed; None if none."""
    if not members:
        return None
    _, capacity, *rest = members[0].split(":", 2)
    return SessionHead(None if capacity == DELETED else int(capacity), rest[0] if rest else "")


def _session(keys: Keyspace, session: session_pb2.Session, meta: Meta) -> list[Command]:
    session_id = _id(session.name)
    return [["HSET", keys.session_seats(session_id), "occurrence", _id(session.occurrence),
             "pools", ",".join(_id(p) for p in session.pools)],
            *_head(keys, session_id, session.capacity, meta),
            *(["SADD", keys.pool_sessions(_id(p)), session_id] for p in session.pools)]


def session_scheduled(event: catalog_events_pb2.SessionScheduled, keys: Keyspace, meta: Meta) -> list[Command]:
    occurrence_id = _id(event.occurrence.name)
    return [*_session(keys, event.session, meta),
            ["HSET", keys.occurrence(occurrence_id), "capacity", event.occurrence.capacity]]


def session_updated(event: catalog_events_pb2.SessionUpdated, keys: Keyspace, meta: Meta) -> list[Command]:
    return _session(keys, event.session, meta)


def session_deleted(event: catalog_events_pb2.SessionDeleted, keys: Keyspace, meta: Meta) -> list[Command]:
    session_id = _id(event.name)
    # A tombstone, not a DEL: a ledger event of an older version (seats released by the
    # deletion) may still arrive from the other topic and must not bring the session back.
    return [["DEL", keys.session_seats(session_id)], *_head(keys, session_id, DELETED, meta)]


def _seat_change(seat: seat_pb2.Seat, counts: seat_pb2.SessionCounts, keys: Keyspace,
                 meta: Meta) -> list[Command]:
    session_id, occurrence_id = _id(counts.session), _id(counts.occurrence)
    seat_id, participant_id = _id(seat.name), _id(seat.participant)
    live = seat.state in (seat_pb2.SEAT_STATE_HELD, seat_pb2.SEAT_STATE_CONFIRMED)
    commands: list[Command] = [
        ["HSET", keys.session_seats(session_id), "held", counts.held, "confirmed", counts.confirmed,
         "occurrence", occurrence_id, "pools", ",".join(_id(p.pool) for p in counts.pools)],
        *_head(keys, session_id, counts.capacity, meta),
        ["HSET", keys.occurrence(occurrence_id), "capacity", counts.occurrence_capacity],
        ["HSET", keys.occurrence_seats(occurrence_id), seat_id, participant_id] if live
        else ["HDEL", keys.occurrence_seats(occurrence_id), seat_id],
    ]
    for pool in counts.pools:
        commands.append(["HSET", keys.pool(_id(pool.pool)), "limit", pool.limit])
        commands.append(["SADD", keys.pool_sessions(_id(pool.pool)), session_id])
    return commands


def seat_held(event: ledger_events_pb2.SeatHeld, keys: Keyspace, meta: Meta) -> list[Command]:
    return _seat_change(event.seat, event.counts, keys, meta)


def seat_confirmed(event: ledger_events_pb2.SeatConfirmed, keys: Keyspace, meta: Meta) -> list[Command]:
    return _seat_change(event.seat, event.counts, keys, meta)


def seat_released(event: ledger_events_pb2.SeatReleased, keys: Keyspace, meta: Meta) -> list[Command]:
    return _seat_change(event.seat, event.counts, keys, meta)


def seat_expired(event: ledger_events_pb2.SeatExpired, keys: Keyspace, meta: Meta) -> list[Command]:
    return _seat_change(event.seat, event.counts, keys, meta)


HANDLES = [
    (catalog_events_pb2.SessionScheduled, session_scheduled),
    (catalog_events_pb2.SessionUpdated, session_updated),
    (catalog_events_pb2.SessionDeleted, session_deleted),
    (ledger_events_pb2.SeatHeld, seat_held),
    (ledger_events_pb2.SeatConfirmed, seat_confirmed),
    (ledger_events_pb2.SeatReleased, seat_released),
    (ledger_events_pb2.SeatExpired, seat_expired),
]
