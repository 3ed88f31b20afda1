"""participant_service's notification requests (`kernel.notifications`): which templates it
asks for, to whom, with which parameters. The README ("Kafka topics") documents each
template; its parameters are a contract and only grow.

Parameters carry ids and states, never names, phones or comments: a consumer that needs more
reads it through the API with its own credentials, under the usual access rules.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from kernel import notifications
from kernel.errors import DomainError
from kernel.notifications import Channel, Notification
from kernel.roles import ADMIN
from participant_service.domain.registrations import Registration

REGISTRATION_CREATED_ADMIN = "registration.created.admin"
WAITLIST_OFFER = "waitlist.offer"
SYSTEM_ERROR = "system.error"
RECONFIRMATION_REQUEST = "reconfirmation.request"
RECONFIRMATION_RELEASED = "reconfirmation.released"
OCCURRENCE_CANCELLED = "occurrence.cancelled"
OCCURRENCE_REMINDER = "occurrence.reminder"
ATTENDANCE_MISSED = "attendance.missed"

# The system errors this service reports (parameter `error_code`).
SEAT_SYNC_REFUSED = "seat_sync_refused"


def _registration_parameters(registration: Registration) -> dict[str, str]:
    return {
        "registration": f"registrations/{registration.id}",
        "session": f"sessions/{registration.session_id}",
        "event": f"events/{registration.session.event_id}",
        "session_start_time": notifications.rfc3339(registration.session.starts_at),
    }


def registration_created(registration: Registration, *, locale: str) -> Notification:
    """To every admin, for every new registration (held, confirmed or waitlisted)."""
    return Notification(
        recipient=notifications.role(ADMIN), template_key=REGISTRATION_CREATED_ADMIN,
        parameters={**_registration_parameters(registration),
                    "participant": f"participants/{registration.participant_id}",
                    "state": registration.state.value,
                    "registered_by": registration.registered_by},
        dedup_key=f"{REGISTRATION_CREATED_ADMIN}/registrations/{registration.id}",
        channel_hints=(Channel.MESSENGER, Channel.EMAIL), locale=locale, create_time=registration.created_at)


def waitlist_offer(offer: Registration, *, locale: str) -> Notification:
    """To the participant: a seat is held for them until `offer_expire_time`; one per offer."""
    return Notification(
        recipient=notifications.participant(offer.participant_id), template_key=WAITLIST_OFFER,
        parameters={**_registration_parameters(offer),
                    "offer_expire_time": notifications.rfc3339(offer.expires_at)},
        dedup_key=f"{WAITLIST_OFFER}/registrations/{offer.id}/offers/{offer.offer_attempts}",
        channel_hints=(Channel.MESSENGER, Channel.SMS, Channel.EMAIL), locale=locale, create_time=offer.updated_at)


def seat_sync_refused(registration: Registration, refusal: DomainError, *, locale: str) -> Notification:
    """To every admin: the ledger refuses a call a registration owes it (the reconciler cannot
    settle it and someone has to look). Asked for once per registration, call and seat."""
    owed = registration.seat_sync.value if registration.seat_sync else ""
    return Notification(
        recipient=notifications.role(ADMIN), template_key=SYSTEM_ERROR,
        parameters={"error_code": SEAT_SYNC_REFUSED, "component": "participant-service/reconciler",
                    "summary": f"the seat ledger refuses the {owed} that registration {registration.id} owes it",
                    "registration": f"registrations/{registration.id}", "seat": registration.seat_id or "",
                    "owed_call": owed, "ledger_reason": refusal.reason or "",
                    "detail": notifications.bounded(refusal.message)},
        dedup_key=system_error_key(registration),
        channel_hints=(Channel.MESSENGER, Channel.EMAIL), locale=locale)


def system_error_key(registration: Registration) -> str:
    owed = registration.seat_sync.value if registration.seat_sync else ""
    return f"{SYSTEM_ERROR}/{SEAT_SYNC_REFUSED}/registrations/{registration.id}/{owed}/{registration.seat_id or ''}"


def _to_participant(registration: Registration, template: str, dedup_key: str, *, locale: str,
                    create_time: datetime | None, extra: dict[str, str] | None = None,
                    urgent: bool = False) -> Notification:
    hints = (Channel.MESSENGER, Channel.SMS, Channel.EMAIL) if urgent else (Channel.MESSENGER, Channel.EMAIL)
    return Notification(
        recipient=notifications.participant(registration.participant_id), template_key=template,
        parameters={**_registration_parameters(registration), **(extra or {})}, dedup_key=dedup_key,
        channel_hints=hints, locale=locale, create_time=create_time)


def reconfirmation_request(registration: Registration, *, locale: str) -> Notification:
    """To the participant: are you still coming? Answer before `reconfirmation_deadline`."""
    return _to_participant(
        registration, RECONFIRMATION_REQUEST, f"{RECONFIRMATION_REQUEST}/registrations/{registration.id}",
        locale=locale, create_time=registration.updated_at, urgent=True,
        extra={"reconfirmation_deadline": notifications.rfc3339(registration.reconfirmation_deadline)})


def reconfirmation_released(registration: Registration, *, locale: str) -> Notification:
    """To the participant: nobody answered by the deadline, so the seat went to someone else."""
    return _to_participant(
        registration, RECONFIRMATION_RELEASED, f"{RECONFIRMATION_RELEASED}/registrations/{registration.id}",
        locale=locale, create_time=registration.updated_at)


def occurrence_cancelled(registration: Registration, occurrence_id: str, *, locale: str,
                         at: datetime | None) -> Notification:
    """To the participant of a live registration: the occurrence was called off."""
    return _to_participant(
        registration, OCCURRENCE_CANCELLED, f"{OCCURRENCE_CANCELLED}/registrations/{registration.id}",
        locale=locale, create_time=at, urgent=True, extra={"occurrence": f"occurrences/{occurrence_id}"})


def occurrence_reminder(registration: Registration, offset: timedelta, *, locale: str,
                        due: datetime | None) -> Notification:
    """To the participant of a confirmed registration: it starts in about `offset_minutes`."""
    minutes = int(offset.total_seconds() // 60)
    return _to_participant(
        registration, OCCURRENCE_REMINDER, f"{OCCURRENCE_REMINDER}/registrations/{registration.id}/{minutes}",
        locale=locale, create_time=due, extra={"offset_minutes": str(minutes)})


def attendance_missed(registration: Registration, *, locale: str) -> Notification:
    """To the participant: they were marked absent ("you missed it")."""
    return _to_participant(
        registration, ATTENDANCE_MISSED, attendance_missed_key(registration), locale=locale,
        create_time=registration.updated_at)


def attendance_missed_key(registration: Registration) -> str:
    return f"{ATTENDANCE_MISSED}/registrations/{registration.id}"
