"""RegistrationService over gRPC: translate the request, call one handler, translate the result."""

from __future__ import annotations

from google.protobuf.unknown_fields import UnknownFieldSet

from kernel.errors import FieldViolation, InvalidArgument
from kernel.idempotency import fingerprint
from kernel.resources import resource_id
from participant_service.api.registration_convert import (
    ANSWER_FROM_PROTO,
    ATTENDANCE_FROM_PROTO,
    STATE_FROM_PROTO,
    registration_to_proto,
)
from participant_service.application import registrations
from participant_service.application.registrations import RegistrationDeps
from turnout.participant.v1 import registration_pb2, registration_service_pb2, registration_service_pb2_grpc

_TIMING = {
    registration_service_pb2.REGISTRATION_TIMING_UNSPECIFIED: None,
    registration_service_pb2.REGISTRATION_TIMING_UPCOMING: "upcoming",
    registration_service_pb2.REGISTRATION_TIMING_PAST: "past",
}
Request = registration_service_pb2


def refuse_unknown_fields(request, what: str) -> None:  # type: ignore[no-untyped-def]
    """Mass assignment over gRPC: a field this request does not have (a client built from
    another schema trying to set `state` or `registered_by`) is refused, not dropped."""
    unknown = sorted({f.field_number for f in UnknownFieldSet(request)})
    if unknown:
        raise InvalidArgument([
            FieldViolation(f"#{number}", f"is not a field of {what}; state, registered_by and the other "
                                         "fields of a registration are set by the service")
            for number in unknown])


class RegistrationServicer(registration_service_pb2_grpc.RegistrationServiceServicer):
    def __init__(self, deps: RegistrationDeps):
        self._deps = deps

    async def CreateRegistration(self, request: Request.CreateRegistrationRequest, context) -> registration_pb2.Registration:
        refuse_unknown_fields(request, "CreateRegistrationRequest")
        hold_ttl = request.hold_ttl.ToTimedelta() if request.HasField("hold_ttl") else None
        command = registrations.Register(
            session_id=resource_id(request.session, "sessions", field="session"),
            participant_id=resource_id(request.participant, "participants", field="participant"),
            request_id=request.request_id, fingerprint=fingerprint(request), hold=request.hold, hold_ttl=hold_ttl,
            comment=request.comment, override_capacity=request.override_capacity, waitlist=request.waitlist,
        )
        return registration_to_proto(await registrations.register(command, self._deps))

    async def GetRegistration(self, request: Request.GetRegistrationRequest, context) -> registration_pb2.Registration:
        registration_id = resource_id(request.name, "registrations")
        return registration_to_proto(await registrations.get_registration(registration_id, self._deps))

    async def ListRegistrations(self, request: Request.ListRegistrationsRequest, context) -> Request.ListRegistrationsResponse:
        if request.timing not in _TIMING:
            raise InvalidArgument.single("timing", "is not a known timing")
        states = []
        for index, state in enumerate(request.states):
            if state not in STATE_FROM_PROTO:
                raise InvalidArgument.single(f"states[{index}]", "is not a known registration state")
            states.append(STATE_FROM_PROTO[state])
        page = await registrations.list_registrations(
            request.parent, page_size=request.page_size, page_token=request.page_token,
            timing=_TIMING[request.timing], states=tuple(states), deps=self._deps)
        return Request.ListRegistrationsResponse(
            registrations=[registration_to_proto(r) for r in page.registrations],
            next_page_token=page.next_page_token)

    async def ConfirmRegistration(self, request: Request.ConfirmRegistrationRequest, context) -> registration_pb2.Registration:
        command = registrations.ChangeRegistration(resource_id(request.name, "registrations"), request.request_id,
                                                   fingerprint(request))
        return registration_to_proto(await registrations.confirm_registration(command, self._deps))

    async def CancelRegistration(self, request: Request.CancelRegistrationRequest, context) -> registration_pb2.Registration:
        command = registrations.ChangeRegistration(resource_id(request.name, "registrations"), request.request_id,
                                                   fingerprint(request))
        return registration_to_proto(await registrations.cancel_registration(command, self._deps))

    async def BatchUpdateAttendance(self, request: Request.BatchUpdateAttendanceRequest, context) -> Request.BatchUpdateAttendanceResponse:
        command = registrations.MarkAttendance(
            names=tuple(request.names), attendance=ATTENDANCE_FROM_PROTO.get(request.attendance),
            comment=request.comment, request_id=request.request_id, fingerprint=fingerprint(request))
        result = await registrations.mark_attendance(command, self._deps)
        return Request.BatchUpdateAttendanceResponse(
            registrations=[registration_to_proto(r) for r in result.registrations],
            failures=[Request.AttendanceFailure(name=f.name, reason=f.reason, message=f.message)
                      for f in result.failures])

    async def AnswerReconfirmation(self, request: Request.AnswerReconfirmationRequest, context) -> registration_pb2.Registration:
        command = registrations.AnswerReconfirmation(
            resource_id(request.name, "registrations"), request.request_id, fingerprint(request),
            answer=ANSWER_FROM_PROTO.get(request.answer))
        return registration_to_proto(await registrations.answer_reconfirmation(command, self._deps))
