"""What every gRPC server of Turnout gets from `kernel.grpc_server`: the request context from
metadata into the outbox envelope, health checking, reflection, metrics and the mapping of
unexpected errors to INTERNAL without leaking them."""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import UTC, datetime, timedelta

import grpc
import pytest
import sqlalchemy as sa
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from prometheus_client import REGISTRY

from event_service.adapters.tables import outbox
from event_service.api.servicer import EventServicer
from grpc_details import details, error_info
from kernel.grpc_server import create_server
from turnout.common.v1 import envelope_pb2
from turnout.event.v1 import catalog_events_pb2, event_service_pb2, event_service_pb2_grpc, venue_pb2

pytestmark = pytest.mark.integration

SERVICE = "turnout.event.v1.EventService"
GET_VENUE = f"/{SERVICE}/GetVenue"


class Exploding(EventServicer):
    """The real servicer, except that GetVenue fails the way a bug would."""

    async def GetVenue(self, request, context):  # type: ignore[no-untyped-def]
        raise RuntimeError("secret detail")


@pytest.fixture(scope="module")
async def plumbed(event_deps):
    """A server of our own (the shared fixtures only expose a stub): (GrpcServer, channel)."""
    servicer = Exploding(event_deps.uow_factory)
    server = create_server("127.0.0.1", 0,
                           [lambda s: event_service_pb2_grpc.add_EventServiceServicer_to_server(servicer, s)],
                           [SERVICE])
    await server.start()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        yield server, channel
    await server.stop(0)


def _create(name: str) -> event_service_pb2.CreateVenueRequest:
    return event_service_pb2.CreateVenueRequest(venue=venue_pb2.Venue(display_name=name, address="ул. Ясная, 1"),
                                                request_id=str(uuid.uuid4()))


async def _envelopes_of(event_deps, venue: venue_pb2.Venue) -> list[envelope_pb2.Envelope]:
    async with event_deps.engine.connect() as connection:
        blobs = (await connection.scalars(
            sa.select(outbox.c.envelope).where(outbox.c.message_key == venue.name.removeprefix("venues/"))
            .order_by(outbox.c.id))).all()
    return [envelope_pb2.Envelope.FromString(blob) for blob in blobs]


# --- (a) request context → outbox envelope --------------------------------------------------


async def test_metadata_reaches_the_outbox_envelope(event_stub, event_deps, unique):
    request_id = str(uuid.uuid4())
    started = datetime.now(UTC)
    created = await event_stub.CreateVenue(
        _create(f"Конверт {unique}"), metadata=(("x-request-id", request_id), ("x-turnout-actor", "alice")))
    (envelope,) = await _envelopes_of(event_deps, created)
    assert (envelope.request_id, envelope.actor) == (request_id, "alice")
    assert envelope.type == "turnout.event.v1.VenueCreated"
    assert (envelope.aggregate_type, envelope.aggregate_id) == ("venue", created.name.removeprefix("venues/"))
    assert envelope.aggregate_version == 1
    uuid.UUID(envelope.event_id)
    occurred = envelope.occurred_at.ToDatetime(tzinfo=UTC)
    assert started - timedelta(seconds=1) <= occurred <= datetime.now(UTC) + timedelta(seconds=1)
    assert envelope.payload.Is(catalog_events_pb2.VenueCreated.DESCRIPTOR)
    payload = catalog_events_pb2.VenueCreated()
    assert envelope.payload.Unpack(payload)
    assert payload.venue == created


async def test_without_metadata_the_actor_is_system_and_the_request_id_fresh(event_stub, event_deps, unique):
    first_request, second_request = _create(f"Без метаданных {unique}"), _create(f"Без метаданных 2 {unique}")
    first = (await _envelopes_of(event_deps, await event_stub.CreateVenue(first_request)))[0]
    second = (await _envelopes_of(event_deps, await event_stub.CreateVenue(second_request)))[0]
    for envelope, request in ((first, first_request), (second, second_request)):
        assert envelope.actor == "system"
        assert str(uuid.UUID(envelope.request_id)) == envelope.request_id
        assert envelope.request_id != request.request_id, "the idempotency key is not the trace id"
    assert first.request_id != second.request_id


async def test_the_request_context_does_not_leak_into_the_next_call(event_stub, event_deps, unique):
    await event_stub.CreateVenue(_create(f"Первый {unique}"), metadata=(("x-turnout-actor", "mallory"),))
    (envelope,) = await _envelopes_of(event_deps, await event_stub.CreateVenue(_create(f"Второй {unique}")))
    assert envelope.actor == "system"


# --- (b) health -----------------------------------------------------------------------------


@pytest.mark.parametrize("service", ["", SERVICE])
async def test_health_is_serving(plumbed, service):
    _, channel = plumbed
    answer = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=service))
    assert answer.status == health_pb2.HealthCheckResponse.SERVING


async def test_health_of_an_unknown_service_is_not_found(plumbed):
    _, channel = plumbed
    with pytest.raises(grpc.aio.AioRpcError) as unknown:
        await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service="turnout.nope.v1.Nope"))
    assert unknown.value.code() == grpc.StatusCode.NOT_FOUND


