"""Notification requests on `turnout.notifications.v1`: recorded with the change that causes
them, relayed keyed by recipient, decoded by the README's example consumer, and harmless to
the projector."""

from __future__ import annotations

import asyncio
import importlib.util
import pathlib
import uuid
from datetime import UTC, datetime, timedelta

import grpc
import pytest
import redis
import redis.asyncio as aioredis
import sqlalchemy as sa

from kernel import topics
from kernel.devstack.processes import wait_until
from kernel.kafka import make_producer, make_reader
from kernel.relay import KafkaPublisher, OutboxRelay
from ledger_fixtures import SessionSpec, create_occurrence
from participant_service.adapters.tables import SCHEMA
from participant_service.application.reconciler import reconcile_once
from registration_fixtures import ADMIN, new_participants, register
from reporting_service.audit_log import AuditReader
from reporting_service.keyspace import Keyspace
from reporting_service.projections.registry import to_change
from reporting_service.projections.store import ProjectionStore
from turnout.common.v1 import envelope_pb2
from turnout.notification.v1 import notification_pb2
from turnout.participant.v1 import registration_pb2 as rpb
from turnout.participant.v1 import registration_service_pb2 as pb

pytestmark = pytest.mark.integration

EXAMPLE = pathlib.Path(__file__).resolve().parents[2] / "examples" / "notification_consumer.py"
REQUESTED = notification_pb2.NotificationRequested.DESCRIPTOR.full_name


