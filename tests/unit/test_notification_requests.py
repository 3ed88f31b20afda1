"""The notification request builder (`kernel.notifications`) and participant_service's
templates, without engines."""

from __future__ import annotations

import importlib.util
import pathlib
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from kernel import context, notifications, topics
from kernel.errors import NotFound
from kernel.notifications import Channel, Notification
from kernel.unit_of_work import OutboxMessage, build_envelope, event_mapper
from participant_service.adapters.messages import to_message as participant_messages
from participant_service.application import notifications as templates
from participant_service.domain import registrations as domain
from turnout.notification.v1 import notification_pb2
from turnout.participant.v1 import registration_events_pb2

ROOT = pathlib.Path(__file__).resolve().parents[2]
NOW = datetime(2026, 5, 1, 9, 30, tzinfo=UTC)
SESSION = domain.SessionSnapshot("s-1", "e-1", NOW + timedelta(days=2), NOW + timedelta(days=2, hours=2))


def _registration(**changes) -> domain.Registration:
    registration = domain.new_registration(
        registration_id="r-1", participant_id="p-1", session=SESSION, now=NOW, registered_by="vol-7",
        comment="позвоните мне +79991234567", hold=False, seat_id="seat-1", expires_at=None, capacity_override=False)
    return replace(registration, **changes)


def test_a_participant_request_becomes_an_outbox_message_keyed_by_its_recipient() -> None:
    request = Notification(recipient=notifications.participant("p-1"), template_key="waitlist.offer",
                           parameters={"registration": "registrations/r-1"}, dedup_key="waitlist.offer/r-1/1",
                           channel_hints=(Channel.MESSENGER, Channel.SMS), locale="ru", create_time=NOW)
    message = notifications.to_message(request)
    assert (message.topic, message.aggregate_type, message.aggregate_id, message.aggregate_version, message.key) \
        == (topics.NOTIFICATIONS, "notification", request.notification_id, 1, "participants/p-1")
    payload = message.payload
    assert isinstance(payload, notification_pb2.NotificationRequested)
    assert payload.WhichOneof("recipient") == "participant" and payload.participant == "participants/p-1"
    assert list(payload.channel_hints) == [notification_pb2.NOTIFICATION_CHANNEL_MESSENGER,
                                           notification_pb2.NOTIFICATION_CHANNEL_SMS]
    assert (payload.template_key, dict(payload.parameters), payload.locale, payload.dedup_key) == (
        "waitlist.offer", {"registration": "registrations/r-1"}, "ru", "waitlist.offer/r-1/1")
    assert payload.create_time.ToDatetime(tzinfo=UTC) == NOW
    assert notifications.recipient_key(payload) == message.key


def test_a_role_request_is_keyed_by_the_role_and_ids_are_fresh() -> None:
    first, second = (Notification(recipient=notifications.role("admin"), template_key="system.error",
                                  parameters={}, dedup_key="x") for _ in range(2))
    message = notifications.to_message(first)
    assert message.key == "roles/admin" and message.payload.role == "admin"
    assert message.payload.WhichOneof("recipient") == "role"
    assert notifications.recipient_key(message.payload) == "roles/admin"
    assert first.notification_id != second.notification_id
    assert message.payload.HasField("create_time")


@pytest.mark.parametrize("recipient", [{}, {"participant_id": "p", "role": "admin"}, {"role": "a/b"}])
def test_a_recipient_is_exactly_one_participant_or_role(recipient) -> None:
    with pytest.raises(ValueError):
        notifications.Recipient(**recipient)


def test_requests_need_a_template_a_dedup_key_and_string_parameters() -> None:
    admin = notifications.role("admin")
    with pytest.raises(ValueError):
        Notification(recipient=admin, template_key="", parameters={}, dedup_key="k")
    with pytest.raises(ValueError):
        Notification(recipient=admin, template_key="t", parameters={}, dedup_key="")
    with pytest.raises(TypeError):
        Notification(recipient=admin, template_key="t", parameters={"n": 1}, dedup_key="k")  # type: ignore[dict-item]


