"""Registrations as their protobuf messages."""

from __future__ import annotations

from datetime import UTC, datetime

from kernel.resources import to_timestamp
from participant_service.domain.registrations import Answer, Attendance, EndReason, Reconfirmation, Registration, State
from turnout.participant.v1 import registration_pb2

STATE_TO_PROTO = {state: registration_pb2.RegistrationState.Value(f"REGISTRATION_STATE_{state.name}")
                  for state in State}
STATE_FROM_PROTO = {proto: state for state, proto in STATE_TO_PROTO.items()}
ATTENDANCE_TO_PROTO = {attendance: registration_pb2.Attendance.Value(f"ATTENDANCE_{attendance.name}")
                       for attendance in Attendance}
ATTENDANCE_FROM_PROTO = {proto: attendance for attendance, proto in ATTENDANCE_TO_PROTO.items()}
END_REASON_TO_PROTO = {reason: registration_pb2.EndReason.Value(f"END_REASON_{reason.name}") for reason in EndReason}
RECONFIRMATION_TO_PROTO = {where: registration_pb2.Reconfirmation.Value(f"RECONFIRMATION_{where.name}")
                           for where in Reconfirmation}
ANSWER_FROM_PROTO = {registration_pb2.ReconfirmationAnswer.Value(f"RECONFIRMATION_ANSWER_{answer.name}"): answer
                     for answer in Answer}


def registration_to_proto(r: Registration, now: datetime | None = None) -> registration_pb2.Registration:
    message = registration_pb2.Registration(
        name=f"registrations/{r.id}", participant=f"participants/{r.participant_id}",
        session=f"sessions/{r.session.session_id}", state=STATE_TO_PROTO[r.state],
        attendance=ATTENDANCE_TO_PROTO[r.attendance], attendance_comment=r.attendance_comment or "",
        comment=r.comment or "", registered_by=r.registered_by, capacity_override=r.capacity_override,
        seat=f"seats/{r.seat_id}" if r.seat_id else "", create_time=to_timestamp(r.created_at),
        update_time=to_timestamp(r.updated_at), session_start_time=to_timestamp(r.session.starts_at),
        session_end_time=to_timestamp(r.session.ends_at), event=f"events/{r.session.event_id}",
        waitlist_position=r.waitlist_position, cancelled_by=r.cancelled_by or "",
        missed=r.missed(now or datetime.now(UTC)),
        end_reason=END_REASON_TO_PROTO[r.end_reason] if r.end_reason else registration_pb2.END_REASON_UNSPECIFIED,
    )
    if r.expires_at is not None:
        message.expire_time.CopyFrom(to_timestamp(r.expires_at))
    if r.reconfirmation is not None:
        message.reconfirmation = RECONFIRMATION_TO_PROTO[r.reconfirmation]
        if r.reconfirmation is Reconfirmation.REQUESTED and r.reconfirmation_deadline is not None:
            message.reconfirmation_deadline.CopyFrom(to_timestamp(r.reconfirmation_deadline))
    return message
