"""event_service's domain events as the protobuf payloads it publishes."""

from __future__ import annotations

from event_service.api.convert import (
    RELEASE_REASON_TO_PROTO,
    STATE_TO_PROTO,
    counts_to_proto,
    event_to_proto,
    lifecycle_occurrence_to_proto,
    occurrence_rounds_to_proto,
    occurrence_to_proto,
    rounds_format_to_proto,
    seat_to_proto,
    session_to_proto,
    venue_to_proto,
)
from event_service.domain.events import (
    EventActivated,
    EventArchived,
    EventCreated,
    EventDeleted,
    EventUpdated,
    SessionDeleted,
    SessionScheduled,
    SessionUpdated,
)
from event_service.domain.ledger import (
    SeatConfirmed,
    SeatExpired,
    SeatHeld,
    SeatReleased,
)
from event_service.domain.lifecycle import (
    Actor,
    OccurrenceReminderDue,
    OccurrenceStateChanged,
)
from event_service.domain.rounds import OccurrenceRoundsScheduled
from event_service.domain.venues import VenueCreated
from kernel import notifications, topics
from kernel.unit_of_work import OutboxMessage, event_mapper
from turnout.event.v1 import catalog_events_pb2, ledger_events_pb2

to_message = event_mapper()
notifications.register(to_message)


@to_message.register
def _(event: VenueCreated) -> OutboxMessage:
    return OutboxMessage(
        topic=topics.CATALOG,
        aggregate_type="venue",
        aggregate_id=event.venue.id,
        aggregate_version=event.venue.version,
        payload=catalog_events_pb2.VenueCreated(venue=venue_to_proto(event.venue)),
    )


@to_message.register
def _(event: EventCreated) -> OutboxMessage:
    return OutboxMessage(
        topic=topics.CATALOG,
        aggregate_type="event",
        aggregate_id=event.event.id,
        aggregate_version=event.event.version,
        payload=catalog_events_pb2.EventCreated(event=event_to_proto(event.event)),
    )


@to_message.register
def _(event: SessionScheduled) -> OutboxMessage:
    return OutboxMessage(
        topic=topics.CATALOG,
        aggregate_type="session",
        aggregate_id=event.session.id,
        aggregate_version=event.session.version,
        payload=catalog_events_pb2.SessionScheduled(session=session_to_proto(event.session),
                                                   occurrence=occurrence_to_proto(event.occurrence)),
    )


# --- the seat ledger: aggregate = the session, its version grows with every seat change ------


def _ledger(seat_event: SeatHeld | SeatConfirmed | SeatReleased | SeatExpired, payload) -> OutboxMessage:
    return OutboxMessage(topic=topics.LEDGER, aggregate_type="session", aggregate_id=seat_event.seat.session_id,
                         aggregate_version=seat_event.version, payload=payload)


@to_message.register
def _(event: SeatHeld) -> OutboxMessage:
    return _ledger(event, ledger_events_pb2.SeatHeld(seat=seat_to_proto(event.seat),
                                                     counts=counts_to_proto(event.counts)))


@to_message.register
def _(event: SeatConfirmed) -> OutboxMessage:
    return _ledger(event, ledger_events_pb2.SeatConfirmed(seat=seat_to_proto(event.seat),
                                                          counts=counts_to_proto(event.counts)))


@to_message.register
def _(event: SeatReleased) -> OutboxMessage:
    return _ledger(event, ledger_events_pb2.SeatReleased(seat=seat_to_proto(event.seat),
                                                         counts=counts_to_proto(event.counts),
                                                         reason=RELEASE_REASON_TO_PROTO[event.reason]))


@to_message.register
def _(event: SeatExpired) -> OutboxMessage:
    return _ledger(event, ledger_events_pb2.SeatExpired(seat=seat_to_proto(event.seat),
                                                        counts=counts_to_proto(event.counts)))


# --- catalog edits -----------------------------------------------------------------------