def test_a_mapper_learns_requests_and_the_envelope_carries_them() -> None:
    mapper = event_mapper()
    notifications.register(mapper)
    request = Notification(recipient=notifications.role("admin"), template_key="t", parameters={}, dedup_key="k")
    token = context.bind(context.RequestContext(request_id="rq-1", actor="alice"))
    try:
        envelope = build_envelope(mapper(request))
    finally:
        context.reset(token)
    decoded = notification_pb2.NotificationRequested()
    assert envelope.payload.Unpack(decoded) and decoded.notification_id == request.notification_id
    assert (envelope.type, envelope.aggregate_type, envelope.aggregate_id, envelope.aggregate_version) == (
        "turnout.notification.v1.NotificationRequested", "notification", request.notification_id, 1)
    assert (envelope.actor, envelope.request_id) == ("alice", "rq-1")


def test_helpers_format_timestamps_and_bound_free_text() -> None:
    assert notifications.rfc3339(NOW) == "2026-05-01T09:30:00Z"
    assert notifications.rfc3339(None) == ""
    assert notifications.bounded("x" * 5000) == "x" * 999 + "…"
    assert notifications.bounded("short") == "short"


def test_registration_created_goes_to_every_admin_with_ids_and_no_personal_data() -> None:
    registration = _registration()
    request = templates.registration_created(registration, locale="ru")
    assert (request.recipient.key, request.template_key, request.locale) == ("roles/admin",
                                                                             "registration.created.admin", "ru")
    assert dict(request.parameters) == {
        "registration": "registrations/r-1", "session": "sessions/s-1", "event": "events/e-1",
        "session_start_time": "2026-05-03T09:30:00Z", "participant": "participants/p-1", "state": "confirmed",
        "registered_by": "vol-7"}
    assert request.dedup_key == "registration.created.admin/registrations/r-1"
    assert "+7999" not in str(request), "the comment (and any phone in it) stays out"
    assert participant_messages(request).key == "roles/admin", "participant_service maps it"


def test_waitlist_offer_goes_to_the_participant_once_per_offer() -> None:
    waiting = domain.waitlisted(registration_id="r-2", participant_id="p-2", session=SESSION, now=NOW,
                                registered_by="p-2", comment="")
    offer = domain.offered(waiting, NOW, seat_id="seat-2", expires_at=NOW + timedelta(minutes=15))
    request = templates.waitlist_offer(offer, locale="ru")
    assert request.recipient.key == "participants/p-2" and request.template_key == "waitlist.offer"
    assert request.parameters["offer_expire_time"] == "2026-05-01T09:45:00Z"
    assert request.parameters["registration"] == "registrations/r-2"
    again = domain.offered(replace(offer, state=domain.State.WAITLISTED), NOW, seat_id="seat-3",
                           expires_at=NOW + timedelta(minutes=15))
    assert templates.waitlist_offer(again, locale="ru").dedup_key != request.dedup_key


def test_seat_sync_refused_is_a_system_error_for_admins() -> None:
    registration = _registration()
    request = templates.seat_sync_refused(registration, NotFound("seat seat-1 does not exist"), locale="ru")
    assert (request.recipient.key, request.template_key) == ("roles/admin", "system.error")
    assert request.parameters["error_code"] == "seat_sync_refused"
    assert (request.parameters["owed_call"], request.parameters["ledger_reason"], request.parameters["seat"]) == (
        "confirm", "NOT_FOUND", "seat-1")
    assert request.dedup_key == templates.system_error_key(registration)


def _envelope(payload) -> bytes:
    return build_envelope(OutboxMessage(topics.NOTIFICATIONS, "x", "x-1", 1, payload)).SerializeToString()


def _readme_decode():
    """The `decode` of the README's notification consumer, run as printed (up to the part that
    connects to Kafka)."""
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("### Notification requests"):]
    block = section[section.index("```python\n") + len("```python\n"):]
    block = block[:block.index("```")]
    namespace: dict = {}
    exec(compile(block[:block.index("consumer = KafkaConsumer")], "README.md", "exec"), namespace)  # noqa: S102
    return namespace["decode"]


def _example_decode():
    spec = importlib.util.spec_from_file_location("notification_consumer_example",
                                                  ROOT / "examples" / "notification_consumer.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module.decode


@pytest.mark.parametrize("decode", [_readme_decode, _example_decode], ids=["readme", "example"])
def test_the_documented_consumer_decodes_requests_and_skips_other_payloads(decode) -> None:
    decode = decode()
    request = templates.registration_created(_registration(), locale="ru")
    message = notifications.to_proto(request)  # create_time is the registration's: deterministic
    assert decode(_envelope(message)) == message
    offer = registration_events_pb2.WaitlistOfferMade()
    assert decode(_envelope(offer)) is None
