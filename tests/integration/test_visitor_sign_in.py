"""Visitor sign-in against the real engines: gRPC VerifyVisitor and REST POST /v1/auth/visitor.

What matters most: a refusal is the same bytes whatever did not match (so nobody learns
whether a card exists), every attempt counts against the limits and lands in the audit trail
without the card number, phone or last name in clear, and the token acts only for its
visitor.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from contextlib import asynccontextmanager

import grpc
import httpx
import pytest
import redis
import redis.asyncio as aioredis
import sqlalchemy as sa

from gateway.app import create_app
from grpc_details import details
from participant_service.adapters.tables import outbox
from reporting_service.audit_log import AuditReader
from reporting_service.keyspace import Keyspace
from reporting_service.projections.registry import to_change
from reporting_service.projections.store import ProjectionStore
from turnout.common.v1 import envelope_pb2
from turnout.participant.v1 import participant_pb2, participant_service_pb2, visitor_events_pb2

pytestmark = pytest.mark.integration

GENEROUS = "1000000/minute"
ATTEMPTED = visitor_events_pb2.VisitorSignInAttempted.DESCRIPTOR.full_name


def letters(n: int = 8) -> str:
    return "".join(random.choice("абвгдежзиклмнопрстуф") for _ in range(n))


def a_phone() -> str:
    return "+79" + "".join(random.choice("0123456789") for _ in range(9))


def a_fresh_address() -> str:
    number = uuid.uuid4().int
    return f"10.{number % 250}.{number // 250 % 250}.{number // 62500 % 250 + 1}"


async def create_visitor(stub, *, last_name: str, phone: str = "") -> participant_pb2.Participant:
    return await stub.CreateParticipant(participant_service_pb2.CreateParticipantRequest(
        participant=participant_pb2.Participant(first_name="Анна", last_name=last_name, phone=phone,
                                                kind=participant_pb2.PARTICIPANT_KIND_VISITOR),
        request_id=str(uuid.uuid4())))


async def verify(stub, **fields) -> participant_service_pb2.VerifyVisitorResponse:
    return await stub.VerifyVisitor(participant_service_pb2.VerifyVisitorRequest(**fields))


async def refusal(stub, **fields) -> tuple:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await verify(stub, **fields)
    error = caught.value
    return error.code(), error.details(), details(error)


@asynccontextmanager
async def gateway(settings, event_server, participant_server, **overrides):
    """A gateway app of its own, so a test can set tight limits or a short token life."""
    app = create_app(settings.model_copy(update={
        "event_service_target": f"127.0.0.1:{event_server.port}",
        "participant_service_target": f"127.0.0.1:{participant_server.port}",
        "reporting_service_target": "127.0.0.1:1",
        "rate_limit_per_principal": GENEROUS, "rate_limit_per_address": GENEROUS, "rate_limit_bookings": GENEROUS,
        "rate_limit_sign_in_per_address": GENEROUS, "rate_limit_sign_in_per_identifier": GENEROUS,
        **overrides}))
    async with app.router.lifespan_context(app):
        yield app


def anonymous(app, address: str = "127.0.0.1", **headers: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(address, 40000)),
                             base_url="http://gateway", headers=headers)


@pytest.fixture
async def app(settings, event_server, participant_server):
    async with gateway(settings, event_server, participant_server) as app:
        yield app


async def sign_in_attempts(engine, request_id: str) -> list[envelope_pb2.Envelope]:
    """The sign-in envelopes committed to participant-service's outbox for one request."""
    async with engine.connect() as connection:
        rows = await connection.execute(sa.select(outbox.c.envelope).where(outbox.c.event_type == ATTEMPTED))
        envelopes = [envelope_pb2.Envelope.FromString(row.envelope) for row in rows]
    return [e for e in envelopes if e.request_id == request_id]


# --- gRPC ---------------------------------------------------------------------------------


async def test_grpc_matches_card_or_phone_with_the_last_name_in_any_case(participant_stub) -> None:
    last = "Ёлкина" + letters()
    phone = a_phone()
    visitor = await create_visitor(participant_stub, last_name=last, phone=phone)
    by_card = await verify(participant_stub, last_name=f"  {last.upper().replace('Ё', 'Е')} ",
                           card_number=f" {visitor.card_number} ")
    assert by_card.participant == visitor.name
    spaced = f"8 ({phone[2:5]}) {phone[5:8]}-{phone[8:10]}-{phone[10:]}"
    by_phone = await verify(participant_stub, last_name=last.lower(), phone=spaced)
    assert by_phone.participant == visitor.name


