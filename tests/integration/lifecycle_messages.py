"""Occurrence lifecycle messages as event_service publishes them, delivered straight to
participant_service's handlers (`participant_service.application.lifecycle`), and the outbox
rows those handlers write.

A plain module: test modules import it as `from lifecycle_messages import ...`.
"""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from google.protobuf import any_pb2
from ledger_fixtures import Occurrence

from kernel import topics
from kernel.consumer import Delivery
from participant_service.adapters.tables import SCHEMA
from turnout.common.v1 import envelope_pb2
from turnout.event.v1 import catalog_events_pb2, event_pb2, session_pb2
from turnout.notification.v1 import notification_pb2

GROUP = "test-participant-lifecycle"
_offsets = itertools.count(1)
REQUESTED = notification_pb2.NotificationRequested.DESCRIPTOR.full_name


_FROM = {session_pb2.OCCURRENCE_STATE_CONFIRMING: session_pb2.OCCURRENCE_STATE_SCHEDULED,
         session_pb2.OCCURRENCE_STATE_READY: session_pb2.OCCURRENCE_STATE_CONFIRMING,
         session_pb2.OCCURRENCE_STATE_CANCELLED: session_pb2.OCCURRENCE_STATE_CONFIRMING}


def _occurrence(occurrence: Occurrence, state: int) -> session_pb2.Occurrence:
    message = session_pb2.Occurrence(name=f"occurrences/{occurrence.occurrence_id}",
                                     event=f"events/{occurrence.event_id}", state=state,
                                     sessions=[f"sessions/{s}" for s in occurrence.sessions.values()])
    message.start_time.FromDatetime(min(occurrence.starts_at.values()))
    return message


def delivery_of(payload, aggregate_id: str) -> Delivery:  # type: ignore[no-untyped-def]
    packed = any_pb2.Any()
    packed.Pack(payload)
    envelope = envelope_pb2.Envelope(event_id=str(uuid.uuid4()), type=payload.DESCRIPTOR.full_name,
                                     aggregate_type="occurrence", aggregate_id=aggregate_id, aggregate_version=2,
                                     actor="system", payload=packed)
    return Delivery(GROUP, topics.CATALOG, 0, next(_offsets), envelope)


def state_changed(occurrence: Occurrence, to_state: int, *, release: bool = False,
                  deadline: datetime | None = None, rounds: bool = False,
                  at: datetime | None = None) -> tuple[Delivery, catalog_events_pb2.OccurrenceStateChanged]:
    message = catalog_events_pb2.OccurrenceStateChanged(
        occurrence=_occurrence(occurrence, to_state), event=f"events/{occurrence.event_id}",
        from_state=_FROM[to_state], to_state=to_state, release_unanswered=release,
        cause=catalog_events_pb2.OCCURRENCE_TRANSITION_CAUSE_ADMIN)
    message.change_time.FromDatetime(at or datetime.now(UTC))
    if deadline is not None:
        message.reconfirmation_deadline.FromDatetime(deadline)
    if rounds:
        message.rounds.CopyFrom(event_pb2.RoundsFormat(round_minutes=10, break_minutes=0, group_size=4))
    return delivery_of(message, occurrence.occurrence_id), message


def reminder_due(occurrence: Occurrence, offset: timedelta) -> tuple[Delivery, catalog_events_pb2.OccurrenceReminderDue]:
    message = catalog_events_pb2.OccurrenceReminderDue(
        occurrence=_occurrence(occurrence, session_pb2.OCCURRENCE_STATE_CONFIRMING),
        event=f"events/{occurrence.event_id}")
    message.offset.FromTimedelta(offset)
    message.due_time.FromDatetime(min(occurrence.starts_at.values()) - offset)
    return delivery_of(message, occurrence.occurrence_id), message


async def last_outbox_id(engine) -> int:  # type: ignore[no-untyped-def]
    async with engine.connect() as connection:
        return await connection.scalar(sa.text(f"SELECT coalesce(max(id), 0) FROM {SCHEMA}.outbox"))


async def outbox_since(engine, after: int) -> list[sa.Row]:  # type: ignore[no-untyped-def]
    """participant_service's outbox rows after `after`, with the transaction that wrote each."""
    async with engine.connect() as connection:
        return list(await connection.execute(sa.text(
            f"SELECT id, topic, message_key, event_type, envelope, xmin::text AS tx FROM {SCHEMA}.outbox "
            "WHERE id > :after ORDER BY id"), {"after": after}))


def notifications_in(rows, template: str | None = None) -> list[notification_pb2.NotificationRequested]:  # type: ignore[no-untyped-def]
    found = []
    for row in rows:
        if row.topic != topics.NOTIFICATIONS or row.event_type != REQUESTED:
            continue
        request = notification_pb2.NotificationRequested()
        envelope_pb2.Envelope.FromString(row.envelope).payload.Unpack(request)
        if template is None or request.template_key == template:
            found.append(request)
    return found
