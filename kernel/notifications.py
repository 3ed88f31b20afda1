"""Notification requests: typed messages on `turnout.notifications.v1` for a messenger bot or
a mailer to deliver (README, "Kafka topics").

A service asks for a notification inside the unit of work of the change that causes it, so
the request commits with the change or not at all:

    async with uow:
        ...
        uow.record(SomethingHappened(...), notifications.Notification(
            recipient=notifications.participant(participant_id), template_key="waitlist.offer",
            parameters={...}, dedup_key=f"waitlist.offer/registrations/{id}/{version}"))
        await uow.commit()

The service's event mapper learns the type once (`notifications.register(to_message)`). Each
request is its own aggregate (aggregate type "notification", id the notification id,
version 1), so version-checking consumers such as the audit trail see every one; the Kafka
key is the recipient, so one recipient's requests stay in order.

Turnout renders no text: a request names a template and its parameters, and the consumer
renders it. Parameters are strings; a value that would carry personal data the template
does not need (phone, names) does not belong in them.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import IntEnum
from typing import Any

from google.protobuf import timestamp_pb2

from kernel import topics
from kernel.unit_of_work import OutboxMessage
from turnout.notification.v1 import notification_pb2

AGGREGATE_TYPE = "notification"
DEFAULT_LOCALE = "ru"
MAX_PARAMETER_CHARS = 1000


class Channel(IntEnum):
    MESSENGER = notification_pb2.NOTIFICATION_CHANNEL_MESSENGER
    EMAIL = notification_pb2.NOTIFICATION_CHANNEL_EMAIL
    SMS = notification_pb2.NOTIFICATION_CHANNEL_SMS


@dataclass(frozen=True)
class Recipient:
    """One participant or every holder of a role; `key` is the Kafka record key."""

    participant_id: str = ""
    role: str = ""

    def __post_init__(self) -> None:
        if bool(self.participant_id) == bool(self.role):
            raise ValueError("a recipient is either a participant or a role")
        if "/" in self.participant_id or "/" in self.role:
            raise ValueError("a recipient id or role must not contain '/'")

    @property
    def key(self) -> str:
        return f"participants/{self.participant_id}" if self.participant_id else f"roles/{self.role}"


def participant(participant_id: str) -> Recipient:
    return Recipient(participant_id=participant_id)


def role(name: str) -> Recipient:
    return Recipient(role=name)


def _default_id() -> str:
    return str(uuid.uuid4())


@dataclass(frozen=True)
class Notification:
    """A notification request, recorded into a unit of work like a domain event."""

    recipient: Recipient
    template_key: str
    parameters: Mapping[str, str]
    dedup_key: str
    channel_hints: tuple[Channel, ...] = (Channel.MESSENGER, Channel.EMAIL)
    locale: str = DEFAULT_LOCALE
    notification_id: str = field(default_factory=_default_id)
    create_time: datetime | None = None

    def __post_init__(self) -> None:
        if not self.template_key or not self.dedup_key:
            raise ValueError("a notification needs a template key and a dedup key")
        for name, value in self.parameters.items():
            if not isinstance(name, str) or not isinstance(value, str):
                raise TypeError(f"notification parameter {name!r} must be a string")


def bounded(text: str, limit: int = MAX_PARAMETER_CHARS) -> str:
    """A free-text parameter value cut to `limit` characters."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def rfc3339(moment: datetime | None) -> str:
    """A timestamp parameter: RFC 3339 in UTC, or "" when there is none."""
    if moment is None:
        return ""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def to_proto(notification: Notification, *, now: datetime | None = None) -> notification_pb2.NotificationRequested:
    created = timestamp_pb2.Timestamp()
    created.FromDatetime(notification.create_time or now or datetime.now(UTC))
    message = notification_pb2.NotificationRequested(
        notification_id=notification.notification_id,
        channel_hints=[int(channel) for channel in notification.channel_hints],
        template_key=notification.template_key,
        parameters=dict(notification.parameters),
        locale=notification.locale,
        dedup_key=notification.dedup_key,
        create_time=created,
    )
    if notification.recipient.participant_id:
        message.participant = notification.recipient.key
    else:
        message.role = notification.recipient.role
    return message


def to_message(notification: Notification) -> OutboxMessage:
    """The outbox row of a request: its own aggregate, keyed by its recipient."""
    return OutboxMessage(topic=topics.NOTIFICATIONS, aggregate_type=AGGREGATE_TYPE,
                         aggregate_id=notification.notification_id, aggregate_version=1,
                         payload=to_proto(notification), key=notification.recipient.key)


def register(mapper: Any) -> None:
    """Teaches a service's event mapper (`kernel.unit_of_work.event_mapper`) the requests."""
    mapper.register(Notification, to_message)


def recipient_key(message: notification_pb2.NotificationRequested) -> str:
    """The Kafka key a consumer sees for a request: "participants/{id}" or "roles/{role}"."""
    which = message.WhichOneof("recipient")
    if which == "participant":
        return message.participant
    if which == "role":
        return f"roles/{message.role}"
    return ""
