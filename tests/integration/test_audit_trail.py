"""The audit trail against real Redis: projected from every envelope, recorded by exports,
read back newest first by actor, by target or all, through the reader, gRPC and REST."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta

import grpc
import httpx
import pytest
import redis
import redis.asyncio as aioredis
from google.protobuf import timestamp_pb2

from kernel import topics
from kernel.errors import InvalidArgument
from kernel.grpc_server import create_server
from kernel.pagination import encode_token
from reporting_service import audit_log
from reporting_service.api.audit import AuditServicer
from reporting_service.audit_log import AuditReader
from reporting_service.keyspace import Keyspace
from reporting_service.projections.registry import to_change
from reporting_service.projections.store import ProjectionStore
from turnout.common.v1 import envelope_pb2
from turnout.participant.v1 import registration_events_pb2
from turnout.reporting.v1 import audit_service_pb2, audit_service_pb2_grpc

pytestmark = pytest.mark.integration

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
CREATED = registration_events_pb2.RegistrationCreated.DESCRIPTOR.full_name


def envelope(*, at: datetime, actor: str, aggregate_type: str, aggregate_id: str, version: int,
             event_id: str | None = None) -> bytes:
    occurred = timestamp_pb2.Timestamp()
    occurred.FromDatetime(at)
    message = envelope_pb2.Envelope(
        event_id=event_id or str(uuid.uuid4()), type="turnout.test.v1.SomethingHappened",
        aggregate_type=aggregate_type, aggregate_id=aggregate_id, aggregate_version=version,
        occurred_at=occurred, actor=actor, request_id=f"req-{version}-{aggregate_id}")
    # A payload type the projector does not know: only the audit trail takes it.
    message.payload.type_url = "type.googleapis.com/turnout.test.v1.SomethingHappened"
    return message.SerializeToString()


def history() -> list[tuple[str, bytes]]:
    """30 envelopes of 2 actors on 3 aggregates, several sharing a millisecond; the same on
    every call (the gRPC and REST tests compare with what their server was given)."""
    rng = random.Random(7)
    versions: dict[str, int] = {}
    out = []
    for i in range(30):
        aggregate_type, aggregate_id = rng.choice([("registration", "r1"), ("registration", "r2"),
                                                   ("session", "s1")])
        versions[aggregate_id] = versions.get(aggregate_id, 0) + 1
        at = T0 + timedelta(milliseconds=(i // 3) * 10)  # three at a time share their millisecond
        out.append((topics.PARTICIPANTS, envelope(at=at, actor=rng.choice(["alice", "bob"]),
                                                  aggregate_type=aggregate_type, aggregate_id=aggregate_id,
                                                  version=versions[aggregate_id],
                                                  event_id=str(uuid.UUID(int=rng.getrandbits(128))))))
    return out


def apply(settings, keyspace: Keyspace, messages: list[tuple[str, bytes]]) -> None:
    store = ProjectionStore(redis.Redis.from_url(settings.redis_url), keyspace)
    store.apply([to_change(topic, raw, keyspace) for topic, raw in messages])


def expected(messages, **only) -> list[str]:
    """Event ids newest first (ties by event id, descending), filtered like the reader."""
    rows = []
    for _, raw in messages:
        e = envelope_pb2.Envelope.FromString(raw)
        if "actor" in only and e.actor != only["actor"]:
            continue
        if "target" in only and (e.aggregate_type, e.aggregate_id) != only["target"]:
            continue
        rows.append((e.occurred_at.ToMilliseconds(), e.event_id))
    return [event_id for _, event_id in sorted(rows, reverse=True)]


async def all_pages(reader: AuditReader, size: int, **filters) -> list[str]:
    ids, token = [], ""
    while True:
        page = await reader.page(page_size=size, page_token=token, **filters)
        assert len(page.entries) <= size
        ids.extend(e.entry_id for e in page.entries)
        if not page.next_page_token:
            return ids
        token = page.next_page_token


@pytest.fixture
async def client(settings):
    client = aioredis.from_url(settings.redis_url, decode_responses=True)
    yield client
    await client.aclose()


async def test_every_envelope_becomes_one_entry_and_replays_change_nothing(settings, unique, client) -> None:
    keyspace = Keyspace(prefix=f"test-audit-{unique}")
    messages = history()
    apply(settings, keyspace, messages)
    reader = AuditReader(client, keyspace)
    first = await reader.page(page_size=1000)
    apply(settings, keyspace, messages)  # a replay: the version check skips it
    # Even past the version check (another topic, a forgotten version), the same entries.
    apply(settings, Keyspace(prefix=keyspace.prefix), [("elsewhere", raw) for _, raw in messages])
    again = await reader.page(page_size=1000)
    assert again == first
    assert [e.entry_id for e in first.entries] == expected(messages)
    assert first.next_page_token == ""

    newest = envelope_pb2.Envelope.FromString(messages[-1][1])
    entry = next(e for e in first.entries if e.entry_id == newest.event_id)
    assert (entry.actor, entry.request_id, entry.command, entry.target_type, entry.target_id) == (
        newest.actor, newest.request_id, newest.type, newest.aggregate_type, newest.aggregate_id)
    assert entry.at.startswith("2026-03-01T09:00:00.09")


async def test_pages_by_actor_and_by_target_hold_every_entry_once_in_order(settings, unique, client) -> None:
    keyspace = Keyspace(prefix=f"test-audit-pages-{unique}")
    messages = history()
    apply(settings, keyspace, messages)
    reader = AuditReader(client, keyspace)
    for size in (1, 2, 3, 7):
        assert await all_pages(reader, size) == expected(messages)
        for actor in ("alice", "bob"):
            assert await all_pages(reader, size, actor=actor) == expected(messages, actor=actor)
        for target in (("registration", "r1"), ("registration", "r2"), ("session", "s1")):
            assert await all_pages(reader, size, target_type=target[0], target_id=target[1]) == \
                expected(messages, target=target)
    assert await all_pages(reader, 5, actor="nobody") == []
    assert await all_pages(reader, 5, target_type="registration", target_id="nope") == []
    # A token belongs to its listing: alice's next page is no place to start bob's.
    alices = await reader.page(actor="alice", page_size=1)
    assert alices.next_page_token
    with pytest.raises(InvalidArgument) as refused:
        await reader.page(actor="bob", page_size=1, page_token=alices.next_page_token)
    assert refused.value.violations[0].field == "page_token"


async def test_a_time_range_keeps_the_entries_inside_it(settings, unique, client) -> None:
    keyspace = Keyspace(prefix=f"test-audit-range-{unique}")
    messages = history()
    apply(settings, keyspace, messages)
    reader = AuditReader(client, keyspace)
    start = int((T0 + timedelta(milliseconds=20)).timestamp() * 1000)
    end = int((T0 + timedelta(milliseconds=50)).timestamp() * 1000)
    ids = await all_pages(reader, 2, start_ms=start, end_ms=end)
    inside = [(e.occurred_at.ToMilliseconds(), e.event_id) for e in
              (envelope_pb2.Envelope.FromString(raw) for _, raw in messages)]
    assert ids == [i for ms, i in sorted(inside, reverse=True) if start <= ms < end]
    assert len(ids) == 9


async def test_record_is_idempotent_and_readable_by_actor(settings, unique, client) -> None:
    keyspace = Keyspace(prefix=f"test-audit-record-{unique}")
    entry = {"entry_id": "export-1", "at_iso": "2026-03-01T10:00:00Z", "actor": "carol", "request_id": "req-x",
             "command": "ExportRegistrations", "target_type": "event", "target_id": "e1",
             "detail": '{"format":"csv"}'}
    await audit_log.record(client, keyspace, **entry)
    await audit_log.record(client, keyspace, **entry)
    reader = AuditReader(client, keyspace)
    page = await reader.page(actor="carol", page_size=10)
    assert [(e.entry_id, e.command, e.detail, e.target_type) for e in page.entries] == [
        ("export-1", "ExportRegistrations", '{"format":"csv"}', "event")]
    assert await client.zcard(keyspace.audit_all) == 1


@pytest.fixture
async def audit_server(settings, unique, client):
    keyspace = Keyspace(prefix=f"test-audit-grpc-{unique}")
    apply(settings, keyspace, history())
    audit = AuditServicer(AuditReader(client, keyspace))
    # Only the AuditService of reporting-service's process: the gateway's calls need no other.
    server = create_server("127.0.0.1", 0, [lambda s: audit_service_pb2_grpc.add_AuditServiceServicer_to_server(audit, s)],
                           ["turnout.reporting.v1.AuditService"])
    await server.start()
    yield server
    await server.stop(0)


@pytest.fixture
async def audit_stub(audit_server):
    async with grpc.aio.insecure_channel(f"127.0.0.1:{audit_server.port}") as channel:
        yield audit_service_pb2_grpc.AuditServiceStub(channel)


async def test_grpc_lists_by_target_and_actor_in_pages(audit_stub) -> None:
    messages = history()
    ids, token = [], ""
    while True:
        reply = await audit_stub.ListAuditEntries(audit_service_pb2.ListAuditEntriesRequest(
            target="registrations/r1", page_size=4, page_token=token))
        ids.extend(e.entry_id for e in reply.audit_entries)
        assert all(e.target == "registrations/r1" for e in reply.audit_entries)
        if not reply.next_page_token:
            break
        token = reply.next_page_token
    assert len(ids) == len(expected(messages, target=("registration", "r1"))) == len(set(ids))
    by_bob = await audit_stub.ListAuditEntries(audit_service_pb2.ListAuditEntriesRequest(actor="bob"))
    assert by_bob.audit_entries and all(e.actor == "bob" for e in by_bob.audit_entries)
    first = by_bob.audit_entries[0]
    assert first.create_time.ToDatetime(tzinfo=UTC) >= T0 and first.request_id.startswith("req-")
    stamps = [e.create_time.ToMilliseconds() for e in by_bob.audit_entries]
    assert stamps == sorted(stamps, reverse=True)
    none = await audit_stub.ListAuditEntries(audit_service_pb2.ListAuditEntriesRequest(target="sessions/nope"))
    assert list(none.audit_entries) == [] and none.next_page_token == ""


@pytest.mark.parametrize("request_fields, field", [
    ({"page_token": "not-a-token!"}, "page_token"),
    ({"page_token": encode_token([1, 2])}, "page_token"),
    ({"page_size": -1}, "page_size"),
    ({"target": "registrations"}, "target"),
    ({"actor": "bob", "target": "sessions/s1"}, "target"),
])
async def test_grpc_refuses_bad_requests_naming_the_field(audit_stub, request_fields, field) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await audit_stub.ListAuditEntries(audit_service_pb2.ListAuditEntriesRequest(**request_fields))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field in caught.value.details() or field in str(caught.value.trailing_metadata())


@pytest.fixture
async def audit_rest(settings, audit_server):
    from gateway.app import create_app

    gateway_settings = settings.model_copy(update={
        "event_service_target": "127.0.0.1:1", "participant_service_target": "127.0.0.1:1",
        "reporting_service_target": f"127.0.0.1:{audit_server.port}",
    })
    app = create_app(gateway_settings)
    async with (app.router.lifespan_context(app),
                httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway") as rest):
        yield rest


def bearer(settings, *roles: str) -> dict[str, str]:
    from kernel.auth import issue_token

    return {"Authorization": f"Bearer {issue_token(settings.auth_secret, sub='audit-test', roles=list(roles))}"}


async def test_rest_lists_for_admins_and_analysts_only(settings, audit_rest) -> None:
    messages = history()
    want = expected(messages, target=("session", "s1"))
    ids, token = [], None
    while True:
        params = {"target_type": "session", "target_id": "s1", "page_size": 3}
        if token:
            params["page_token"] = token
        answer = await audit_rest.get("/v1/audit", params=params, headers=bearer(settings, "analyst"))
        assert answer.status_code == 200, answer.text
        body = answer.json()
        ids.extend(e["id"] for e in body["entries"])
        assert all((e["target_type"], e["target_id"]) == ("session", "s1") for e in body["entries"])
        token = body["next_page_token"]
        if not token:
            break
    assert ids == want

    alice = await audit_rest.get("/v1/audit", params={"actor": "alice"}, headers=bearer(settings, "admin"))
    assert alice.status_code == 200 and all(e["actor"] == "alice" for e in alice.json()["entries"])
    assert (await audit_rest.get("/v1/audit", headers=bearer(settings, "volunteer"))).status_code == 403
    bad = await audit_rest.get("/v1/audit", params={"page_token": "garbage!"}, headers=bearer(settings, "admin"))
    assert bad.status_code == 400 and "page_token" in bad.text
    half = await audit_rest.get("/v1/audit", params={"target_type": "session"}, headers=bearer(settings, "admin"))
    assert half.status_code == 400 and "target_id" in half.text


async def test_created_registration_is_named_by_its_event_type(settings, unique, client) -> None:
    keyspace = Keyspace(prefix=f"test-audit-type-{unique}")
    occurred = timestamp_pb2.Timestamp()
    occurred.FromDatetime(T0)
    e = envelope_pb2.Envelope(event_id="ev-1", type=CREATED, aggregate_type="registration", aggregate_id="r9",
                              aggregate_version=1, occurred_at=occurred, actor="alice", request_id="rq")
    e.payload.Pack(registration_events_pb2.RegistrationCreated())
    apply(settings, keyspace, [(topics.PARTICIPANTS, e.SerializeToString())])
    page = await AuditReader(client, keyspace).page(target_type="registration", target_id="r9", page_size=5)
    assert [(x.entry_id, x.command) for x in page.entries] == [("ev-1", CREATED)]
