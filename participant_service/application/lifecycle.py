"""What participant_service does when an occurrence moves along its lifecycle (event_service
publishes it on `turnout.catalog.v1`; `kernel.consumer` delivers it here):

* CONFIRMING: every confirmed registration of its sessions is asked to reconfirm by the
  deadline (`reconfirmation.request` to the participant);
* READY: the answers are settled: a registration still unanswered is released (cancelled,
  its seat to the waitlist, `reconfirmation.released`) when the occurrence says so, else
  kept; then the released seats go back to the ledger and, for an event that runs in rounds,
  event_service is asked for the schedule;
* CANCELLED: every participant with a live registration in it is told;
* a reminder due: every confirmed registration's participant is reminded.

A message read after its moment passed (a new consumer group starts at the beginning of the
topic's history) asks nobody and tells nobody: not a request whose deadline is gone, not a
reminder or a cancellation of an occurrence that started or ended; a settlement still settles.

Each message's changes commit in one transaction with its inbox row (`kernel.inbox`), so a
redelivery changes nothing and asks for no notification twice. What READY owes event_service
afterwards (releases, the rounds) is not covered by the inbox: it is made again on every
delivery, and both calls are idempotent; a failed call fails the message, which is read
again, so the offset moves on only once they went through.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from kafka import KafkaConsumer

from kernel import consumer, inbox, topics
from kernel.consumer import Delivery, Handler, MessageConsumer
from kernel.errors import DomainError, Unavailable
from kernel.kafka import make_consumer
from kernel.settings import Settings
from participant_service.adapters import registration_repository as repository
from participant_service.adapters.tables import processed_messages
from participant_service.application import notifications
from participant_service.application.reconciler import (
    refresh_pending,
    report_seat_sync_refused,
)
from participant_service.application.registrations import RegistrationDeps, settle_seat
from participant_service.domain import registrations as domain
from participant_service.domain.registrations import SeatSync, State
from turnout.event.v1 import catalog_events_pb2, session_pb2

COMPONENT = "participant-service/lifecycle-consumer"
# Lifecycle steps come minutes to hours apart and nothing waits on them by the millisecond:
# kafka-python's own 500 ms fetch wait, not the projector's 20 ms (kernel/settings.py), whose
# fetch loop cost this process about 8.5 % of a core when idle (0.9 % at 500 ms, measured on the
# embedded broker), taken from the searches and bookings it serves.
FETCH_MAX_WAIT_MS = 500


def _timestamp(message, name: str) -> datetime | None:  # type: ignore[no-untyped-def]
    return getattr(message, name).ToDatetime(tzinfo=UTC) if message.HasField(name) else None


def _passed(moment: datetime | None, now: datetime) -> bool:
    return moment is not None and moment <= now


def _session_ids(occurrence: session_pb2.Occurrence) -> list[str]:
    return [name.removeprefix("sessions/") for name in occurrence.sessions if name.startswith("sessions/")]


async def on_state_changed(delivery: Delivery, changed: catalog_events_pb2.OccurrenceStateChanged,
                           deps: RegistrationDeps) -> None:
    sessions = _session_ids(changed.occurrence)
    if changed.to_state == session_pb2.OCCURRENCE_STATE_CONFIRMING:
        await _ask(delivery, changed, sessions, deps)
    elif changed.to_state == session_pb2.OCCURRENCE_STATE_READY:
        await _settle_answers(delivery, changed, sessions, deps)
        await _after_settlement(changed, sessions, deps)
    elif changed.to_state == session_pb2.OCCURRENCE_STATE_CANCELLED:
        await _tell_cancelled(delivery, changed, sessions, deps)
    else:
        return
    await refresh_pending(deps)


async def _ask(delivery: Delivery, changed: catalog_events_pb2.OccurrenceStateChanged, sessions: list[str],
               deps: RegistrationDeps) -> None:
    # Without a deadline in the message the answers stay open until the occurrence settles them.
    deadline = _timestamp(changed, "reconfirmation_deadline")
    asked_at = _timestamp(changed, "change_time") or deps.clock()
    locale = deps.policy.notification_locale
    async with deps.uow() as uow:
        if not await inbox.first_time(uow.connection, processed_messages, delivery):
            return
        now = deps.clock()
        if _passed(deadline, now):
            sessions = []
        for registration in await repository.confirmed_unasked_for_update(uow.connection, sessions,
                                                                          created_by=asked_at):
            asked = domain.reconfirmation_requested(registration, now, deadline)
            if asked is None:
                continue
            await repository.update(uow.connection, asked)
            uow.record(domain.RegistrationReconfirmationChanged(asked),
                       notifications.reconfirmation_request(asked, locale=locale))
        await uow.commit()


async def _settle_answers(delivery: Delivery, changed: catalog_events_pb2.OccurrenceStateChanged,
                          sessions: list[str], deps: RegistrationDeps) -> None:
    """One transaction: an answer racing it either committed first (the row no longer awaits
    one and is skipped) or waits for the row lock and then finds it settled."""
    locale = deps.policy.notification_locale
    async with deps.uow() as uow:
        if not await inbox.first_time(uow.connection, processed_messages, delivery):
            return
        now = deps.clock()
        for registration in await repository.awaiting_answer_for_update(uow.connection, sessions):
            settled = domain.unanswered(registration, now, release=changed.release_unanswered)
            if settled is None:
                continue
            await repository.update(uow.connection, settled)
            if settled.state is State.CANCELLED:
                uow.record(domain.RegistrationCancelled(settled),
                           notifications.reconfirmation_released(settled, locale=locale))
            else:
                uow.record(domain.RegistrationReconfirmationChanged(settled))
        await uow.commit()


async def _after_settlement(changed: catalog_events_pb2.OccurrenceStateChanged, sessions: list[str],
                            deps: RegistrationDeps) -> None:
    """The released seats back to the ledger (their waitlists wake up), then the rounds: made
    from the seats still taken, so only once every release went through."""
    async with deps.uow() as uow:
        owing = await repository.in_sessions(uow.connection, sessions, owing=SeatSync.RELEASE)
    still_owed = 0
    for registration in owing:
        try:
            settled = await settle_seat(registration, deps)
        except DomainError as refusal:
            # Refused for good: the admins hear of it (once) and the rest goes on without it.
            await report_seat_sync_refused(registration, refusal, deps)
            continue
        still_owed += settled.seat_sync is not None
    for session_id in sessions:
        deps.wake(session_id)
    if still_owed:
        raise Unavailable(f"{still_owed} seat releases of occurrence {changed.occurrence.name} are still owed; "
                          "the message is read again")
    if changed.HasField("rounds"):
        await deps.ledger.schedule_rounds(changed.occurrence.name.removeprefix("occurrences/"))


async def _tell_cancelled(delivery: Delivery, changed: catalog_events_pb2.OccurrenceStateChanged,
                          sessions: list[str], deps: RegistrationDeps) -> None:
    occurrence_id = changed.occurrence.name.removeprefix("occurrences/")
    at = _timestamp(changed, "change_time")
    async with deps.uow() as uow:
        if not await inbox.first_time(uow.connection, processed_messages, delivery):
            return
        if _passed(_timestamp(changed.occurrence, "end_time"), deps.clock()):
            sessions = []
        for registration in await repository.in_sessions(uow.connection, sessions, states=tuple(domain.LIVE)):
            uow.record(notifications.occurrence_cancelled(registration, occurrence_id,
                                                          locale=deps.policy.notification_locale, at=at))
        await uow.commit()


async def on_reminder_due(delivery: Delivery, reminder: catalog_events_pb2.OccurrenceReminderDue,
                          deps: RegistrationDeps) -> None:
    offset, due = reminder.offset.ToTimedelta(), _timestamp(reminder, "due_time")
    sessions = _session_ids(reminder.occurrence)
    async with deps.uow() as uow:
        if not await inbox.first_time(uow.connection, processed_messages, delivery):
            return
        if _passed(_timestamp(reminder.occurrence, "start_time"), deps.clock()):
            sessions = []
        for registration in await repository.in_sessions(uow.connection, sessions, states=(State.CONFIRMED,)):
            uow.record(notifications.occurrence_reminder(registration, offset,
                                                         locale=deps.policy.notification_locale, due=due))
        await uow.commit()


def handlers(deps: RegistrationDeps) -> dict[type, Handler]:
    async def state_changed(delivery: Delivery, message: catalog_events_pb2.OccurrenceStateChanged) -> None:
        await on_state_changed(delivery, message, deps)

    async def reminder_due(delivery: Delivery, message: catalog_events_pb2.OccurrenceReminderDue) -> None:
        await on_reminder_due(delivery, message, deps)

    return {catalog_events_pb2.OccurrenceStateChanged: state_changed,
            catalog_events_pb2.OccurrenceReminderDue: reminder_due}


def lifecycle_consumer(settings: Settings, deps: RegistrationDeps,
                       consumer_factory: Callable[[], KafkaConsumer] | None = None) -> MessageConsumer:
    """The background job reading the occurrence lifecycle; every replica may run it."""
    group = settings.lifecycle_consumer_group
    return MessageConsumer(
        consumer_factory or (lambda: make_consumer(settings, group, [topics.CATALOG],
                                                  fetch_max_wait_ms=FETCH_MAX_WAIT_MS)), group, handlers(deps),
        consumer.record_refusal(deps.uow, processed_messages, component=COMPONENT,
                                locale=deps.policy.notification_locale))