async def test_grpc_refusals_are_indistinguishable(participant_stub) -> None:
    last = "Орлов" + letters()
    phone, shared = a_phone(), a_phone()
    visitor = await create_visitor(participant_stub, last_name=last, phone=phone)
    twin_last = "Зайцев" + letters()
    for _ in range(2):  # one phone, two people of one last name: it names nobody in particular
        await create_visitor(participant_stub, last_name=twin_last, phone=shared)
    refusals = [
        await refusal(participant_stub, last_name="Другой" + letters(), card_number=visitor.card_number),
        await refusal(participant_stub, last_name=last, card_number="9" + str(random.randrange(10**9))),
        await refusal(participant_stub, last_name=last, card_number="no-such-card"),
        await refusal(participant_stub, last_name=last, phone=a_phone()),
        await refusal(participant_stub, last_name="Другой" + letters(), phone=phone),
        await refusal(participant_stub, last_name=twin_last, phone=shared),
    ]
    assert refusals[0][0] == grpc.StatusCode.UNAUTHENTICATED
    assert refusals[0][2] == ("SIGN_IN_FAILED", {})
    assert all(r == refusals[0] for r in refusals), refusals


async def test_grpc_a_shared_phone_is_told_apart_by_the_last_name(participant_stub) -> None:
    shared = a_phone()
    mother = await create_visitor(participant_stub, last_name="Петрова" + letters(), phone=shared)
    son = await create_visitor(participant_stub, last_name="Сидоров" + letters(), phone=shared)
    assert (await verify(participant_stub, last_name=mother.last_name, phone=shared)).participant == mother.name
    assert (await verify(participant_stub, last_name=son.last_name, phone=shared)).participant == son.name


@pytest.mark.parametrize(("fields", "field"), [
    ({"card_number": "100001"}, "last_name"),
    ({"last_name": "Иванов"}, "identifier"),
    ({"last_name": "Иванов", "card_number": ""}, "card_number"),
    ({"last_name": "Иванов", "phone": "12345"}, "phone"),
    ({"last_name": "И" * 101, "card_number": "100001"}, "last_name"),
    ({"last_name": "Иванов", "card_number": "1" * 33}, "card_number"),
])
async def test_grpc_malformed_requests_name_the_field_and_write_nothing(participant_stub, participant_deps,
                                                                         fields, field) -> None:
    request_id = str(uuid.uuid4())
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await participant_stub.VerifyVisitor(participant_service_pb2.VerifyVisitorRequest(**fields),
                                             metadata=(("x-request-id", request_id),))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field in details(caught.value)[1]
    assert await sign_in_attempts(participant_deps.engine, request_id) == []


async def test_every_attempt_is_one_event_in_its_transaction_and_nothing_else_changes(
        participant_stub, participant_deps) -> None:
    last = "Волков" + letters()
    phone = a_phone()
    visitor = await create_visitor(participant_stub, last_name=last, phone=phone)
    ok, wrong = str(uuid.uuid4()), str(uuid.uuid4())
    await participant_stub.VerifyVisitor(participant_service_pb2.VerifyVisitorRequest(
        last_name=last, card_number=visitor.card_number), metadata=(("x-request-id", ok),))
    with pytest.raises(grpc.aio.AioRpcError):
        await participant_stub.VerifyVisitor(participant_service_pb2.VerifyVisitorRequest(
            last_name="Не" + last, card_number=visitor.card_number), metadata=(("x-request-id", wrong),))

    [succeeded] = await sign_in_attempts(participant_deps.engine, ok)
    [refused] = await sign_in_attempts(participant_deps.engine, wrong)
    payloads = []
    for envelope in (succeeded, refused):
        assert (envelope.aggregate_type, envelope.aggregate_version) == ("visitor_sign_in", 1)
        payload = visitor_events_pb2.VisitorSignInAttempted()
        assert envelope.payload.Unpack(payload)
        payloads.append(payload)
        raw = envelope.SerializeToString()
        for secret in (visitor.card_number, phone, phone[2:], last, last.casefold()):
            assert secret.encode() not in raw
    assert payloads[0].participant == visitor.name
    assert payloads[0].outcome == visitor_events_pb2.VISITOR_SIGN_IN_OUTCOME_SUCCEEDED
    assert payloads[1].participant == ""
    assert payloads[1].outcome == visitor_events_pb2.VISITOR_SIGN_IN_OUTCOME_REFUSED
    # The same card gives the same digest, so tries on one card line up in the audit trail.
    assert payloads[0].identifier_digest == payloads[1].identifier_digest
    assert payloads[0].identifier_kind == visitor_events_pb2.VISITOR_IDENTIFIER_KIND_CARD_NUMBER
    # Signing in changes no participant: same version, same fields.
    assert await participant_stub.GetParticipant(participant_service_pb2.GetParticipantRequest(
        name=visitor.name)) == visitor


