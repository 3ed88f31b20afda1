"""Domain objects as their protobuf messages."""

from __future__ import annotations

from kernel.resources import to_timestamp
from participant_service.domain.participants import Participant, ParticipantKind, Profile, VerificationStatus
from turnout.participant.v1 import participant_pb2

KIND_TO_PROTO = {
    ParticipantKind.VISITOR: participant_pb2.PARTICIPANT_KIND_VISITOR,
    ParticipantKind.VOLUNTEER: participant_pb2.PARTICIPANT_KIND_VOLUNTEER,
}
VERIFICATION_TO_PROTO = {
    None: participant_pb2.VERIFICATION_STATUS_UNSPECIFIED,
    VerificationStatus.PENDING_REVIEW: participant_pb2.VERIFICATION_STATUS_PENDING_REVIEW,
    VerificationStatus.APPROVED: participant_pb2.VERIFICATION_STATUS_APPROVED,
    VerificationStatus.REJECTED: participant_pb2.VERIFICATION_STATUS_REJECTED,
}
VERIFICATION_FROM_PROTO = {proto: status for status, proto in VERIFICATION_TO_PROTO.items() if status}
# An unspecified kind means a visitor: most people who sign up are.
KIND_FROM_PROTO = {proto: kind for kind, proto in KIND_TO_PROTO.items()} | {
    participant_pb2.PARTICIPANT_KIND_UNSPECIFIED: ParticipantKind.VISITOR
}


def participant_to_proto(participant: Participant) -> participant_pb2.Participant:
    return participant_pb2.Participant(
        name=f"participants/{participant.id}", card_number=participant.card_number,
        first_name=participant.first_name, last_name=participant.last_name,
        kind=KIND_TO_PROTO[participant.kind], create_time=to_timestamp(participant.created_at),
        phone=participant.phone or "", comment=participant.comment or "",
        messenger_id=participant.messenger_id or "", messenger_username=participant.messenger_username or "",
        created_by=participant.created_by or "",
        verification_status=VERIFICATION_TO_PROTO[participant.verification_status],
        verification_reason=participant.verification_reason or "",
    )


def profile_from_proto(participant: participant_pb2.Participant) -> Profile:
    return Profile(phone=participant.phone, comment=participant.comment, messenger_id=participant.messenger_id,
                   messenger_username=participant.messenger_username)
