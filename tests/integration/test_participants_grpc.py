"""ParticipantService over real gRPC against real Postgres."""

from __future__ import annotations

import asyncio
import uuid

import grpc
import pytest
import sqlalchemy as sa

from grpc_details import details
from kernel.pagination import encode_token
from participant_service.adapters.tables import outbox, participants
from turnout.participant.v1 import participant_pb2, participant_service_pb2

pytestmark = pytest.mark.integration

VISITOR = participant_pb2.PARTICIPANT_KIND_VISITOR
VOLUNTEER = participant_pb2.PARTICIPANT_KIND_VOLUNTEER
UNSPECIFIED = participant_pb2.PARTICIPANT_KIND_UNSPECIFIED


@pytest.fixture
def tag(unique: str) -> str:
    """A unique suffix a name may carry: letters only (names refuse digits)."""
    return unique.translate(str.maketrans("0123456789", "ghijklmnop"))


def _create(first: str, last: str, kind: int = VISITOR, request_id: str = "") -> participant_service_pb2.CreateParticipantRequest:
    return participant_service_pb2.CreateParticipantRequest(
        participant=participant_pb2.Participant(first_name=first, last_name=last, kind=kind),
        request_id=request_id or str(uuid.uuid4()),
    )


async def _count(participant_deps, table: sa.Table, *where) -> int:
    async with participant_deps.engine.connect() as connection:
        return await connection.scalar(sa.select(sa.func.count()).select_from(table).where(*where))


async def _outbox_count(participant_deps) -> int:
    return await _count(participant_deps, outbox)


async def _list_all(stub, page_size: int) -> list[participant_pb2.Participant]:
    found, token, pages = [], "", 0
    while True:
        page = await stub.ListParticipants(
            participant_service_pb2.ListParticipantsRequest(page_size=page_size, page_token=token))
        assert len(page.participants) <= page_size
        found += page.participants
        token, pages = page.next_page_token, pages + 1
        if not token:
            return found
        assert pages < 10_000, "paging does not end"


async def test_create_and_get(participant_stub, tag):
    created = await participant_stub.CreateParticipant(_create("  Анна  ", f"Петрова-{tag}"))
    assert created.name.startswith("participants/")
    uuid.UUID(created.name.removeprefix("participants/"))
    assert (created.first_name, created.last_name, created.kind) == ("Анна", f"Петрова-{tag}", VISITOR)
    assert created.card_number.isdigit()
    assert created.create_time.seconds > 0
    fetched = await participant_stub.GetParticipant(participant_service_pb2.GetParticipantRequest(name=created.name))
    assert fetched == created


async def test_list_pages_newest_first_without_repeats(participant_stub, tag):
    created = [await participant_stub.CreateParticipant(_create("Page", f"Tester {tag}-{'abcde'[i]}"))
               for i in range(5)]
    listed = await _list_all(participant_stub, page_size=2)
    names = [p.name for p in listed]
    assert len(names) == len(set(names)), "keyset pages must not repeat"
    ours = [p.name for p in listed if p.last_name.startswith(f"Tester {tag}-")]
    assert ours == [p.name for p in reversed(created)], "newest first, none missing"
    times = [(p.create_time.seconds, p.create_time.nanos) for p in listed]
    assert times == sorted(times, reverse=True)
    assert [p.name for p in await _list_all(participant_stub, page_size=1000)] == names


async def test_list_default_page_size_is_fifty(participant_stub, tag):
    for i in range(51 - len(await _list_all(participant_stub, page_size=1000))):
        await participant_stub.CreateParticipant(_create("Filler", f"Tester {tag}"))
    page = await participant_stub.ListParticipants(participant_service_pb2.ListParticipantsRequest())
    assert len(page.participants) == 50
    assert page.next_page_token


async def test_card_numbers_are_unique_and_numeric(participant_stub, tag):
    created = await asyncio.gather(*[participant_stub.CreateParticipant(_create("Card", f"Holder {tag}"))
                                     for _ in range(10)])
    cards = [p.card_number for p in created]
    assert len(set(cards)) == 10
    assert all(card.isdigit() for card in cards)
    everyone = [p.card_number for p in await _list_all(participant_stub, page_size=1000)]
    assert len(everyone) == len(set(everyone))