def _catalog(aggregate_type: str, aggregate_id: str, version: int, payload) -> OutboxMessage:
    return OutboxMessage(topic=topics.CATALOG, aggregate_type=aggregate_type, aggregate_id=aggregate_id,
                         aggregate_version=version, payload=payload)


@to_message.register
def _(event: EventUpdated) -> OutboxMessage:
    return _catalog("event", event.event.id, event.event.version, catalog_events_pb2.EventUpdated(
        event=event_to_proto(event.event), changed_fields=list(event.changed_fields)))


@to_message.register
def _(event: EventArchived) -> OutboxMessage:
    return _catalog("event", event.event.id, event.event.version, catalog_events_pb2.EventArchived(
        event=event_to_proto(event.event), automatic=event.automatic,
        live_registrations=event.live_registrations))


@to_message.register
def _(event: EventActivated) -> OutboxMessage:
    return _catalog("event", event.event.id, event.event.version,
                    catalog_events_pb2.EventActivated(event=event_to_proto(event.event)))


@to_message.register
def _(event: EventDeleted) -> OutboxMessage:
    return _catalog("event", event.event_id, event.version, catalog_events_pb2.EventDeleted(
        name=f"events/{event.event_id}", released_seats=event.released_seats))


@to_message.register
def _(event: SessionUpdated) -> OutboxMessage:
    return _catalog("session", event.session.id, event.session.version, catalog_events_pb2.SessionUpdated(
        session=session_to_proto(event.session), changed_fields=list(event.changed_fields)))


@to_message.register
def _(event: SessionDeleted) -> OutboxMessage:
    return _catalog("session", event.session_id, event.version, catalog_events_pb2.SessionDeleted(
        name=f"sessions/{event.session_id}", event=f"events/{event.event_id}",
        occurrence=f"occurrences/{event.occurrence_id}"))


# --- the occurrence lifecycle: aggregate = the occurrence, its version grows with every step --

_CAUSE_TO_PROTO = {Actor.SCHEDULER: catalog_events_pb2.OCCURRENCE_TRANSITION_CAUSE_SCHEDULER,
                   Actor.ADMIN: catalog_events_pb2.OCCURRENCE_TRANSITION_CAUSE_ADMIN}


@to_message.register
def _(event: OccurrenceStateChanged) -> OutboxMessage:
    payload = catalog_events_pb2.OccurrenceStateChanged(
        occurrence=lifecycle_occurrence_to_proto(event.occurrence), event=f"events/{event.occurrence.event_id}",
        from_state=STATE_TO_PROTO[event.from_state], to_state=STATE_TO_PROTO[event.to_state],
        cause=_CAUSE_TO_PROTO[event.by], release_unanswered=event.release_unanswered)
    payload.change_time.FromDatetime(event.at)
    if event.reconfirmation_deadline is not None:
        payload.reconfirmation_deadline.FromDatetime(event.reconfirmation_deadline)
    if event.rounds is not None:
        payload.rounds.CopyFrom(rounds_format_to_proto(event.rounds))
    return _catalog("occurrence", event.occurrence.id, event.occurrence.version, payload)


@to_message.register
def _(event: OccurrenceRoundsScheduled) -> OutboxMessage:
    return _catalog("occurrence", event.rounds.occurrence_id, event.version,
                    catalog_events_pb2.OccurrenceRoundsScheduled(rounds=occurrence_rounds_to_proto(event.rounds)))


@to_message.register
def _(event: OccurrenceReminderDue) -> OutboxMessage:
    payload = catalog_events_pb2.OccurrenceReminderDue(
        occurrence=lifecycle_occurrence_to_proto(event.occurrence), event=f"events/{event.occurrence.event_id}")
    payload.offset.FromTimedelta(event.offset)
    assert event.occurrence.starts_at is not None
    payload.due_time.FromDatetime(event.occurrence.starts_at - event.offset)
    return _catalog("occurrence", event.occurrence.id, event.occurrence.version, payload)
