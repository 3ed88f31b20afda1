"""Rate limits per client address, per principal and, tighter, per principal's bookings; and
for the visitor sign-in, per address and per card number or phone tried.

Counts live in Redis (sliding-window counters of the `limits` library, through redis-py), so
every gateway replica shares them. Redis being down must not take the API with it: a limit
that cannot be checked lets the request through, logs and counts it.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import time

from fastapi import Request
from limits import RateLimitItem, parse
from limits.aio.storage import RedisStorage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from prometheus_client import Counter

from gateway import problems
from kernel.auth import Principal
from kernel.settings import Settings

log = logging.getLogger(__name__)

REFUSED = Counter("turnout_gateway_rate_limited_total", "Requests refused by a rate limit", ["limit"])
UNCHECKED = Counter("turnout_gateway_rate_limit_unchecked_total",
                    "Requests let through because the rate-limit store did not answer")


class RateLimits:
    def __init__(self, settings: Settings):
        self.enabled = settings.rate_limits_enabled
        self._items: dict[str, RateLimitItem] = {
            "address": parse(settings.rate_limit_per_address),
            "principal": parse(settings.rate_limit_per_principal),
            "bookings": parse(settings.rate_limit_bookings),
            "sign_in_address": parse(settings.rate_limit_sign_in_per_address),
            "sign_in_identifier": parse(settings.rate_limit_sign_in_per_identifier),
        }
        self._identifier_key = settings.visitor_digest_key_bytes()
        url = settings.redis_url.replace("redis://", "async+redis://", 1).replace("rediss://", "async+rediss://", 1)
        self._storage = RedisStorage(url, implementation="redispy", key_prefix="turnout-limits",
                                     socket_timeout=0.25, socket_connect_timeout=0.25)
        self._limiter = SlidingWindowCounterRateLimiter(self._storage)

    async def check(self, limit: str, who: str) -> None:
        """Counts one request of `who` against `limit`; a 429 problem when it is over."""
        if not self.enabled:
            return
        item = self._items[limit]
        try:
            if await self._limiter.hit(item, limit, who):
                return
            stats = await self._limiter.get_window_stats(item, limit, who)
        except Exception as exc:  # noqa: BLE001 - any store failure: serve rather than refuse
            UNCHECKED.inc()
            log.warning("rate limit %s not checked: %s", limit, exc)
            return
        REFUSED.labels(limit).inc()
        retry_after = max(1, math.ceil(stats.reset_time - time.time()))
        raise problems.rate_limited(limit, str(item), retry_after)

    async def check_identifier(self, identifier: str) -> None:
        """Counts a sign-in attempt on one card number or phone (normalised, e.g.
        "phone:+79161234567"), stored under a keyed digest so Redis never holds the number."""
        digest = hmac.new(self._identifier_key, identifier.encode(), hashlib.sha256).hexdigest()
        await self.check("sign_in_identifier", digest)


def _client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def limit_address(request: Request) -> None:
    """Every /v1 request, before authentication (so guessing tokens is limited too)."""
    await request.app.state.rate_limits.check("address", _client_address(request))


async def limit_principal(request: Request) -> None:
    principal: Principal | None = getattr(request.state, "principal", None)
    if principal is not None:
        await request.app.state.rate_limits.check("principal", principal.sub)


async def limit_bookings(request: Request) -> None:
    principal: Principal | None = getattr(request.state, "principal", None)
    await request.app.state.rate_limits.check(
        "bookings", principal.sub if principal is not None else _client_address(request))


async def limit_sign_in_address(request: Request) -> None:
    """Sign-in attempts from one address: far fewer than its other requests, since each one
    guesses at a card."""
    await request.app.state.rate_limits.check("sign_in_address", _client_address(request))