@pytest.mark.parametrize(("sent", "stored"), [(UNSPECIFIED, VISITOR), (VISITOR, VISITOR), (VOLUNTEER, VOLUNTEER)])
async def test_kind(participant_stub, tag, sent, stored):
    created = await participant_stub.CreateParticipant(_create("Kind", f"Tester {tag}", kind=sent))
    assert created.kind == stored
    fetched = await participant_stub.GetParticipant(participant_service_pb2.GetParticipantRequest(name=created.name))
    assert fetched.kind == stored


@pytest.mark.parametrize("kind", [3, 99, -1])
async def test_unknown_kind_is_invalid_and_writes_nothing(participant_stub, participant_deps, tag, kind):
    before = await _outbox_count(participant_deps)
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await participant_stub.CreateParticipant(_create("Kind", f"Tester {tag}", kind=kind))
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    reason, fields = details(refused.value)
    assert reason == "VALIDATION_FAILED"
    assert list(fields) == ["participant.kind"]
    assert await _outbox_count(participant_deps) == before
    assert await _count(participant_deps, participants, participants.c.last_name == f"Tester {tag}") == 0


@pytest.mark.parametrize(
    ("first", "last", "fields"),
    [
        ("", "Иванов", ["participant.first_name"]),
        ("Я", "Иванов", ["participant.first_name"]),
        ("Иван2", "Иванов", ["participant.first_name"]),
        ("Иван", "Иванов😀", ["participant.last_name"]),
        ("Иван", "--", ["participant.last_name"]),
        ("Иван", "-Иванов", ["participant.last_name"]),
        ("Иван", "Я" * 101, ["participant.last_name"]),
        ("1", "Иванов-", ["participant.first_name", "participant.last_name"]),
        ("", "", ["participant.first_name", "participant.last_name"]),
    ],
)
async def test_invalid_names_name_every_field_and_write_nothing(participant_stub, participant_deps, first, last,
                                                                fields):
    before = await _outbox_count(participant_deps)
    rows_before = await _count(participant_deps, participants)
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await participant_stub.CreateParticipant(_create(first, last))
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    reason, violations = details(refused.value)
    assert reason == "VALIDATION_FAILED"
    assert sorted(violations) == fields
    assert all(violations.values())
    assert await _outbox_count(participant_deps) == before
    assert await _count(participant_deps, participants) == rows_before


async def test_a_refused_request_id_may_be_retried_corrected(participant_stub, tag):
    request_id = str(uuid.uuid4())
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await participant_stub.CreateParticipant(_create("Я", f"Retry {tag}", request_id=request_id))
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    created = await participant_stub.CreateParticipant(_create("Ян", f"Retry {tag}", request_id=request_id))
    assert created.first_name == "Ян"


async def test_same_request_id_returns_the_first_participant_and_writes_nothing_more(
        participant_stub, participant_deps, tag):
    request = _create("Idem", f"Tester {tag}", kind=VOLUNTEER)
    first = await participant_stub.CreateParticipant(request)
    before = await _outbox_count(participant_deps)
    again = await participant_stub.CreateParticipant(request)
    assert again == first
    assert await _outbox_count(participant_deps) == before
    assert await _count(participant_deps, participants, participants.c.last_name == f"Tester {tag}") == 1


async def test_create_writes_one_outbox_row(participant_stub, participant_deps, tag):
    before = await _outbox_count(participant_deps)
    created = await participant_stub.CreateParticipant(_create("Outbox", f"Tester {tag}"))
    participant_id = created.name.removeprefix("participants/")
    assert await _outbox_count(participant_deps) == before + 1
    async with participant_deps.engine.connect() as connection:
        row = (await connection.execute(
            sa.select(outbox.c.topic, outbox.c.event_type).where(outbox.c.message_key == participant_id))).one()
    assert tuple(row) == ("turnout.participants.v1", "turnout.participant.v1.ParticipantCreated")


async def test_concurrent_twins_create_one_participant(participant_stub, participant_deps, tag):
    request = _create("Twin", f"Tester {tag}")
    before = await _outbox_count(participant_deps)
    answers = await asyncio.gather(*[participant_stub.CreateParticipant(request) for _ in range(20)])
    assert len({a.name for a in answers}) == 1
    assert len({a.card_number for a in answers}) == 1
    assert await _count(participant_deps, participants, participants.c.last_name == f"Tester {tag}") == 1
    assert await _outbox_count(participant_deps) == before + 1


