"""Waitlists: joining when full, offers in order as seats free, decline and expiry passing the
offer on, and newcomers queueing behind the waitlist."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import grpc
import pytest
import sqlalchemy as sa

from event_service.application.sweeper import sweep_all
from grpc_details import details
from ledger_fixtures import SessionSpec, create_occurrence
from participant_service.application.reconciler import reconcile_once
from registration_fixtures import ADMIN, live_seats, new_participants, register
from turnout.participant.v1 import registration_pb2 as rpb
from turnout.participant.v1 import registration_service_pb2 as pb

pytestmark = pytest.mark.integration


@pytest.fixture
def engine(event_deps):
    return event_deps.engine


async def get(stub, registration) -> rpb.Registration:
    return await stub.GetRegistration(pb.GetRegistrationRequest(name=registration.name), metadata=ADMIN)


async def cancel(stub, registration) -> rpb.Registration:
    return await stub.CancelRegistration(
        pb.CancelRegistrationRequest(name=registration.name, request_id=str(uuid.uuid4())), metadata=ADMIN)


async def refused_reason(call) -> str:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await call
    return details(refused.value)[0]


async def notifications(engine, registration_name: str) -> list[str]:
    async with engine.connect() as connection:
        return list((await connection.execute(sa.text(
            "SELECT event_type FROM participant_service.outbox WHERE topic = 'turnout.notifications.v1' "
            "AND message_key = :id"), {"id": registration_name.removeprefix("registrations/")})).scalars())


async def test_waitlist_offers_in_order_and_declines_and_lapses_pass_it_on(
        engine, event_deps, registration_stub, registration_deps, participant_stub) -> None:
    occurrence = await create_occurrence(engine, [SessionSpec("s", 1)])
    session, session_id = occurrence.session("s"), occurrence.sessions["s"]
    a, b, c, d = await new_participants(participant_stub, 4)
    booked = await registration_stub.CreateRegistration(register(session, a), metadata=ADMIN)
    wait_b = await registration_stub.CreateRegistration(register(session, b, waitlist=True), metadata=ADMIN)
    wait_c = await registration_stub.CreateRegistration(register(session, c, waitlist=True), metadata=ADMIN)
    assert (wait_b.state, wait_b.waitlist_position, wait_b.seat) == (rpb.REGISTRATION_STATE_WAITLISTED, 1, "")
    assert wait_c.waitlist_position == 2
    assert await refused_reason(registration_stub.CreateRegistration(register(session, d), metadata=ADMIN)) \
        == "SOLD_OUT"
    assert await refused_reason(registration_stub.CreateRegistration(
        register(session, b, waitlist=True), metadata=ADMIN)) == "ALREADY_WAITLISTED"

    await cancel(registration_stub, booked)
    await reconcile_once(registration_deps)
    offer_b = await get(registration_stub, wait_b)
    assert offer_b.state == rpb.REGISTRATION_STATE_OFFERED and offer_b.HasField("expire_time")
    assert await live_seats(engine, session_id) == {b: "held"}
    assert await notifications(engine, wait_b.name) == ["turnout.participant.v1.WaitlistOfferMade"]
    assert (await get(registration_stub, wait_c)).waitlist_position == 1
    # A newcomer queues behind the waitlist, even with a seat about to free.
    assert await refused_reason(registration_stub.CreateRegistration(register(session, d), metadata=ADMIN)) \
        == "SOLD_OUT"

    declined = await cancel(registration_stub, offer_b)
    assert (declined.state, declined.end_reason) == (rpb.REGISTRATION_STATE_DECLINED, rpb.END_REASON_DECLINED)
    await reconcile_once(registration_deps)
    offer_c = await get(registration_stub, wait_c)
    assert offer_c.state == rpb.REGISTRATION_STATE_OFFERED
    assert await live_seats(engine, session_id) == {c: "held"}

    # C lets the offer lapse: the ledger frees the seat, the registration expires, the list is empty.
    later = datetime.now(UTC) + timedelta(days=1)
    await sweep_all(event_deps.uow_factory, later)
    await reconcile_once(replace(registration_deps, clock=lambda: later))
    lapsed = await get(registration_stub, wait_c)
    assert (lapsed.state, lapsed.end_reason) == (rpb.REGISTRATION_STATE_EXPIRED, rpb.END_REASON_EXPIRED)
    assert await live_seats(engine, session_id) == {}
    now_free = await registration_stub.CreateRegistration(register(session, d), metadata=ADMIN)
    assert now_free.state == rpb.REGISTRATION_STATE_CONFIRMED


async def test_accepting_an_offer_confirms_the_seat(engine, registration_stub, registration_deps,
                                                     participant_stub) -> None:
    occurrence = await create_occurrence(engine, [SessionSpec("s", 1)])
    session, session_id = occurrence.session("s"), occurrence.sessions["s"]
    a, b = await new_participants(participant_stub, 2)
    booked = await registration_stub.CreateRegistration(register(session, a), metadata=ADMIN)
    waiting = await registration_stub.CreateRegistration(register(session, b, waitlist=True), metadata=ADMIN)
    await reconcile_once(registration_deps)
    assert (await get(registration_stub, waiting)).state == rpb.REGISTRATION_STATE_WAITLISTED  # still full
    await cancel(registration_stub, booked)
    await reconcile_once(registration_deps)
    accepted = await registration_stub.ConfirmRegistration(
        pb.ConfirmRegistrationRequest(name=waiting.name, request_id=str(uuid.uuid4())), metadata=ADMIN)
    assert accepted.state == rpb.REGISTRATION_STATE_CONFIRMED
    assert await live_seats(engine, session_id) == {b: "confirmed"}


async def test_leaving_the_waitlist(engine, registration_stub, participant_stub) -> None:
    occurrence = await create_occurrence(engine, [SessionSpec("s", 1)])
    session = occurrence.session("s")
    a, b, c = await new_participants(participant_stub, 3)
    await registration_stub.CreateRegistration(register(session, a), metadata=ADMIN)
    wait_b = await registration_stub.CreateRegistration(register(session, b, waitlist=True), metadata=ADMIN)
    wait_c = await registration_stub.CreateRegistration(register(session, c, waitlist=True), metadata=ADMIN)
    left = await cancel(registration_stub, wait_b)
    assert left.state == rpb.REGISTRATION_STATE_CANCELLED
    assert (await get(registration_stub, wait_c)).waitlist_position == 1


async def test_a_full_session_is_asked_again_only_after_a_pause_or_a_freed_seat(
        engine, registration_stub, registration_deps, participant_stub) -> None:
    occurrence = await create_occurrence(engine, [SessionSpec("s", 1)])
    session = occurrence.session("s")
    a, b = await new_participants(participant_stub, 2)
    booked = await registration_stub.CreateRegistration(register(session, a), metadata=ADMIN)
    waiting = await registration_stub.CreateRegistration(register(session, b, waitlist=True), metadata=ADMIN)

    async def attempts() -> int:
        async with engine.connect() as connection:
            return await connection.scalar(sa.text(
                "SELECT offer_attempts FROM participant_service.registrations WHERE id = :id"),
                {"id": waiting.name.removeprefix("registrations/")})

    await reconcile_once(registration_deps)
    assert await attempts() == 1  # asked the ledger once: still full
    await reconcile_once(registration_deps)
    assert await attempts() == 1  # backing off: not asked again at once
    await cancel(registration_stub, booked)  # frees a seat through this process: asked at once
    await reconcile_once(registration_deps)
    assert (await get(registration_stub, waiting)).state == rpb.REGISTRATION_STATE_OFFERED
