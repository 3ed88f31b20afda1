"""The registration reconciler: what the saga and the waitlist leave for later.

One pass (`reconcile_once`):
  * makes the ledger calls registrations still owe (`seat_sync`): a confirmation whose call
    failed or whose process died, a release after a cancellation;
  * turns HELD registrations and OFFERED waitlist places past their expiry EXPIRED (the
    ledger's own sweeper frees their seats);
  * offers freed seats to the head of each waitlist: a hold with its own expiry, published
    to `turnout.notifications.v1` for the notifier (`WaitlistOfferMade` and a `waitlist.offer`
    notification request);
  * refreshes `turnout_reconfirmations_pending`.
A ledger that refuses a call a registration owes (not a transient failure: the call is
retried every pass and would fail the same way) is a system error: every admin is sent one
`system.error` notification request per registration, owed call and seat, however many
passes retry it. Its key row in `idempotency_keys` makes it once, across passes and replicas.
Every step is safe on several replicas at once: rows are locked (waitlist heads with SKIP
LOCKED), ledger calls carry request ids derived from the registration, and a row that
changed meanwhile is left alone.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import timedelta

from prometheus_client import Gauge

from kernel import periodic
from kernel.errors import DomainError, FailedPrecondition, Unavailable
from kernel.idempotency import execute_once
from participant_service.adapters import registration_repository as repository
from participant_service.adapters.seat_ledger import step_request_id
from participant_service.adapters.tables import idempotency_keys
from participant_service.application import notifications
from participant_service.application.registrations import RegistrationDeps, settle_seat
from participant_service.domain import registrations as domain
from participant_service.domain.registrations import FULL_REASONS, State

log = logging.getLogger(__name__)

BATCH = 200
MAX_BACKOFF_SECONDS = 8.0
# The saga settles its own seat right after recording it; the reconciler leaves it that long.
GRACE = timedelta(seconds=2)

RECONFIRMATIONS_PENDING = Gauge("turnout_reconfirmations_pending",
                                "Confirmed registrations asked to reconfirm whose answer is still open (every "
                                "replica reports the same count)")


@dataclass
class PassReport:
    seats_settled: int = 0
    expired: int = 0
    offers: int = 0
    waitlist_dropped: int = 0


async def reconcile_once(deps: RegistrationDeps, *, grace: timedelta = GRACE) -> PassReport:
    report = PassReport()
    now = deps.clock()
    async with deps.uow() as uow:
        owed = await repository.owing_seat_sync(uow.connection, older_than=now - grace, limit=BATCH)
        lapsed = await repository.lapsed(uow.connection, now=now, limit=BATCH)
    for registration_id in owed:
        report.seats_settled += await _settle(registration_id, deps)
    for registration_id in lapsed:
        report.expired += await _expire(registration_id, deps)
    async with deps.uow() as uow:
        sessions = await repository.sessions_with_waitlist(uow.connection, limit=BATCH)
    moment = time.monotonic()
    for session_id in sessions:
        if deps.waitlist_backoff.get(session_id, (0.0, 0.0))[0] > moment:
            continue
        offered, dropped = await offer_next(session_id, deps)
        report.offers += offered
        report.waitlist_dropped += dropped
    await refresh_pending(deps)
    return report


async def refresh_pending(deps: RegistrationDeps) -> None:
    """`turnout_reconfirmations_pending`: answers and settlements move it, so every pass looks
    (a count on a small partial index)."""
    async with deps.uow() as uow:
        RECONFIRMATIONS_PENDING.set(await repository.awaiting_answer_count(uow.connection, deps.clock()))


async def _settle(registration_id: str, deps: RegistrationDeps) -> int:
    async with deps.uow() as uow:
        registration = await repository.get(uow.connection, registration_id)
    if registration is None or registration.seat_sync is None:
        return 0
    try:
        settled = await settle_seat(registration, deps)
    except DomainError as exc:
        log.error("registration %s: the ledger refused its owed %s: %s", registration_id,
                  registration.seat_sync.value, exc.message)
        await report_seat_sync_refused(registration, exc, deps)
        return 0
    return int(settled.seat_sync is None)


async def report_seat_sync_refused(registration: domain.Registration, refusal: DomainError,
                                   deps: RegistrationDeps) -> None:
    """Asks for a `system.error` notification to every admin, once per registration, owed
    call and seat: the notification's dedup key is also its request id."""
    notification = notifications.seat_sync_refused(registration, refusal, locale=deps.policy.notification_locale)

    async def work(uow) -> dict:  # type: ignore[no-untyped-def]
        uow.record(notification)
        return {"notification_id": notification.notification_id}

    try:
        await execute_once(deps.uow, idempotency_keys, request_id=notification.dedup_key,
                           method="ReportSystemError", request_fingerprint=notifications.SEAT_SYNC_REFUSED, work=work)
    except Exception:  # reporting must not stop the pass; the next pass tries again
        log.exception("registration %s: could not record the system.error notification", registration.id)