def example_consumer():
    """examples/notification_consumer.py, loaded as the README shows it (not a package)."""
    spec = importlib.util.spec_from_file_location("notification_consumer_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def engine(event_deps):
    return event_deps.engine


async def _last_outbox_id(engine) -> int:
    async with engine.connect() as connection:
        return await connection.scalar(sa.text(f"SELECT coalesce(max(id), 0) FROM {SCHEMA}.outbox"))


async def _rows_since(engine, after: int) -> list[sa.Row]:
    """Outbox rows after `after`, with the transaction that wrote each (xmin)."""
    async with engine.connect() as connection:
        return list(await connection.execute(sa.text(
            f"SELECT id, topic, message_key, event_type, envelope, xmin::text AS tx FROM {SCHEMA}.outbox "
            "WHERE id > :after ORDER BY id"), {"after": after}))


def _request(row) -> notification_pb2.NotificationRequested:
    envelope = envelope_pb2.Envelope.FromString(row.envelope)
    request = notification_pb2.NotificationRequested()
    assert envelope.payload.Unpack(request)
    assert (envelope.aggregate_type, envelope.aggregate_id, envelope.aggregate_version) == (
        "notification", request.notification_id, 1)
    return request


def _requests(rows, template: str | None = None) -> list[tuple[sa.Row, notification_pb2.NotificationRequested]]:
    found = [(row, _request(row)) for row in rows
             if row.topic == topics.NOTIFICATIONS and row.event_type == REQUESTED]
    return [(row, r) for row, r in found if template is None or r.template_key == template]


async def test_a_booking_asks_every_admin_once_in_its_own_transaction(engine, registration_stub,
                                                                      participant_stub) -> None:
    occurrence = await create_occurrence(engine, [SessionSpec("s", 1)])
    session = occurrence.session("s")
    a, b = await new_participants(participant_stub, 2)
    before = await _last_outbox_id(engine)
    request = register(session, a)
    booked = await registration_stub.CreateRegistration(request, metadata=ADMIN)
    again = await registration_stub.CreateRegistration(request, metadata=ADMIN)  # a retry changes nothing
    assert again.name == booked.name
    with pytest.raises(grpc.aio.AioRpcError):  # sold out, no waitlist: refused
        await registration_stub.CreateRegistration(register(session, b), metadata=ADMIN)

    rows = await _rows_since(engine, before)
    admin = _requests(rows, "registration.created.admin")
    assert len(admin) == 1, [r.parameters for _, r in admin]
    row, notification = admin[0]
    assert row.message_key == "roles/admin"
    assert notification.WhichOneof("recipient") == "role" and notification.role == "admin"
    parameters = dict(notification.parameters)
    assert datetime.fromisoformat(parameters.pop("session_start_time")) == booked.session_start_time.ToDatetime(UTC)
    assert parameters == {"registration": booked.name, "session": session, "event": f"events/{occurrence.event_id}",
                          "participant": f"participants/{a}", "state": "confirmed", "registered_by": "admin-1"}
    assert list(notification.channel_hints) == [notification_pb2.NOTIFICATION_CHANNEL_MESSENGER,
                                                notification_pb2.NOTIFICATION_CHANNEL_EMAIL]
    assert notification.locale == "ru"
    assert notification.dedup_key == f"registration.created.admin/{booked.name}"
    created = [r for r in rows if r.event_type == "turnout.participant.v1.RegistrationCreated"
               and r.message_key == booked.name.removeprefix("registrations/")]
    assert len(created) == 1 and created[0].tx == row.tx, "the request commits with the registration"
    assert not [r for _, r in _requests(rows) if r.parameters.get("participant") == f"participants/{b}"], \
        "a refused booking asks for nothing"


async def _cancel(stub, name: str) -> rpb.Registration:
    return await stub.CancelRegistration(pb.CancelRegistrationRequest(name=name, request_id=str(uuid.uuid4())),
                                         metadata=ADMIN)


async def test_rest_bookings_and_a_waitlist_offer(engine, rest, registration_stub, registration_deps,
                                                  participant_stub) -> None:
    occurrence = await create_occurrence(engine, [SessionSpec("s", 1)])
    session_id = occurrence.sessions["s"]
    a, b = await new_participants(participant_stub, 2)
    before = await _last_outbox_id(engine)
    held = await rest.post(f"/v1/sessions/{session_id}/registrations", json={"participant_id": a, "hold": True})
    assert held.status_code == 202, held.text
    waiting = await rest.post(f"/v1/sessions/{session_id}/registrations", json={"participant_id": b, "waitlist": True})
    assert waiting.status_code == 202, waiting.text
    states = {r.parameters["registration"]: r.parameters["state"]
              for _, r in _requests(await _rows_since(engine, before), "registration.created.admin")}
    assert states == {f"registrations/{held.json()['id']}": "held",
                      f"registrations/{waiting.json()['id']}": "waitlisted"}

    await _cancel(registration_stub, f"registrations/{held.json()['id']}")
    await reconcile_once(registration_deps)
    rows = await _rows_since(engine, before)
    offers = _requests(rows, "waitlist.offer")
    assert len(offers) == 1
    row, offer = offers[0]
    name = f"registrations/{waiting.json()['id']}"
    registration = await registration_stub.GetRegistration(pb.GetRegistrationRequest(name=name), metadata=ADMIN)
    assert registration.state == rpb.REGISTRATION_STATE_OFFERED
    assert row.message_key == f"participants/{b}" == offer.participant
    assert (offer.parameters["registration"], offer.parameters["session"]) == (name, f"sessions/{session_id}")
    assert datetime.fromisoformat(offer.parameters["offer_expire_time"]) == registration.expire_time.ToDatetime(UTC)
    assert offer.channel_hints[0] == notification_pb2.NOTIFICATION_CHANNEL_MESSENGER
    # The typed request comes with the WaitlistOfferMade the topic always carried, in one transaction.
    legacy = [r for r in rows if r.topic == topics.NOTIFICATIONS
              and r.event_type == "turnout.participant.v1.WaitlistOfferMade"]
    assert [r.message_key for r in legacy] == [waiting.json()["id"]] and legacy[0].tx == row.tx


async def test_a_ledger_refusing_an_owed_call_tells_the_admins_once(engine, registration_stub, registration_deps,
                                                                    participant_stub) -> None:
    occurrence = await create_occurrence(engine, [SessionSpec("s", 3)])
    (a,) = await new_participants(participant_stub, 1)
    booked = await registration_stub.CreateRegistration(register(occurrence.session("s"), a), metadata=ADMIN)
    registration_id = booked.name.removeprefix("registrations/")
    bogus_seat = str(uuid.uuid4())
    # A registration that owes the ledger a confirmation of a seat the ledger does not know:
    # every pass retries it and the ledger refuses it every time (NOT_FOUND).
    async with engine.begin() as connection:
        await connection.execute(sa.text(
            f"UPDATE {SCHEMA}.registrations SET seat_sync = 'confirm', seat_id = :seat WHERE id = :id"),
            {"seat": bogus_seat, "id": registration_id})
    before = await _last_outbox_id(engine)
    for _ in range(3):
        await reconcile_once(registration_deps, grace=timedelta(0))
    errors = [(row, r) for row, r in _requests(await _rows_since(engine, before), "system.error")
              if r.parameters.get("registration") == booked.name]
    assert len(errors) == 1, "once per registration, owed call and seat, however many passes retry it"
    row, error = errors[0]
    assert row.message_key == "roles/admin" and error.role == "admin"
    assert {k: error.parameters[k] for k in ("error_code", "owed_call", "seat", "ledger_reason")} == {
        "error_code": "seat_sync_refused", "owed_call": "confirm", "seat": bogus_seat, "ledger_reason": "NOT_FOUND"}
    assert error.parameters["component"] == "participant-service/reconciler" and error.parameters["summary"]
    async with engine.begin() as connection:  # leave nothing owed behind for other tests' passes
        await connection.execute(sa.text(f"UPDATE {SCHEMA}.registrations SET seat_sync = NULL WHERE id = :id"),
                                 {"id": registration_id})


async def _sent(engine, ids: list[int]) -> bool:
    async with engine.connect() as connection:
        unsent = await connection.scalar(sa.text(
            f"SELECT count(*) FROM {SCHEMA}.outbox WHERE id = ANY(:ids) AND sent_at IS NULL"), {"ids": ids})
    return unsent == 0


def _read_notifications(settings, wanted: set[str], timeout: float = 30) -> dict[str, tuple[str, bytes]]:
    """Record key and value of each wanted notification id, read from the topic's beginning."""
    consumer = make_reader(settings, [topics.NOTIFICATIONS])
    decode = example_consumer().decode
    found: dict[str, tuple[str, bytes]] = {}
    try:
        def caught_up() -> bool:
            for records in consumer.poll(timeout_ms=200).values():
                for record in records:
                    request = decode(record.value)
                    if request is not None and request.notification_id in wanted:
                        found[request.notification_id] = (record.key.decode(), record.value)
            return found.keys() >= wanted
        wait_until(caught_up, timeout=timeout, interval=0, what="notifications in kafka")
    finally:
        consumer.close()
    return found


async def test_the_relay_publishes_them_keyed_by_recipient_and_the_example_decodes_them(
        settings, engine, registration_stub, registration_deps, participant_stub) -> None:
    occurrence = await create_occurrence(engine, [SessionSpec("s", 1)])
    session = occurrence.session("s")
    a, b = await new_participants(participant_stub, 2)
    before = await _last_outbox_id(engine)
    booked = await registration_stub.CreateRegistration(register(session, a), metadata=ADMIN)
    await registration_stub.CreateRegistration(register(session, b, waitlist=True), metadata=ADMIN)
    await _cancel(registration_stub, booked.name)
    await reconcile_once(registration_deps)
    mine = _requests(await _rows_since(engine, before))
    assert sorted(r.template_key for _, r in mine) == ["registration.created.admin"] * 2 + ["waitlist.offer"]

    relay = OutboxRelay(settings.asyncpg_dsn, SCHEMA, lambda: KafkaPublisher(make_producer(settings)),
                        batch_size=200, poll_seconds=0.1)
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))
    try:
        async with asyncio.timeout(60):
            while not await _sent(engine, [row.id for row, _ in mine]):
                await asyncio.sleep(0.05)
    finally:
        stop.set()
        await task

    published = await asyncio.to_thread(_read_notifications, settings, {r.notification_id for _, r in mine})
    decode = example_consumer().decode
    for row, request in mine:
        key, value = published[request.notification_id]
        assert key == row.message_key == ("roles/admin" if request.role else f"participants/{b}")
        assert decode(value) == request
        envelope = envelope_pb2.Envelope.FromString(value)
        assert (envelope.type, envelope.aggregate_id) == (REQUESTED, request.notification_id)
    # The example skips the other payload on the topic rather than failing on it.
    legacy = [r for r in await _rows_since(engine, before)
              if r.event_type == "turnout.participant.v1.WaitlistOfferMade" and r.topic == topics.NOTIFICATIONS]
    assert legacy and decode(bytes(legacy[0].envelope)) is None


