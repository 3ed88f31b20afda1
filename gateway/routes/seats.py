"""The seat ledger over REST: hold or book a seat in a session, confirm, release.

Registrations (`/v1/sessions/{id}/registrations`, participant_service's booking saga) are
built on these; the ledger routes are for admins, volunteers and services."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Response
from google.protobuf.duration_pb2 import Duration
from pydantic import BaseModel, ConfigDict, Field

from gateway.backends import EventBackend
from gateway.routes import (
    IdempotencyKey,
    enum_to_rest,
    idempotency_request_id,
    resource_id,
    resource_name,
    to_datetime,
)
from gateway.rate_limits import limit_bookings
from gateway.routes.participants import field_not_settable
from gateway.security import CurrentPrincipal, require_roles
from turnout.event.v1 import event_service_pb2, ledger_events_pb2, seat_pb2

router = APIRouter(tags=["seat ledger"], dependencies=[Depends(require_roles("admin", "volunteer", "service"))])

_SEAT_FIELDS = {"participant": "participant_id", "ttl": "ttl_seconds", "session": "session_id",
                "request_id": "Idempotency-Key", "name": "seat_id"}


class SeatIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    participant_id: str = Field(max_length=200)
    hold: bool = Field(default=False, description="true: a hold that expires unless confirmed (202)")
    ttl_seconds: int | None = Field(default=None, ge=-(2**31), le=2**31 - 1, description="Hold lifetime; default 600")
    override_capacity: bool = Field(default=False, description="Admins only: book above capacity")


class SeatOut(BaseModel):
    id: str
    session_id: str
    participant_id: str
    state: str
    expires_at: datetime | None
    capacity_override: bool
    actor: str
    created_at: datetime | None
    updated_at: datetime | None


def seat_out(seat: seat_pb2.Seat) -> SeatOut:
    return SeatOut(
        id=resource_id(seat.name, "seats"),
        session_id=resource_id(seat.session, "sessions"),
        participant_id=resource_id(seat.participant, "participants"),
        state=enum_to_rest(seat_pb2.SeatState, seat.state),
        expires_at=to_datetime(seat.expire_time),
        capacity_override=seat.capacity_override,
        actor=seat.actor,
        created_at=to_datetime(seat.create_time),
        updated_at=to_datetime(seat.update_time),
    )


@router.post(
    "/v1/sessions/{session_id}/seats",
    status_code=201,
    response_model=SeatOut,
    dependencies=[Depends(limit_bookings)],
    responses={201: {"description": "Booked (confirmed)"}, 202: {"description": "Held until expires_at"},
               429: {"description": "rate_limited (bookings have their own, tighter limit)"}},
)
async def take_seat(
    session_id: str, body: SeatIn, response: Response, event: EventBackend, principal: CurrentPrincipal,
    idempotency_key: IdempotencyKey = None,
) -> SeatOut:
    if body.override_capacity and not principal.has_any("admin"):
        raise field_not_settable("override_capacity", "only an admin may book above capacity")
    session = resource_name("sessions", session_id)
    participant = resource_name("participants", body.participant_id)
    request_id = idempotency_request_id(idempotency_key)
    if body.hold:
        ttl = Duration(seconds=body.ttl_seconds) if body.ttl_seconds is not None else None
        request = event_service_pb2.HoldSeatRequest(session=session, participant=participant, request_id=request_id,
                                                    ttl=ttl, override_capacity=body.override_capacity)
        seat = seat_out(await event.call(event.stub.HoldSeat, request, fields=_SEAT_FIELDS))
        response.status_code = 202
    else:
        request = event_service_pb2.BookSeatRequest(session=session, participant=participant, request_id=request_id,
                                                    override_capacity=body.override_capacity)
        seat = seat_out(await event.call(event.stub.BookSeat, request, fields=_SEAT_FIELDS))
    response.headers["Location"] = f"/v1/seats/{seat.id}"
    return seat


@router.get("/v1/seats/{seat_id}", response_model=SeatOut)
async def get_seat(seat_id: str, event: EventBackend) -> SeatOut:
    request = event_service_pb2.GetSeatRequest(name=resource_name("seats", seat_id))
    return seat_out(await event.call(event.stub.GetSeat, request, fields=_SEAT_FIELDS))


@router.post("/v1/seats/{seat_id}/confirm", response_model=SeatOut)
async def confirm_seat(seat_id: str, event: EventBackend, idempotency_key: IdempotencyKey = None) -> SeatOut:
    request = event_service_pb2.ConfirmSeatRequest(name=resource_name("seats", seat_id),
                                                    request_id=idempotency_request_id(idempotency_key))
    return seat_out(await event.call(event.stub.ConfirmSeat, request, fields=_SEAT_FIELDS))


@router.delete("/v1/seats/{seat_id}", response_model=SeatOut)
async def release_seat(seat_id: str, event: EventBackend, idempotency_key: IdempotencyKey = None) -> SeatOut:
    request = event_service_pb2.ReleaseSeatRequest(name=resource_name("seats", seat_id),
                                                    request_id=idempotency_request_id(idempotency_key),
                                                    reason=ledger_events_pb2.RELEASE_REASON_CANCELLED)
    return seat_out(await event.call(event.stub.ReleaseSeat, request, fields=_SEAT_FIELDS))
