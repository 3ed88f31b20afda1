"""The pure parts of the Kafka consumer (kernel/consumer.py) and the relay's notification
counter (kernel/relay.py)."""

from __future__ import annotations

import asyncpg
import sqlalchemy.exc as sa_exc
from kafka.errors import KafkaConnectionError

from kernel import notifications, topics
from kernel.consumer import Delivery, Undecodable, refusal_notification, transient
from kernel.errors import Aborted, FailedPrecondition, InvalidArgument, Unavailable
from kernel.relay import NOTIFICATIONS_EMITTED, OutboxRow, _count_notifications
from kernel.unit_of_work import build_envelope
from turnout.common.v1 import envelope_pb2


def test_what_is_worth_reading_again() -> None:
    assert transient(Unavailable("event-service is unavailable"))
    assert transient(Aborted("in the way"))
    assert transient(FailedPrecondition("redis away", reason="DEPENDENCY_UNAVAILABLE"))
    assert transient(KafkaConnectionError())
    assert transient(ConnectionRefusedError())
    assert transient(sa_exc.OperationalError("SELECT 1", {}, Exception("connection lost")))
    assert transient(asyncpg.exceptions.ConnectionDoesNotExistError("closed in the middle"))
    assert transient(asyncpg.exceptions.DeadlockDetectedError("deadlock"))
    assert not transient(FailedPrecondition("no rounds", reason="ROUNDS_NOT_SCHEDULABLE"))
    assert not transient(InvalidArgument.single("occurrence", "is malformed"))
    assert not transient(sa_exc.IntegrityError("INSERT", {}, Exception("duplicate")))
    assert not transient(Undecodable("garbage"))


def test_a_skipped_message_is_reported_to_the_admins_under_a_stable_key() -> None:
    envelope = envelope_pb2.Envelope(event_id="e-1", type="turnout.event.v1.OccurrenceStateChanged")
    delivery = Delivery("participant-lifecycle", topics.CATALOG, 3, 42, envelope)
    refused = FailedPrecondition("no rounds for it", reason="ROUNDS_NOT_SCHEDULABLE")
    notification = refusal_notification(delivery, refused, component="participant-service/lifecycle-consumer")
    assert notification.recipient == notifications.role("admin")
    assert notification.template_key == "system.error"
    assert notification.dedup_key == "system.error/message_refused/participant-lifecycle/e-1"
    assert {k: notification.parameters[k] for k in ("error_code", "topic", "partition", "offset", "message_id",
                                                    "message_type", "reason")} == {
        "error_code": "message_refused", "topic": topics.CATALOG, "partition": "3", "offset": "42",
        "message_id": "e-1", "message_type": "turnout.event.v1.OccurrenceStateChanged",
        "reason": "ROUNDS_NOT_SCHEDULABLE"}
    garbage = Delivery("g", topics.CATALOG, 0, 7, None)
    undecodable = refusal_notification(garbage, Undecodable("not an envelope"), component="c")
    assert undecodable.parameters["reason"] == "UNDECODABLE_MESSAGE"
    assert undecodable.dedup_key == f"system.error/message_refused/g/{topics.CATALOG}/0/7"


def test_the_relay_counts_notification_requests_by_template_only() -> None:
    request = notifications.Notification(recipient=notifications.participant("p1"), template_key="unit.test",
                                         parameters={}, dedup_key="unit.test/1")
    message = notifications.to_message(request)
    row = OutboxRow(1, message.topic, message.key or "", build_envelope(message).SerializeToString())
    other = OutboxRow(2, topics.PARTICIPANTS, "r1", b"\xff not decoded: another topic")
    before = NOTIFICATIONS_EMITTED.labels("unit.test")._value.get()
    _count_notifications([row, other, row])
    assert NOTIFICATIONS_EMITTED.labels("unit.test")._value.get() == before + 2
