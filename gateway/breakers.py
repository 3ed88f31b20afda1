"""One circuit breaker per backend, so that a dead backend costs callers nothing but a fast
503 instead of a deadline each, while the other backends keep serving.

pybreaker has no asyncio API; its `calling()` context manager works around an `await`
because it only records the outcome when the block exits, and it holds its (threading)
lock only while deciding whether the call may start, never across the `await`.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import grpc
import pybreaker
from prometheus_client import Gauge

# Only failures of the path to a backend count. A client's own mistake (INVALID_ARGUMENT,
# NOT_FOUND, ...) proves the backend is up, and must never open the circuit (STYLE.md).
INFRASTRUCTURE_CODES = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED})

STATE_VALUES = {pybreaker.STATE_CLOSED: 0, pybreaker.STATE_HALF_OPEN: 1, pybreaker.STATE_OPEN: 2}

# Module level because Prometheus metrics are process-wide: every app built in one process
# (the tests build many) reports into the same registry under its backend label.
BREAKER_STATE = Gauge(
    "turnout_gateway_breaker_state",
    "Circuit breaker state per backend: 0 closed, 1 half-open, 2 open.",
    ["backend"],
)


def is_infrastructure_failure(exc: BaseException) -> bool:
    if isinstance(exc, grpc.aio.AioRpcError):
        return exc.code() in INFRASTRUCTURE_CODES
    # Connection errors that escape grpc (resolver, socket) are infrastructure too.
    return isinstance(exc, OSError)


def _is_not_infrastructure_failure(exc: BaseException) -> bool:
    # pybreaker 1.4 accepts a callable in `exclude`: true means "not a system error".
    # pybreaker counts an excluded exception as a success: right for a business error (the
    # backend answered); for a call cancelled because the client left it is a white lie
    # that at worst closes a half-open circuit one trial early.
    return not is_infrastructure_failure(exc)


class _StateGauge(pybreaker.CircuitBreakerListener):
    def state_change(self, cb: pybreaker.CircuitBreaker, old_state, new_state) -> None:  # type: ignore[no-untyped-def]
        BREAKER_STATE.labels(backend=cb.name).set(STATE_VALUES[new_state.name])


class BackendBreaker(pybreaker.CircuitBreaker):
    """A pybreaker.CircuitBreaker named after its backend, counting only infrastructure
    failures and publishing its state to `turnout_gateway_breaker_state`."""

    def __init__(self, backend: str, *, fail_max: int, reset_timeout: float):
        super().__init__(
            fail_max=fail_max,
            reset_timeout=reset_timeout,
            exclude=[_is_not_infrastructure_failure],
            listeners=[_StateGauge()],
            name=backend,
        )
        # Listeners hear only changes; a fresh breaker must overwrite what an earlier one
        # with the same name left behind.
        BREAKER_STATE.labels(backend=backend).set(STATE_VALUES[self.current_state])

    def retry_after(self) -> int:
        """Whole seconds until an open circuit lets a trial call through; at least 1."""
        opened_at = self._state_storage.opened_at
        if self.current_state != pybreaker.STATE_OPEN or opened_at is None:
            return 1
        # Same clock and origin as pybreaker's own decision in CircuitOpenState.before_call.
        remaining = (opened_at + timedelta(seconds=self.reset_timeout) - datetime.now(UTC)).total_seconds()
        return max(1, math.ceil(remaining))
