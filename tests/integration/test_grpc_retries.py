"""Calls between Turnout processes retry UNAVAILABLE with backoff, and nothing else, inside
their deadline (kernel.grpc_client.SERVICE_CONFIG).

The callee is a real gRPC server that fails on purpose a given number of times, so what is
counted is what crossed the wire: the retries are grpc's own, driven by the service config.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import grpc
import pytest

from gateway import problems
from gateway.backends import Backend, CallContext
from kernel import grpc_client
from kernel.settings import Settings
from turnout.event.v1 import event_service_pb2, venue_pb2

pytestmark = pytest.mark.integration

GET_VENUE = "/turnout.event.v1.EventService/GetVenue"
VENUE = venue_pb2.Venue(name="venues/v1", display_name="Hall")


class FlakyCallee:
    """Answers GetVenue after failing `failures` times with `code` (or sleeping `delay`)."""

    def __init__(self) -> None:
        self.attempts = 0
        self.failures = 0
        self.code = grpc.StatusCode.UNAVAILABLE
        self.delay = 0.0

    def arrange(self, *, failures: int = 0, code: grpc.StatusCode = grpc.StatusCode.UNAVAILABLE,
                delay: float = 0.0) -> None:
        self.attempts, self.failures, self.code, self.delay = 0, failures, code, delay

    async def get_venue(self, request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        self.attempts += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.attempts <= self.failures:
            await context.abort(self.code, f"failing on purpose ({self.attempts})")
        return VENUE.SerializeToString()


@pytest.fixture(scope="module")
async def callee():
    flaky = FlakyCallee()
    server = grpc.aio.server()
    handler = grpc.method_handlers_generic_handler(
        "turnout.event.v1.EventService", {"GetVenue": grpc.unary_unary_rpc_method_handler(flaky.get_venue)})
    server.add_generic_rpc_handlers((handler,))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    yield flaky, f"127.0.0.1:{port}"
    await server.stop(None)


def _raw_call(channel: grpc.aio.Channel) -> Callable[..., object]:
    return channel.unary_unary(GET_VENUE, request_serializer=None, response_deserializer=venue_pb2.Venue.FromString)


async def test_unavailable_is_retried_until_it_succeeds(callee) -> None:
    flaky, target = callee
    flaky.arrange(failures=2)
    async with grpc_client.channel(target) as channel:
        venue = await _raw_call(channel)(b"", timeout=5)
    assert venue == VENUE
    assert flaky.attempts == 3


async def test_retries_stop_at_max_attempts(callee) -> None:
    flaky, target = callee
    flaky.arrange(failures=100)
    async with grpc_client.channel(target) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await _raw_call(channel)(b"", timeout=5)
    assert raised.value.code() == grpc.StatusCode.UNAVAILABLE
    assert flaky.attempts == grpc_client.RETRY_POLICY["maxAttempts"]


@pytest.mark.parametrize("code", [grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.NOT_FOUND,
                                  grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.ABORTED,
                                  grpc.StatusCode.INTERNAL, grpc.StatusCode.RESOURCE_EXHAUSTED])
async def test_other_failures_are_never_retried(callee, code: grpc.StatusCode) -> None:
    flaky, target = callee
    flaky.arrange(failures=1, code=code)
    async with grpc_client.channel(target) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await _raw_call(channel)(b"", timeout=5)
    assert raised.value.code() == code
    assert flaky.attempts == 1


async def test_the_deadline_bounds_the_call_and_is_not_retried(callee) -> None:
    flaky, target = callee
    flaky.arrange(delay=1.0)
    async with grpc_client.channel(target) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await _raw_call(channel)(b"", timeout=0.2)
    assert raised.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    await asyncio.sleep(1.0)  # let the slow attempt finish before counting
    assert flaky.attempts == 1


async def test_the_gateway_backend_retries_through_its_breaker(callee, settings: Settings) -> None:
    """One call that succeeded on its third attempt is one success for the breaker."""
    flaky, target = callee
    port = int(target.rpartition(":")[2])
    backend = Backend("event", settings.model_copy(update={"event_service_port": port, "breaker_fail_max": 1}))
    try:
        flaky.arrange(failures=2)
        venue = await backend.call(backend.stub.GetVenue, event_service_pb2.GetVenueRequest(name="venues/v1"),
                                   context=CallContext(request_id="retry-test"))
        assert venue == VENUE and flaky.attempts == 3
        assert backend.breaker.current_state == "closed"

        flaky.arrange(failures=1, code=grpc.StatusCode.NOT_FOUND)
        with pytest.raises(problems.Problem) as refused:
            await backend.call(backend.stub.GetVenue, event_service_pb2.GetVenueRequest(name="venues/v1"),
                               context=CallContext(request_id="retry-test-2"))
        assert refused.value.status == 404 and flaky.attempts == 1
        assert backend.breaker.current_state == "closed"
    finally:
        await backend.close()