async def test_the_audit_trail_shows_sign_ins_without_the_identifiers(settings, unique, participant_stub,
                                                                      participant_deps) -> None:
    last = "Соколова" + letters()
    visitor = await create_visitor(participant_stub, last_name=last)
    ok, wrong = str(uuid.uuid4()), str(uuid.uuid4())
    await participant_stub.VerifyVisitor(participant_service_pb2.VerifyVisitorRequest(
        last_name=last, card_number=visitor.card_number), metadata=(("x-request-id", ok),))
    with pytest.raises(grpc.aio.AioRpcError):
        await participant_stub.VerifyVisitor(participant_service_pb2.VerifyVisitorRequest(
            last_name="Иная" + letters(), card_number=visitor.card_number), metadata=(("x-request-id", wrong),))
    envelopes = (await sign_in_attempts(participant_deps.engine, ok)
                 + await sign_in_attempts(participant_deps.engine, wrong))
    # The committed envelopes through the projector's own code into a keyspace of this test.
    keyspace = Keyspace(prefix=f"test-sign-in-audit-{unique}")
    ProjectionStore(redis.Redis.from_url(settings.redis_url), keyspace).apply(
        [to_change("turnout.participants.v1", e.SerializeToString(), keyspace) for e in envelopes])

    client = aioredis.from_url(settings.redis_url, decode_responses=True)
    try:
        reader = AuditReader(client, keyspace)
        mine = await reader.page(target_type="participant", target_id=visitor.name.split("/")[1], page_size=10)
        every = await reader.page(page_size=10)
    finally:
        await client.aclose()
    [success] = mine.entries
    assert (success.command, success.request_id, success.actor) == ("SignInVisitor", ok, "system")
    assert success.detail.startswith("succeeded by card_number ")
    [failure] = [e for e in every.entries if e.request_id == wrong]
    assert (failure.command, failure.target_type) == ("SignInVisitor", "visitor_identifier")
    assert failure.detail.startswith("refused by card_number ")
    for entry in every.entries:
        for value in vars(entry).values():
            assert visitor.card_number not in value and last.casefold() not in value.casefold()


# --- REST ---------------------------------------------------------------------------------


async def test_rest_sign_in_gives_a_token_for_the_visitor_only(app, participant_stub) -> None:
    last = "Кузнецов" + letters()
    visitor = await create_visitor(participant_stub, last_name=last)
    other = await create_visitor(participant_stub, last_name="Попов" + letters())
    async with anonymous(app) as client:
        answer = await client.post("/v1/auth/visitor", json={"last_name": last.upper(),
                                                              "card_number": visitor.card_number})
        assert answer.status_code == 200, answer.text
        assert answer.headers["cache-control"] == "no-store"
        body = answer.json()
        visitor_id = visitor.name.split("/")[1]
        assert (body["token_type"], body["expires_in"], body["participant_id"]) == ("bearer", 900, visitor_id)
        bearer = {"Authorization": f"Bearer {body['access_token']}"}
        own = await client.get(f"/v1/participants/{visitor_id}/registrations", headers=bearer)
        assert own.status_code == 200, own.text
        theirs = await client.get(f"/v1/participants/{other.name.split('/')[1]}/registrations", headers=bearer)
        assert theirs.status_code in (403, 404), theirs.text
        # Signing in opens that one route only: the rest of /v1 still wants a token.
        assert (await client.get("/v1/venues")).status_code == 401


async def test_rest_refusals_are_byte_identical(app, participant_stub) -> None:
    last = "Морозов" + letters()
    phone, shared = a_phone(), a_phone()
    visitor = await create_visitor(participant_stub, last_name=last, phone=phone)
    twin = "Лебедев" + letters()
    for _ in range(2):
        await create_visitor(participant_stub, last_name=twin, phone=shared)
    attempts = [
        {"last_name": "Другой" + letters(), "card_number": visitor.card_number},  # wrong last name
        {"last_name": last, "card_number": "9" + str(random.randrange(10**9))},  # unknown card
        {"last_name": last, "phone": a_phone()},  # unknown phone
        {"last_name": twin, "phone": shared},  # ambiguous phone
    ]
    answers = []
    async with anonymous(app, **{"X-Request-ID": "same-request-id"}) as client:
        for attempt in attempts:
            answer = await client.post("/v1/auth/visitor", json=attempt)
            answers.append((answer.status_code, answer.content, answer.headers["content-type"],
                            answer.headers.get("www-authenticate")))
    assert answers[0][0] == 401
    assert httpx.Response(401, content=answers[0][1]).json()["code"] == "sign_in_failed"
    assert all(a == answers[0] for a in answers), answers