async def test_stopping_turns_health_not_serving_first(event_deps):
    server = create_server("127.0.0.1", 0, [], [SERVICE])
    await server.start()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        health = health_pb2_grpc.HealthStub(channel)
        assert (await health.Check(health_pb2.HealthCheckRequest())).status == health_pb2.HealthCheckResponse.SERVING
        await server.health.enter_graceful_shutdown()
        for service in ("", SERVICE):
            answer = await health.Check(health_pb2.HealthCheckRequest(service=service))
            assert answer.status == health_pb2.HealthCheckResponse.NOT_SERVING
    await server.stop(0)


# --- (c) reflection -------------------------------------------------------------------------


async def _reflect(channel, request: reflection_pb2.ServerReflectionRequest) -> reflection_pb2.ServerReflectionResponse:
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    (answer,) = [response async for response in stub.ServerReflectionInfo(iter([request]))]
    return answer


async def test_reflection_lists_the_services(plumbed):
    _, channel = plumbed
    answer = await _reflect(channel, reflection_pb2.ServerReflectionRequest(list_services=""))
    names = {service.name for service in answer.list_services_response.service}
    assert {SERVICE, "grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection"} <= names


async def test_reflection_describes_the_service(plumbed):
    _, channel = plumbed
    answer = await _reflect(channel, reflection_pb2.ServerReflectionRequest(file_containing_symbol=SERVICE))
    assert answer.WhichOneof("message_response") == "file_descriptor_response"
    assert answer.file_descriptor_response.file_descriptor_proto


# --- (d) metrics ----------------------------------------------------------------------------


def _handled(method: str, code: str) -> float:
    return REGISTRY.get_sample_value("turnout_grpc_server_handled_total", {"method": method, "code": code}) or 0.0


async def _eventually(condition, timeout: float = 5) -> bool:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(0.01)
    return True


async def test_handled_counter_counts_by_method_and_code(event_stub):
    not_found, ok = _handled(GET_VENUE, "NOT_FOUND"), _handled(GET_VENUE, "OK")
    invalid = _handled(GET_VENUE, "INVALID_ARGUMENT")
    with pytest.raises(grpc.aio.AioRpcError) as missing:
        await event_stub.GetVenue(event_service_pb2.GetVenueRequest(name=f"venues/{uuid.uuid4()}"))
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND
    assert await _eventually(lambda: _handled(GET_VENUE, "NOT_FOUND") == not_found + 1)
    with pytest.raises(grpc.aio.AioRpcError):
        await event_stub.GetVenue(event_service_pb2.GetVenueRequest(name="rooms/1"))
    assert await _eventually(lambda: _handled(GET_VENUE, "INVALID_ARGUMENT") == invalid + 1)
    assert _handled(GET_VENUE, "NOT_FOUND") == not_found + 1
    assert _handled(GET_VENUE, "OK") == ok


# --- (e) unexpected errors ------------------------------------------------------------------


async def test_an_unexpected_error_is_internal_and_never_leaks(plumbed, caplog):
    _, channel = plumbed
    stub = event_service_pb2_grpc.EventServiceStub(channel)
    request_id = str(uuid.uuid4())
    internal = _handled(GET_VENUE, "INTERNAL")
    with caplog.at_level(logging.ERROR, logger="turnout.grpc"):
        with pytest.raises(grpc.aio.AioRpcError) as failed:
            await stub.GetVenue(event_service_pb2.GetVenueRequest(name="venues/x"),
                                metadata=(("x-request-id", request_id),))
    error = failed.value
    assert error.code() == grpc.StatusCode.INTERNAL
    assert request_id in error.details()
    assert "secret detail" not in error.details() and "RuntimeError" not in error.details()
    info = error_info(error)
    assert info is not None
    assert (info.reason, info.domain, dict(info.metadata)) == ("INTERNAL", "turnout.dev", {"request_id": request_id})
    assert details(error) == ("INTERNAL", {})
    trailers = b"".join(value if isinstance(value, bytes) else value.encode()
                        for _, value in (error.trailing_metadata() or ()))
    assert b"secret detail" not in trailers
    assert await _eventually(lambda: _handled(GET_VENUE, "INTERNAL") == internal + 1)
    # The server log keeps what the client must not see.
    logged = [r for r in caplog.records if r.name == "turnout.grpc" and r.exc_info]
    assert any(isinstance(r.exc_info[1], RuntimeError) and str(r.exc_info[1]) == "secret detail" for r in logged)


async def test_an_unexpected_error_without_a_request_id_names_a_fresh_one(plumbed):
    _, channel = plumbed
    stub = event_service_pb2_grpc.EventServiceStub(channel)
    with pytest.raises(grpc.aio.AioRpcError) as failed:
        await stub.GetVenue(event_service_pb2.GetVenueRequest(name="venues/x"))
    info = error_info(failed.value)
    assert info is not None and info.reason == "INTERNAL"
    request_id = info.metadata["request_id"]
    assert str(uuid.UUID(request_id)) == request_id
    assert request_id in failed.value.details()


async def test_the_other_methods_of_the_exploding_server_still_work(plumbed, unique):
    """The failure is per call: the same server keeps serving."""
    _, channel = plumbed
    stub = event_service_pb2_grpc.EventServiceStub(channel)
    created = await stub.CreateVenue(_create(f"Живой {unique}"))
    assert created.display_name == f"Живой {unique}"