async def test_the_projector_records_them_in_the_audit_trail_and_projects_nothing_else(
        settings, engine, registration_stub, participant_stub, unique) -> None:
    occurrence = await create_occurrence(engine, [SessionSpec("s", 1)])
    (a,) = await new_participants(participant_stub, 1)
    before = await _last_outbox_id(engine)
    await registration_stub.CreateRegistration(register(occurrence.session("s"), a), metadata=ADMIN)
    ((row, request),) = _requests(await _rows_since(engine, before))
    keyspace = Keyspace(prefix=f"test-notifications-{unique}")
    change = to_change(topics.NOTIFICATIONS, bytes(row.envelope), keyspace)
    assert change is not None
    assert (change.aggregate_type, change.aggregate_id, change.aggregate_version) == (
        "notification", request.notification_id, 1)
    client = redis.Redis.from_url(settings.redis_url, decode_responses=True)
    try:
        store = ProjectionStore(client, keyspace)
        store.apply([change])
        store.apply([to_change(topics.NOTIFICATIONS, bytes(row.envelope), keyspace)])  # a redelivery
    finally:
        client.close()
    reader_client = aioredis.from_url(settings.redis_url, decode_responses=True)
    try:
        page = await AuditReader(reader_client, keyspace).page(target_type="notification",
                                                               target_id=request.notification_id, page_size=5)
    finally:
        await reader_client.aclose()
    assert [(e.command, e.actor) for e in page.entries] == [(REQUESTED, "admin-1")], "one entry, replay or not"
