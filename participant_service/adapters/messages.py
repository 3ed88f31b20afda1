"""participant_service's domain events as the protobuf payloads it publishes."""

from __future__ import annotations

from kernel import notifications, topics
from kernel.unit_of_work import OutboxMessage, event_mapper
from participant_service.api.convert import participant_to_proto
from participant_service.api.registration_convert import registration_to_proto
from participant_service.domain import registrations
from participant_service.domain.participants import ParticipantCreated, ParticipantUpdated
from participant_service.domain.visitors import IdentifierKind, SignInOutcome, VisitorSignInAttempted
from turnout.participant.v1 import participant_events_pb2, registration_events_pb2, visitor_events_pb2


to_message = event_mapper()


@to_message.register
def _(event: ParticipantCreated) -> OutboxMessage:
    return OutboxMessage(
        topic=topics.PARTICIPANTS,
        aggregate_type="participant",
        aggregate_id=event.participant.id,
        aggregate_version=event.participant.version,
        payload=participant_events_pb2.ParticipantCreated(participant=participant_to_proto(event.participant)),
    )


@to_message.register
def _(event: ParticipantUpdated) -> OutboxMessage:
    return OutboxMessage(
        topic=topics.PARTICIPANTS,
        aggregate_type="participant",
        aggregate_id=event.participant.id,
        aggregate_version=event.participant.version,
        payload=participant_events_pb2.ParticipantUpdated(participant=participant_to_proto(event.participant),
                                                          changed_fields=list(event.changed_fields)),
    )


_IDENTIFIER_KINDS = {IdentifierKind.CARD_NUMBER: visitor_events_pb2.VISITOR_IDENTIFIER_KIND_CARD_NUMBER,
                     IdentifierKind.PHONE: visitor_events_pb2.VISITOR_IDENTIFIER_KIND_PHONE}
_OUTCOMES = {SignInOutcome.SUCCEEDED: visitor_events_pb2.VISITOR_SIGN_IN_OUTCOME_SUCCEEDED,
             SignInOutcome.REFUSED: visitor_events_pb2.VISITOR_SIGN_IN_OUTCOME_REFUSED}


@to_message.register
def _(event: VisitorSignInAttempted) -> OutboxMessage:
    # The attempt is its own aggregate: keyed by the participant, it would share (and fight
    # over) the participant's version, and a refused attempt has no participant.
    return OutboxMessage(
        topic=topics.PARTICIPANTS,
        aggregate_type="visitor_sign_in",
        aggregate_id=event.attempt_id,
        aggregate_version=1,
        payload=visitor_events_pb2.VisitorSignInAttempted(
            participant=f"participants/{event.participant_id}" if event.participant_id else "",
            identifier_kind=_IDENTIFIER_KINDS[event.kind], identifier_digest=event.identifier_digest,
            outcome=_OUTCOMES[event.outcome]),
    )


def _registration_message(payload_type: type, topic: str = topics.PARTICIPANTS):  # type: ignore[no-untyped-def]
    """Registration events: keyed by the registration, versioned by its row version."""

    def to_outbox(event) -> OutboxMessage:  # type: ignore[no-untyped-def]
        registration = event.registration
        return OutboxMessage(topic=topic, aggregate_type="registration", aggregate_id=registration.id,
                             aggregate_version=registration.version,
                             payload=payload_type(registration=registration_to_proto(registration)))

    return to_outbox


for _event, _payload in (
    (registrations.RegistrationCreated, registration_events_pb2.RegistrationCreated),
    (registrations.RegistrationConfirmed, registration_events_pb2.RegistrationConfirmed),
    (registrations.RegistrationCancelled, registration_events_pb2.RegistrationCancelled),
    (registrations.RegistrationExpired, registration_events_pb2.RegistrationExpired),
    (registrations.AttendanceMarked, registration_events_pb2.AttendanceMarked),
    (registrations.WaitlistOfferMade, registration_events_pb2.WaitlistOfferMade),
    (registrations.RegistrationReconfirmationChanged, registration_events_pb2.RegistrationReconfirmationChanged),
):
    to_message.register(_event, _registration_message(_payload))
to_message.register(registrations.OfferNotification,
                    _registration_message(registration_events_pb2.WaitlistOfferMade, topics.NOTIFICATIONS))
# Typed notification requests (turnout.notification.v1.NotificationRequested), keyed by recipient.
notifications.register(to_message)
