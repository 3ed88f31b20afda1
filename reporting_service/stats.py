"""Registration stats read from the projected registration states (projections/stats.py)
and the availability read model: per session, per event (by session, service and venue) and
per participant."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Self

import redis.asyncio as aioredis

from reporting_service.keyspace import Keyspace
from reporting_service.read_models import ReadModels

STATES = ("held", "confirmed", "waitlisted", "offered", "cancelled", "declined", "expired")
ATTENDANCE = ("expected", "attended", "no_show")
RECONFIRMATION = ("confirmed", "declined", "no_answer")
# A registration's reconfirmation (projections/stats.py keeps the word) -> its bucket in
# RECONFIRMATION. Not asked ("") counts in none. Whether an unanswered seat was kept or
# released, nobody answered: the released one also shows as cancelled by state.
RECONFIRMATION_BUCKETS = {"confirmed": "confirmed", "declined": "declined", "requested": "no_answer",
                          "unanswered_kept": "no_answer", "unanswered_released": "no_answer"}


@dataclass
class RegistrationCounts:
    by_state: Counter = field(default_factory=Counter)
    # Attendance of confirmed registrations.
    by_attendance: Counter = field(default_factory=Counter)
    # Registrations asked to reconfirm, by RECONFIRMATION bucket, whatever their state.
    by_reconfirmation: Counter = field(default_factory=Counter)

    @classmethod
    def of(cls, entries: Iterable[str]) -> RegistrationCounts:
        counts = cls()
        for entry in entries:
            # Entries projected before reconfirmations existed have no third field.
            state, attendance, reconfirmation = (entry.split("|") + [""])[:3]
            counts.by_state[state] += 1
            if state == "confirmed":
                counts.by_attendance[attendance] += 1
            if bucket := RECONFIRMATION_BUCKETS.get(reconfirmation):
                counts.by_reconfirmation[bucket] += 1
        return counts

    def __iadd__(self, other: RegistrationCounts) -> Self:
        self.by_state.update(other.by_state)
        self.by_attendance.update(other.by_attendance)
        self.by_reconfirmation.update(other.by_reconfirmation)
        return self

    @property
    def registered(self) -> int:
        """Registrations holding a seat: confirmed, held, and waitlist offers."""
        return self.by_state["confirmed"] + self.by_state["held"] + self.by_state["offered"]


@dataclass
class SessionStats:
    session_id: str
    event_id: str
    service_id: str
    venue_id: str
    counts: RegistrationCounts
    capacity: int
    seats_left: int


@dataclass
class GroupStats:
    key: str
    counts: RegistrationCounts = field(default_factory=RegistrationCounts)
    capacity: int = 0
    seats_left: int = 0

    def add(self, session: SessionStats) -> None:
        self.counts += session.counts
        self.capacity += session.capacity
        self.seats_left += session.seats_left


@dataclass
class EventStats:
    event_id: str
    totals: GroupStats
    sessions: list[SessionStats]
    by_service: list[GroupStats]
    by_venue: list[GroupStats]


@dataclass(frozen=True)
class ParticipantMetrics:
    participant_id: str
    registrations: int  # every registration that took a seat or a waitlist place
    cancellations: int
    attended: int
    no_shows: int  # ended sessions with a confirmed seat not attended
    upcoming: int  # confirmed or held seats in sessions not ended

    @property
    def no_show_rate(self) -> float:
        ended = self.attended + self.no_shows
        return self.no_shows / ended if ended else 0.0


def participant_metrics(participant_id: str, entries: Iterable[str], now_epoch: float) -> ParticipantMetrics:
    registrations = cancellations = attended = no_shows = upcoming = 0
    for entry in entries:
        state, attendance, ends = entry.split("|")
        registrations += 1
        cancellations += state in ("cancelled", "declined")
        if state not in ("confirmed", "held", "offered"):
            continue
        if int(ends) > now_epoch:
            upcoming += 1
        elif state == "confirmed":
            attended += attendance == "attended"
            no_shows += attendance != "attended"
    return ParticipantMetrics(participant_id, registrations, cancellations, attended, no_shows, upcoming)


class StatsReader:
    def __init__(self, client: aioredis.Redis, keyspace: Keyspace):
        self._client = client
        self._keys = keyspace
        self._availability = ReadModels(client, keyspace)

    async def session(self, session_id: str) -> SessionStats | None:
        info, entries = await self._pipeline(
            lambda p: (p.hgetall(self._keys.session_info(session_id)),
                       p.hvals(self._keys.session_registrations(session_id))))
        if not info and not entries:
            return None
        availability = await self._availability.availability(session_id)
        return SessionStats(
            session_id=session_id, event_id=info.get("event", ""), service_id=info.get("service", ""),
            venue_id=info.get("venue", ""), counts=RegistrationCounts.of(entries),
            capacity=availability.capacity if availability else 0,
            seats_left=availability.available if availability else 0)

    async def event(self, event_id: str) -> EventStats | None:
        session_ids = sorted(await self._client.smembers(self._keys.event_sessions(event_id)))
        if not session_ids:
            return None
        sessions = [s for s in [await self.session(sid) for sid in session_ids] if s is not None]
        totals = GroupStats(f"events/{event_id}")
        by_service: dict[str, GroupStats] = {}
        by_venue: dict[str, GroupStats] = {}
        for session in sessions:
            totals.add(session)
            by_service.setdefault(session.service_id, GroupStats(f"services/{session.service_id}")).add(session)
            by_venue.setdefault(session.venue_id, GroupStats(f"venues/{session.venue_id}")).add(session)
        return EventStats(event_id, totals, sessions, list(by_service.values()), list(by_venue.values()))

    async def participant(self, participant_id: str, now_epoch: float | None = None) -> ParticipantMetrics | None:
        entries = await self._client.hvals(self._keys.participant_registrations(participant_id))
        if not entries:
            return None
        return participant_metrics(participant_id, entries, time.time() if now_epoch is None else now_epoch)

    async def _pipeline(self, build):  # type: ignore[no-untyped-def]
        pipeline = self._client.pipeline(transaction=False)
        build(pipeline)
        return await pipeline.execute()