async def _expire(registration_id: str, deps: RegistrationDeps) -> int:
    async with deps.uow() as uow:
        current = await repository.get_for_update(uow.connection, registration_id)
        now = deps.clock()
        if (current is None or current.state not in domain.PENDING or current.seat_sync is not None
                or current.expires_at is None or current.expires_at > now):
            return 0
        lapsed = domain.expired(current, now)
        await repository.update(uow.connection, lapsed)
        uow.record(domain.RegistrationExpired(lapsed))
        await uow.commit()
    if current.state is State.OFFERED:
        deps.wake(current.session_id)
    return 1


async def offer_next(session_id: str, deps: RegistrationDeps) -> tuple[int, int]:
    """Offers a seat of the session to the head of its waitlist: (offers made, places
    dropped because the head can no longer book it)."""
    async with deps.uow() as uow:
        head = await repository.first_waiting_for_update(uow.connection, session_id)
        if head is None:
            return 0, 0
        # The row stays locked across the call so that no other replica offers it too; the
        # ledger request id is stable per offer, so a crash here re-finds the same hold.
        try:
            seat = await deps.ledger.hold(
                session_id=session_id, participant_id=head.participant_id,
                request_id=step_request_id(head.id, f"offer/{head.offer_attempts + 1}"), ttl=deps.policy.offer_ttl,
                override_capacity=False)
        except FailedPrecondition as refusal:
            if refusal.reason in FULL_REASONS:
                await repository.update(uow.connection, domain.offer_refused(head))
                await uow.commit()
                _back_off(session_id, deps)
                return 0, 0
            # The head cannot book this session any more (started, archived, already has a
            # seat...): their place ends and the next in line is tried on the next pass.
            dropped = domain.expired(head, deps.clock())
            await repository.update(uow.connection, dropped)
            uow.record(domain.RegistrationExpired(dropped))
            await uow.commit()
            deps.wake(session_id)
            return 0, 1
        except Unavailable:
            return 0, 0
        offer = domain.offered(head, deps.clock(), seat_id=seat.seat_id,
                               expires_at=seat.expires_at or deps.clock() + deps.policy.offer_ttl)
        await repository.update(uow.connection, offer)
        uow.record(domain.WaitlistOfferMade(offer), domain.OfferNotification(offer),
                   notifications.waitlist_offer(offer, locale=deps.policy.notification_locale))
        await uow.commit()
    return 1, 0


def _back_off(session_id: str, deps: RegistrationDeps) -> None:
    """Tries a full session again after 1, 2, 4, ... up to MAX_BACKOFF seconds: a seat freed
    elsewhere (a hold lapsing, an admin release, a larger capacity) is noticed within that."""
    _, delay = deps.waitlist_backoff.get(session_id, (0.0, 0.0))
    delay = min(max(1.0, delay * 2), MAX_BACKOFF_SECONDS)
    deps.waitlist_backoff[session_id] = (time.monotonic() + delay, delay)


async def run_reconciler(deps: RegistrationDeps, interval_seconds: float, stop: asyncio.Event) -> None:
    """Passes every `interval_seconds`, or at once when a seat may have freed, until `stop`."""
    await periodic.repeat(lambda: reconcile_once(deps), stop, interval=interval_seconds,
                          what="registration reconciler pass", wake=deps.seat_freed)