async def test_request_id_reused_with_another_body_is_refused(participant_stub, participant_deps, tag):
    request_id = str(uuid.uuid4())
    first = await participant_stub.CreateParticipant(_create("First", f"Tester {tag}", request_id=request_id))
    before = await _outbox_count(participant_deps)
    for other in (_create("Second", f"Tester {tag}", request_id=request_id),
                  _create("First", f"Tester {tag}", kind=VOLUNTEER, request_id=request_id)):
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await participant_stub.CreateParticipant(other)
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert details(refused.value) == ("REQUEST_ID_REUSED", {"request_id": "was already used for a different request"})
    assert await _outbox_count(participant_deps) == before
    assert await _count(participant_deps, participants, participants.c.last_name == f"Tester {tag}") == 1
    again = await participant_stub.CreateParticipant(_create("First", f"Tester {tag}", request_id=request_id))
    assert again == first


async def test_get_unknown_and_malformed_names(participant_stub):
    with pytest.raises(grpc.aio.AioRpcError) as missing:
        await participant_stub.GetParticipant(
            participant_service_pb2.GetParticipantRequest(name=f"participants/{uuid.uuid4()}"))
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND
    assert details(missing.value)[0] == "NOT_FOUND"
    for malformed_name in ("venues/1", "participants/", "participants/a/b", ""):
        with pytest.raises(grpc.aio.AioRpcError) as malformed:
            await participant_stub.GetParticipant(participant_service_pb2.GetParticipantRequest(name=malformed_name))
        assert malformed.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert list(details(malformed.value)[1]) == ["name"]


@pytest.mark.parametrize(
    "moment",
    ["2025-05-01", "2025-W18-4", "20250501T120000", "0001-01-01T00:00:00+23:59", "2025-05-01T12:00:00+05:30:15",
     "2025-05-01T12:00:00+05:30:15.123456", "9999-12-31T23:59:59.999999-23:59", "2025-05-01T12:00:00"],
)
async def test_odd_but_parseable_token_times_never_fail_the_query(participant_stub, moment):
    """Whatever Python parses as a time is either a position or a refused token, never INTERNAL."""
    try:
        await participant_stub.ListParticipants(
            participant_service_pb2.ListParticipantsRequest(page_size=1, page_token=encode_token([moment, "x"])))
    except grpc.aio.AioRpcError as refused:
        assert refused.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert list(details(refused)[1]) == ["page_token"]


async def test_page_tokens_survive_a_round_trip_through_the_query(participant_stub, tag):
    """The token of a page starts the next page right after its last participant."""
    for letter in "abc":
        await participant_stub.CreateParticipant(_create("Token", f"Tester {tag} {letter}"))
    first = await participant_stub.ListParticipants(participant_service_pb2.ListParticipantsRequest(page_size=2))
    second = await participant_stub.ListParticipants(
        participant_service_pb2.ListParticipantsRequest(page_size=2, page_token=first.next_page_token))
    everyone = await _list_all(participant_stub, page_size=1000)
    assert len(first.participants) == len(second.participants) == 2
    assert [p.name for p in (*first.participants, *second.participants)] == [p.name for p in everyone[:4]]


@pytest.mark.parametrize(
    ("size", "token", "field"),
    [(-1, "", "page_size"), (10, "%%%not-a-token", "page_token"),
     # Well-formed tokens this service never issues: each must be refused, not fail the query.
     (10, encode_token(["2025-05-01T12:00:00+00:00"]), "page_token"),
     (10, encode_token(["not a time", "x"]), "page_token"),
     (10, encode_token([None, None]), "page_token"),
     (10, encode_token([1, 2]), "page_token"),
     (10, encode_token(["2025-05-01T12:00:00+00:00", "\x00"]), "page_token")],
)
async def test_bad_paging_names_the_field(participant_stub, size, token, field):
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await participant_stub.ListParticipants(
            participant_service_pb2.ListParticipantsRequest(page_size=size, page_token=token))
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field in details(refused.value)[1]
