"""event_service's seat ledger and sessions, as the registration saga needs them (gRPC)."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import grpc
from google.protobuf.duration_pb2 import Duration

from kernel.errors import DomainError, InvalidArgument, NotFound
from kernel.grpc_client import domain_error, outgoing_metadata
from participant_service.domain.registrations import SessionSnapshot
from turnout.event.v1 import event_service_pb2, event_service_pb2_grpc, ledger_events_pb2, seat_pb2

_STATES = {seat_pb2.SEAT_STATE_HELD: "held", seat_pb2.SEAT_STATE_CONFIRMED: "confirmed",
           seat_pb2.SEAT_STATE_RELEASED: "released", seat_pb2.SEAT_STATE_EXPIRED: "expired"}
_NAMESPACE = uuid.UUID("8a0f3c1e-5b7d-4e2a-9c61-2f4b8d7e0a13")
SERVICE = "event-service"


def step_request_id(request_id: str, step: str) -> str:
    """The ledger request id of one step of a saga: stable across retries of that step, so a
    retried step finds the seat it took the first time instead of taking a second one."""
    return str(uuid.uuid5(_NAMESPACE, f"{request_id}/{step}"))


@dataclass(frozen=True)
class LedgerSeat:
    seat_id: str
    state: str  # held | confirmed | released | expired
    expires_at: datetime | None
    capacity_override: bool


def _seat(seat: seat_pb2.Seat) -> LedgerSeat:
    expires = seat.expire_time.ToDatetime(tzinfo=UTC) if seat.HasField("expire_time") else None
    return LedgerSeat(seat.name.removeprefix("seats/"), _STATES.get(seat.state, "unknown"), expires,
                      seat.capacity_override)


class SeatLedger:
    def __init__(self, stub: event_service_pb2_grpc.EventServiceStub, deadline_seconds: float, *,
                 session_ttl_seconds: float = 5.0):
        self._stub = stub
        self._deadline = deadline_seconds
        # Sessions read lately: a popular session is booked many times a second, and its
        # event and times barely ever change; a registration keeps a copy of them anyway.
        self._sessions: dict[str, tuple[float, SessionSnapshot]] = {}
        self._session_ttl = session_ttl_seconds

    async def _call(self, method, request):  # type: ignore[no-untyped-def]
        try:
            return await method(request, timeout=self._deadline, metadata=outgoing_metadata())
        except grpc.aio.AioRpcError as exc:
            raise domain_error(exc, service=SERVICE) from None

    async def session(self, session_id: str) -> SessionSnapshot:
        """The session's event and times (read at most every few seconds per session); an
        unknown session names the `session` field."""
        now = time.monotonic()
        cached = self._sessions.get(session_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        if len(self._sessions) > 10_000:
            self._sessions = {k: v for k, v in self._sessions.items() if v[0] > now}
        snapshot = await self._read_session(session_id)
        self._sessions[session_id] = (now + self._session_ttl, snapshot)
        return snapshot

    async def _read_session(self, session_id: str) -> SessionSnapshot:
        try:
            session = await self._call(self._stub.GetSession,
                                       event_service_pb2.GetSessionRequest(name=f"sessions/{session_id}"))
        except (NotFound, InvalidArgument):
            raise InvalidArgument.single("session", f"session {session_id[:100]} does not exist") from None
        return SessionSnapshot(session_id, session.event.removeprefix("events/"),
                               session.start_time.ToDatetime(tzinfo=UTC), session.end_time.ToDatetime(tzinfo=UTC))

    async def hold(self, *, session_id: str, participant_id: str, request_id: str, ttl: timedelta,
                   override_capacity: bool) -> LedgerSeat:
        duration = Duration()
        duration.FromTimedelta(ttl)
        request = event_service_pb2.HoldSeatRequest(
            session=f"sessions/{session_id}", participant=f"participants/{participant_id}", request_id=request_id,
            ttl=duration, override_capacity=override_capacity)
        try:
            return _seat(await self._call(self._stub.HoldSeat, request))
        except NotFound:  # deleted since it was read
            raise InvalidArgument.single("session", f"session {session_id[:100]} does not exist") from None

    async def confirm(self, seat_id: str, request_id: str) -> LedgerSeat:
        request = event_service_pb2.ConfirmSeatRequest(name=f"seats/{seat_id}", request_id=request_id)
        return _seat(await self._call(self._stub.ConfirmSeat, request))

    async def release(self, seat_id: str, request_id: str) -> LedgerSeat:
        request = event_service_pb2.ReleaseSeatRequest(name=f"seats/{seat_id}", request_id=request_id,
                                                       reason=ledger_events_pb2.RELEASE_REASON_CANCELLED)
        return _seat(await self._call(self._stub.ReleaseSeat, request))

    async def schedule_rounds(self, occurrence_id: str) -> None:
        """Asks event_service for the occurrence's rounds once its answers are settled (it
        makes them once; a repeated call answers the schedule made first)."""
        await self._call(self._stub.ScheduleOccurrenceRounds,
                         event_service_pb2.ScheduleOccurrenceRoundsRequest(occurrence=f"occurrences/{occurrence_id}"))

    async def seat(self, seat_id: str) -> LedgerSeat:
        return _seat(await self._call(self._stub.GetSeat, event_service_pb2.GetSeatRequest(name=f"seats/{seat_id}")))


def is_refusal(error: DomainError, *reasons: str) -> bool:
    return error.reason in reasons