@pytest.mark.parametrize(("body", "status", "field"), [
    ({"last_name": "Иванов"}, 400, "card_number"),
    ({"last_name": "Иванов", "card_number": "100001", "phone": "+79161234567"}, 400, "phone"),
    ({"last_name": "Иванов", "card_number": "100001", "password": "x"}, 422, "password"),
    ({"card_number": "100001"}, 422, "last_name"),
    ({"last_name": "Иванов", "phone": "not a phone"}, 400, "phone"),
])
async def test_rest_bad_bodies_name_the_field(app, body, status, field) -> None:
    async with anonymous(app) as client:
        answer = await client.post("/v1/auth/visitor", json=body)
    assert answer.status_code == status, answer.text
    assert field in [e["field"] for e in answer.json()["errors"]]


async def test_rest_token_expires(settings, event_server, participant_server, participant_stub) -> None:
    last = "Новиков" + letters()
    visitor = await create_visitor(participant_stub, last_name=last)
    visitor_id = visitor.name.split("/")[1]
    async with (gateway(settings, event_server, participant_server, visitor_token_ttl_seconds=1) as app,
                anonymous(app) as client):
        body = (await client.post("/v1/auth/visitor", json={"last_name": last,
                                                             "card_number": visitor.card_number})).json()
        assert body["expires_in"] == 1
        bearer = {"Authorization": f"Bearer {body['access_token']}"}
        assert (await client.get(f"/v1/participants/{visitor_id}/registrations", headers=bearer)).status_code == 200
        await asyncio.sleep(2.1)
        expired = await client.get(f"/v1/participants/{visitor_id}/registrations", headers=bearer)
        assert expired.status_code == 401 and expired.json()["code"] == "unauthenticated"


def assert_limited(answer: httpx.Response, limit: str) -> None:
    assert answer.status_code == 429, answer.text
    assert answer.json()["code"] == "rate_limited" and answer.json()["limit"] == limit
    assert 1 <= int(answer.headers["Retry-After"]) <= 60


async def test_rest_attempts_per_address_are_limited(settings, event_server, participant_server,
                                                     participant_stub) -> None:
    last = "Егоров" + letters()
    visitor = await create_visitor(participant_stub, last_name=last)
    async with gateway(settings, event_server, participant_server, rate_limit_sign_in_per_address="3/minute") as app:
        address = a_fresh_address()
        async with anonymous(app, address) as client:
            statuses = [(await client.post("/v1/auth/visitor", json={
                "last_name": last, "card_number": str(random.randrange(10**9))})).status_code for _ in range(3)]
            assert statuses == [401, 401, 401]
            # The right answer does not get through either: the address used up its tries.
            assert_limited(await client.post("/v1/auth/visitor", json={
                "last_name": last, "card_number": visitor.card_number}), "sign_in_address")
        async with anonymous(app, a_fresh_address()) as elsewhere:
            assert (await elsewhere.post("/v1/auth/visitor", json={
                "last_name": last, "card_number": visitor.card_number})).status_code == 200


async def test_rest_attempts_per_identifier_are_limited_whether_or_not_it_exists(
        settings, event_server, participant_server, participant_stub) -> None:
    last = "Павлов" + letters()
    phone = a_phone()
    visitor = await create_visitor(participant_stub, last_name=last, phone=phone)
    async with gateway(settings, event_server, participant_server,
                       rate_limit_sign_in_per_identifier="2/minute") as app:
        async def tries(**identifier: str) -> list[httpx.Response]:
            out = []
            for _ in range(3):  # each from its own address: only the identifier is counted
                async with anonymous(app, a_fresh_address()) as client:
                    out.append(await client.post("/v1/auth/visitor", json={"last_name": "Чужой" + letters(),
                                                                           **identifier}))
            return out

        real = await tries(card_number=visitor.card_number)
        unknown = await tries(card_number=str(random.randrange(10**12)))
        assert [a.status_code for a in real] == [a.status_code for a in unknown] == [401, 401, 429]
        assert_limited(real[2], "sign_in_identifier")
        assert_limited(unknown[2], "sign_in_identifier")
        # The phone written another way is the same phone, and counts against the same limit.
        other_forms = [phone, "8" + phone[2:], f"+7 ({phone[2:5]}) {phone[5:8]}-{phone[8:10]}-{phone[10:]}"]
        answers = []
        for form in other_forms:
            async with anonymous(app, a_fresh_address()) as client:
                answers.append(await client.post("/v1/auth/visitor", json={"last_name": last, "phone": form}))
        assert [a.status_code for a in answers] == [200, 200, 429]
