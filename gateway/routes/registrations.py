"""Registrations over REST: book a session (the saga in participant_service), read, confirm a
hold or a waitlist offer, cancel, answer a reconfirmation request, bulk attendance, and a
participant's registrations."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Depends, Query, Response
from google.protobuf.duration_pb2 import Duration
from pydantic import BaseModel, ConfigDict, Field

from gateway.backends import RegistrationBackend
from gateway.rate_limits import limit_bookings
from gateway.routes import (
    IdempotencyKey,
    PageSize,
    PageToken,
    enum_from_rest,
    enum_to_rest,
    idempotency_request_id,
    resource_id,
    resource_name,
    to_datetime,
)
from gateway.routes.participants import field_not_settable
from gateway.security import CurrentPrincipal, require_roles
from kernel.roles import STAFF
from turnout.participant.v1 import registration_pb2, registration_service_pb2

router = APIRouter(tags=["registrations"])

State = Literal["held", "confirmed", "cancelled", "expired", "waitlisted", "offered", "declined"]


def _field(path: str) -> str:
    """Proto paths of field violations as this API names them."""
    if path.startswith("names["):
        return "registration_ids" + path.removeprefix("names")
    return {"participant": "participant_id", "session": "session_id", "hold_ttl": "hold_ttl_seconds",
            "request_id": "Idempotency-Key", "name": "registration_id", "names": "registration_ids",
            "states": "state"}.get(path, path)


class RegistrationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    participant_id: str = Field(max_length=200)
    hold: bool = Field(default=False, description="true: hold the seat until confirmed or expires_at (202)")
    hold_ttl_seconds: int | None = Field(default=None, ge=1, le=86400, description="with hold; default 600")
    comment: str | None = Field(default=None, max_length=5000, description="at most 1000 characters")
    override_capacity: bool = Field(default=False, description="admins only: book above capacity")
    waitlist: bool = Field(default=False, description="join the waitlist when full (202, state waitlisted)")


class RegistrationOut(BaseModel):
    id: str
    participant_id: str
    session_id: str
    event_id: str
    state: str
    expires_at: datetime | None
    attendance: str
    attendance_comment: str | None
    comment: str | None
    registered_by: str
    cancelled_by: str | None
    end_reason: str | None
    capacity_override: bool
    waitlist_position: int | None
    seat_id: str | None
    session_starts_at: datetime | None
    session_ends_at: datetime | None
    missed: bool
    reconfirmation: str | None = Field(description="once the occurrence asked: requested, confirmed, declined, "
                                                   "unanswered_kept or unanswered_released")
    reconfirmation_deadline: datetime | None = Field(description="while requested: until when an answer is taken")
    created_at: datetime | None
    updated_at: datetime | None


class RegistrationList(BaseModel):
    registrations: list[RegistrationOut]
    next_page_token: str | None


class AttendanceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    registration_ids: list[str] = Field(min_length=1, max_length=1000)
    attendance: Literal["expected", "attended", "no_show"]
    comment: str | None = Field(default=None, max_length=5000, description="at most 1000 characters")


class ReconfirmationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answer: Literal["confirm", "decline"] = Field(
        description="confirm: still coming; decline: not coming (the registration is cancelled)")


class AttendanceFailureOut(BaseModel):
    registration_id: str
    code: str
    detail: str


class AttendanceOut(BaseModel):
    registrations: list[RegistrationOut]
    failures: list[AttendanceFailureOut] = Field(description="one entry per id that was not updated")


def registration_out(r: registration_pb2.Registration) -> RegistrationOut:
    return RegistrationOut(
        id=resource_id(r.name, "registrations"), participant_id=resource_id(r.participant, "participants"),
        session_id=resource_id(r.session, "sessions"), event_id=resource_id(r.event, "events"),
        state=enum_to_rest(registration_pb2.RegistrationState, r.state), expires_at=to_datetime(r.expire_time),
        attendance=enum_to_rest(registration_pb2.Attendance, r.attendance),
        attendance_comment=r.attendance_comment or None, comment=r.comment or None, registered_by=r.registered_by,
        cancelled_by=r.cancelled_by or None,
        end_reason=enum_to_rest(registration_pb2.EndReason, r.end_reason) if r.end_reason else None,
        capacity_override=r.capacity_override, waitlist_position=r.waitlist_position or None,
        seat_id=resource_id(r.seat, "seats") if r.seat else None,
        session_starts_at=to_datetime(r.session_start_time), session_ends_at=to_datetime(r.session_end_time),
        missed=r.missed,
        reconfirmation=enum_to_rest(registration_pb2.Reconfirmation, r.reconfirmation) if r.reconfirmation else None,
        reconfirmation_deadline=to_datetime(r.reconfirmation_deadline),
        created_at=to_datetime(r.create_time), updated_at=to_datetime(r.update_time),
    )


def _states(state: list[State] | None) -> list[int]:
    return [enum_from_rest(registration_pb2.RegistrationState, s) for s in state or ()]


@router.post(
    "/v1/sessions/{session_id}/registrations",
    status_code=201,
    response_model=RegistrationOut,
    dependencies=[Depends(require_roles(*STAFF, "participant")), Depends(limit_bookings)],
    responses={201: {"description": "Booked (confirmed)"},
               202: {"description": "Held until expires_at, or waitlisted"},
               429: {"description": "rate_limited (bookings have their own, tighter limit)"},
               409: {"description": "already_registered, already_waitlisted, sold_out, pool_full, event_full, "
                                    "limit_per_participant, outside_booking_window, session_started, "
                                    "event_archived, occurrence_closed (with `state`), request_in_progress"}},
)
async def register(session_id: str, body: RegistrationIn, response: Response, registrations: RegistrationBackend,
                   principal: CurrentPrincipal, idempotency_key: IdempotencyKey = None) -> RegistrationOut:
    if body.override_capacity and not principal.has_any("admin"):
        raise field_not_settable("override_capacity", "only an admin may book above capacity")
    request = registration_service_pb2.CreateRegistrationRequest(
        session=resource_name("sessions", session_id), participant=resource_name("participants", body.participant_id),
        request_id=idempotency_request_id(idempotency_key), hold=body.hold, comment=body.comment or "",
        override_capacity=body.override_capacity, waitlist=body.waitlist)
    if body.hold_ttl_seconds is not None:
        request.hold_ttl.CopyFrom(Duration(seconds=body.hold_ttl_seconds))
    created = registration_out(await registrations.call(registrations.stub.CreateRegistration, request,
                                                        fields=_field))
    if created.state != "confirmed":
        response.status_code = 202
    response.headers["Location"] = f"/v1/registrations/{created.id}"
    return created


@router.get("/v1/sessions/{session_id}/registrations", response_model=RegistrationList,
            dependencies=[Depends(require_roles(*STAFF, "analyst"))])
async def list_session_registrations(
        session_id: str, registrations: RegistrationBackend, page_size: PageSize = 0, page_token: PageToken = "",
        state: list[State] | None = Query(default=None, description="only these states; repeat for several"),
) -> RegistrationList:
    request = registration_service_pb2.ListRegistrationsRequest(
        parent=resource_name("sessions", session_id), page_size=page_size, page_token=page_token,
        states=_states(state))
    reply = await registrations.call(registrations.stub.ListRegistrations, request, fields=_field)
    return RegistrationList(registrations=[registration_out(r) for r in reply.registrations],
                            next_page_token=reply.next_page_token or None)


@router.get("/v1/participants/{participant_id}/registrations", response_model=RegistrationList)
async def list_participant_registrations(
        participant_id: str, registrations: RegistrationBackend, page_size: PageSize = 0,
        page_token: PageToken = "",
        when: Literal["upcoming", "past"] | None = Query(
            default=None, description="upcoming: sessions not ended, soonest first; past: ended, latest first "
                                      "(each with `missed`); absent: all, latest first"),
        state: list[State] | None = Query(default=None, description="only these states; repeat for several"),
) -> RegistrationList:
    timing = {None: registration_service_pb2.REGISTRATION_TIMING_UNSPECIFIED,
              "upcoming": registration_service_pb2.REGISTRATION_TIMING_UPCOMING,
              "past": registration_service_pb2.REGISTRATION_TIMING_PAST}[when]
    request = registration_service_pb2.ListRegistrationsRequest(
        parent=resource_name("participants", participant_id), page_size=page_size, page_token=page_token,
        timing=timing, states=_states(state))
    reply = await registrations.call(registrations.stub.ListRegistrations, request, fields=_field)
    return RegistrationList(registrations=[registration_out(r) for r in reply.registrations],
                            next_page_token=reply.next_page_token or None)


@router.post("/v1/registrations/attendance", response_model=AttendanceOut,
             dependencies=[Depends(require_roles("admin", "volunteer"))])
async def mark_attendance(body: AttendanceIn, registrations: RegistrationBackend,
                          idempotency_key: IdempotencyKey = None) -> AttendanceOut:
    request = registration_service_pb2.BatchUpdateAttendanceRequest(
        names=[resource_name("registrations", i) for i in body.registration_ids],
        attendance=enum_from_rest(registration_pb2.Attendance, body.attendance), comment=body.comment or "",
        request_id=idempotency_request_id(idempotency_key))
    reply = await registrations.call(registrations.stub.BatchUpdateAttendance, request, fields=_field)
    return AttendanceOut(
        registrations=[registration_out(r) for r in reply.registrations],
        failures=[AttendanceFailureOut(registration_id=resource_id(f.name, "registrations"), code=f.reason.lower(),
                                       detail=f.message) for f in reply.failures])


@router.get("/v1/registrations/{registration_id}", response_model=RegistrationOut)
async def get_registration(registration_id: str, registrations: RegistrationBackend) -> RegistrationOut:
    request = registration_service_pb2.GetRegistrationRequest(name=resource_name("registrations", registration_id))
    return registration_out(await registrations.call(registrations.stub.GetRegistration, request, fields=_field))


@router.post("/v1/registrations/{registration_id}/confirm", response_model=RegistrationOut)
async def confirm_registration(registration_id: str, registrations: RegistrationBackend,
                               idempotency_key: IdempotencyKey = None) -> RegistrationOut:
    request = registration_service_pb2.ConfirmRegistrationRequest(
        name=resource_name("registrations", registration_id), request_id=idempotency_request_id(idempotency_key))
    return registration_out(await registrations.call(registrations.stub.ConfirmRegistration, request,
                                                     fields=_field))


@router.delete("/v1/registrations/{registration_id}", response_model=RegistrationOut)
async def cancel_registration(registration_id: str, registrations: RegistrationBackend,
                              idempotency_key: IdempotencyKey = None) -> RegistrationOut:
    """Cancels (or declines an offer, or leaves a waitlist) and frees the seat. Allowed to the
    participant, whoever registered them, and admins."""
    request = registration_service_pb2.CancelRegistrationRequest(
        name=resource_name("registrations", registration_id), request_id=idempotency_request_id(idempotency_key))
    return registration_out(await registrations.call(registrations.stub.CancelRegistration, request,
                                                     fields=_field))


@router.post("/v1/registrations/{registration_id}/reconfirmation", response_model=RegistrationOut,
             responses={409: {"description": "reconfirmation_closed (with `reconfirmation`: never asked, or the "
                                             "deadline passed), registration_not_active"}})
async def answer_reconfirmation(registration_id: str, body: ReconfirmationIn, registrations: RegistrationBackend,
                                idempotency_key: IdempotencyKey = None) -> RegistrationOut:
    """Answers "are you still coming?" while the occurrence asks: `confirm` keeps the seat
    (again: answered as it is); `decline` cancels the registration and its seat goes to the
    waitlist. Allowed to the participant, whoever registered them, and admins."""
    request = registration_service_pb2.AnswerReconfirmationRequest(
        name=resource_name("registrations", registration_id),
        answer=enum_from_rest(registration_pb2.ReconfirmationAnswer, body.answer),
        request_id=idempotency_request_id(idempotency_key))
    return registration_out(await registrations.call(registrations.stub.AnswerReconfirmation, request,
                                                     fields=_field))
