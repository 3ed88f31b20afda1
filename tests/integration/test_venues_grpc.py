"""EventService venues over real gRPC against real Postgres."""

from __future__ import annotations

import asyncio
import uuid

import grpc
import pytest
import sqlalchemy as sa

from event_service.adapters.tables import outbox, venues
from grpc_details import details
from kernel.pagination import encode_token
from turnout.event.v1 import event_service_pb2, venue_pb2

pytestmark = pytest.mark.integration


def _create(name: str, request_id: str = "", address: str = "") -> event_service_pb2.CreateVenueRequest:
    return event_service_pb2.CreateVenueRequest(
        venue=venue_pb2.Venue(display_name=name, address=address), request_id=request_id or str(uuid.uuid4())
    )


async def _outbox_count(event_deps) -> int:
    async with event_deps.engine.connect() as connection:
        return await connection.scalar(sa.select(sa.func.count()).select_from(outbox))


async def test_create_get_and_list(event_stub, unique):
    created = await event_stub.CreateVenue(_create(f"Ясная {unique}", address="ул. Ясная, 1"))
    assert created.name.startswith("venues/")
    assert created.display_name == f"Ясная {unique}"
    assert created.create_time.seconds > 0
    fetched = await event_stub.GetVenue(event_service_pb2.GetVenueRequest(name=created.name))
    assert fetched == created
    names = []
    token = ""
    while True:
        page = await event_stub.ListVenues(event_service_pb2.ListVenuesRequest(page_size=2, page_token=token))
        names += [v.name for v in page.venues]
        token = page.next_page_token
        if not token:
            break
    assert created.name in names
    assert len(names) == len(set(names)), "keyset pages must not repeat"


async def test_create_writes_exactly_one_outbox_row_in_the_same_transaction(event_stub, event_deps, unique):
    before = await _outbox_count(event_deps)
    created = await event_stub.CreateVenue(_create(f"Outbox {unique}"))
    async with event_deps.engine.connect() as connection:
        rows = (await connection.execute(
            sa.select(outbox.c.topic, outbox.c.message_key, outbox.c.event_type).where(outbox.c.id > 0)
            .order_by(outbox.c.id.desc()).limit(1))).all()
    assert await _outbox_count(event_deps) == before + 1
    assert rows[0] == ("turnout.catalog.v1", created.name.removeprefix("venues/"), "turnout.event.v1.VenueCreated")


async def test_same_request_id_returns_the_first_venue_and_writes_nothing_more(event_stub, event_deps, unique):
    request = _create(f"Idem {unique}")
    first = await event_stub.CreateVenue(request)
    before = await _outbox_count(event_deps)
    again = await event_stub.CreateVenue(request)
    assert again == first
    assert await _outbox_count(event_deps) == before


async def test_concurrent_twins_create_one_venue(event_stub, event_deps, unique):
    request = _create(f"Twins {unique}")
    answers = await asyncio.gather(*[event_stub.CreateVenue(request) for _ in range(20)])
    assert len({a.name for a in answers}) == 1
    async with event_deps.engine.connect() as connection:
        count = await connection.scalar(
            sa.select(sa.func.count()).select_from(venues).where(venues.c.display_name == f"Twins {unique}"))
    assert count == 1


async def test_request_id_reused_with_another_body_is_refused(event_stub, unique):
    request_id = str(uuid.uuid4())
    await event_stub.CreateVenue(_create(f"First {unique}", request_id))
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await event_stub.CreateVenue(_create(f"Second {unique}", request_id))
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert details(refused.value) == ("REQUEST_ID_REUSED", {"request_id": "was already used for a different request"})


async def test_duplicate_name_is_already_exists_case_insensitively(event_stub, event_deps, unique):
    await event_stub.CreateVenue(_create(f"Гиляровского {unique}"))
    before = await _outbox_count(event_deps)
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await event_stub.CreateVenue(_create(f"  гиляровского   {unique.upper()} ".replace(unique.upper(), unique)))
    assert refused.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert details(refused.value)[0] == "ALREADY_EXISTS"
    assert await _outbox_count(event_deps) == before


@pytest.mark.parametrize(
    ("name", "address", "field"),
    [("", "", "venue.display_name"), ("   ", "", "venue.display_name"), ("x" * 10_000, "", "venue.display_name"),
     ("ok", "a" * 501, "venue.address"), ("Яс\x00ная", "", "venue.display_name"), ("ok", "ул.\x00", "venue.address")],
)
async def test_invalid_venue_names_the_field_and_writes_nothing(event_stub, event_deps, name, address, field):
    before = await _outbox_count(event_deps)
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await event_stub.CreateVenue(_create(name, address=address))
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    reason, fields = details(refused.value)
    assert reason == "VALIDATION_FAILED"
    assert field in fields
    assert await _outbox_count(event_deps) == before


async def test_get_unknown_and_malformed_names(event_stub):
    with pytest.raises(grpc.aio.AioRpcError) as missing:
        await event_stub.GetVenue(event_service_pb2.GetVenueRequest(name=f"venues/{uuid.uuid4()}"))
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.aio.AioRpcError) as malformed:
        await event_stub.GetVenue(event_service_pb2.GetVenueRequest(name="rooms/1"))
    assert malformed.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "name" in details(malformed.value)[1]


@pytest.mark.parametrize(
    ("size", "token", "field"),
    [(-1, "", "page_size"), (10, "%%%not-a-token", "page_token"), (10, encode_token(["ясная"]), "page_token"),
     (10, encode_token(["\x00", "x"]), "page_token")],
)
async def test_bad_paging_names_the_field(event_stub, size, token, field):
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await event_stub.ListVenues(event_service_pb2.ListVenuesRequest(page_size=size, page_token=token))
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field in details(refused.value)[1]
