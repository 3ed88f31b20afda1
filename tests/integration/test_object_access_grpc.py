"""Object-level access straight on the gRPC services (issue 6): the same rules as over REST,
with the identity given as metadata and no gateway in between, so that it is the services
that enforce them. A call without identity metadata is the system's own and stays trusted
(the fixtures create their data that way)."""

from __future__ import annotations

import uuid

import grpc
import pytest
from drafts_support import JPEG, PASSPORT, upload_messages
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from ledger_fixtures import SessionSpec, create_occurrence
from registration_fixtures import ADMIN, actor, new_participants, register
from reporting_support import reporting_server

from turnout.event.v1 import event_service_pb2 as es
from turnout.event.v1 import ledger_events_pb2, seat_pb2, session_pb2, venue_pb2
from turnout.participant.v1 import draft_pb2, participant_pb2
from turnout.participant.v1 import participant_service_pb2 as ps
from turnout.participant.v1 import registration_pb2 as rpb
from turnout.participant.v1 import registration_service_pb2 as rs

pytestmark = pytest.mark.integration


def error_info(error: grpc.aio.AioRpcError) -> error_details_pb2.ErrorInfo:
    for detail in rpc_status.from_call(error).details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            return info
    raise AssertionError("no ErrorInfo")


async def refused(call, *args, **kwargs) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await call(*args, **kwargs)
    return error.value


@pytest.fixture
async def world(event_deps, participant_stub, registration_stub, unique):
    occurrence = await create_occurrence(event_deps.engine, [SessionSpec("s", 5)])
    a, b = await new_participants(participant_stub, 2)
    v1 = actor(f"vol-1-{unique}", "volunteer")
    booked = await registration_stub.CreateRegistration(register(occurrence.session("s"), a), metadata=v1)
    return {
        "a": a, "b": b, "occurrence": occurrence, "registration": booked, "v1": v1,
        "v2": actor(f"vol-2-{unique}", "volunteer"),
        "as_a": actor(f"user-a-{unique}", "participant", participant_id=a),
        "as_b": actor(f"user-b-{unique}", "participant", participant_id=b),
    }


async def test_participants(participant_stub, world) -> None:
    a, as_a, as_b = world["a"], world["as_a"], world["as_b"]
    get_a = ps.GetParticipantRequest(name=f"participants/{a}")
    assert (await refused(participant_stub.GetParticipant, get_a, metadata=as_b)).code() == grpc.StatusCode.NOT_FOUND
    assert (await participant_stub.GetParticipant(get_a, metadata=as_a)).name == f"participants/{a}"
    assert (await participant_stub.GetParticipant(get_a, metadata=actor("ana", "analyst"))).name == get_a.name

    rename = ps.UpdateParticipantRequest(participant=participant_pb2.Participant(name=get_a.name, first_name="Чужой"),
                                         request_id=str(uuid.uuid4()))
    rename.update_mask.paths.append("first_name")
    error = await refused(participant_stub.UpdateParticipant, rename, metadata=as_b)
    assert error.code() == grpc.StatusCode.NOT_FOUND
    analyst = await refused(participant_stub.UpdateParticipant, rename, metadata=actor("ana", "analyst"))
    assert analyst.code() == grpc.StatusCode.PERMISSION_DENIED
    assert (await participant_stub.GetParticipant(get_a)).first_name != "Чужой"
    rename.request_id = str(uuid.uuid4())
    rename.participant.first_name = "Своё"
    assert (await participant_stub.UpdateParticipant(rename, metadata=as_a)).first_name == "Своё"

    for query in ("", "Своё"):
        error = await refused(participant_stub.ListParticipants, ps.ListParticipantsRequest(query=query),
                              metadata=as_b)
        assert error.code() == grpc.StatusCode.PERMISSION_DENIED
        assert error_info(error).metadata["field"] == "query"
    assert await participant_stub.ListParticipants(ps.ListParticipantsRequest(query=a), metadata=world["v1"])


async def test_drafts_belong_to_whoever_started_them(participant_stub, participant_deps, world) -> None:
    as_a, as_b = world["as_a"], world["as_b"]
    draft = await participant_stub.CreateDraft(ps.CreateDraftRequest(draft=draft_pb2.Draft(
        first_name="Анна", last_name="Черновая", phone="8 916 000-00-00")), metadata=as_a)
    update = ps.UpdateDraftRequest(draft=draft_pb2.Draft(name=draft.name, first_name="Чужой"))
    update.update_mask.paths.append("first_name")
    for caller in (as_b, world["v1"], actor("ana", "analyst")):
        for call, request in [(participant_stub.GetDraft, ps.GetDraftRequest(name=draft.name)),
                              (participant_stub.UpdateDraft, update),
                              (participant_stub.SubmitDraft, ps.SubmitDraftRequest(name=draft.name,
                                                                                   request_id=str(uuid.uuid4())))]:
            assert (await refused(call, request, metadata=caller)).code() == grpc.StatusCode.NOT_FOUND
        upload = await refused(participant_stub.UploadDraftDocument,
                               upload_messages(draft.name, PASSPORT, JPEG), metadata=caller)
        assert upload.code() == grpc.StatusCode.NOT_FOUND
    mine = await participant_stub.GetDraft(ps.GetDraftRequest(name=draft.name), metadata=as_a)
    assert mine.first_name == "Анна" and not mine.documents
    assert (await participant_stub.GetDraft(ps.GetDraftRequest(name=draft.name), metadata=ADMIN)).name == draft.name
    await participant_stub.UploadDraftDocument(upload_messages(draft.name, PASSPORT, JPEG), metadata=as_a)
    submitted = await participant_stub.SubmitDraft(
        ps.SubmitDraftRequest(name=draft.name, request_id=str(uuid.uuid4())), metadata=as_a)
    assert submitted.last_name == "Черновая"

    # A draft from before owners were recorded: admins only.
    from datetime import UTC, datetime
    old = await participant_deps.drafts.store.create(language=None, fields={"first_name": "Старый"},
                                                     now=datetime.now(UTC))
    old_name = ps.GetDraftRequest(name=f"drafts/{old.id}")
    assert (await refused(participant_stub.GetDraft, old_name, metadata=as_a)).code() == grpc.StatusCode.NOT_FOUND
    assert (await participant_stub.GetDraft(old_name, metadata=ADMIN)).first_name == "Старый"


async def test_registrations(registration_stub, world) -> None:
    registration, as_b, v1, v2 = world["registration"], world["as_b"], world["v1"], world["v2"]
    name = registration.name
    for caller in (as_b, v2):
        for call, request in [
                (registration_stub.GetRegistration, rs.GetRegistrationRequest(name=name)),
                (registration_stub.ConfirmRegistration, rs.ConfirmRegistrationRequest(name=name,
                                                                                     request_id=str(uuid.uuid4()))),
                (registration_stub.CancelRegistration, rs.CancelRegistrationRequest(name=name,
                                                                                   request_id=str(uuid.uuid4())))]:
            assert (await refused(call, request, metadata=caller)).code() == grpc.StatusCode.NOT_FOUND
    for caller in (v1, world["as_a"], actor("ana", "analyst"), ADMIN):
        assert (await registration_stub.GetRegistration(rs.GetRegistrationRequest(name=name), metadata=caller)).name

    of_a = rs.ListRegistrationsRequest(parent=f"participants/{world['a']}")
    error = await refused(registration_stub.ListRegistrations, of_a, metadata=as_b)
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    assert [r.name for r in (await registration_stub.ListRegistrations(of_a, metadata=v1)).registrations] == [name]
    assert not (await registration_stub.ListRegistrations(of_a, metadata=v2)).registrations
    assert [r.name for r in (await registration_stub.ListRegistrations(of_a, metadata=ADMIN)).registrations] == [name]
    desk = rs.ListRegistrationsRequest(parent=world["occurrence"].session("s"))
    assert name in [r.name for r in (await registration_stub.ListRegistrations(desk, metadata=v2)).registrations]
    assert (await refused(registration_stub.ListRegistrations, desk, metadata=as_b)).code() == \
        grpc.StatusCode.PERMISSION_DENIED

    for caller in (as_b, actor("ana", "analyst")):
        marking = rs.BatchUpdateAttendanceRequest(names=[name], attendance=rpb.ATTENDANCE_ATTENDED, request_id=str(uuid.uuid4()))
        error = await refused(registration_stub.BatchUpdateAttendance, marking, metadata=caller)
        assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    for caller in (as_b, actor("ana", "analyst")):
        booking = await refused(registration_stub.CreateRegistration,
                                register(world["occurrence"].session("s"), world["a"]), metadata=caller)
        assert booking.code() == grpc.StatusCode.PERMISSION_DENIED
    still = await registration_stub.GetRegistration(rs.GetRegistrationRequest(name=name))
    assert (still.state, still.attendance) == (registration.state, registration.attendance)


async def test_event_service_catalog_writes_and_the_ledger(event_stub, world) -> None:
    occurrence, as_a, as_b = world["occurrence"], world["as_a"], world["as_b"]
    for caller in (as_b, actor("ana", "analyst"), world["v1"]):
        venue = es.CreateVenueRequest(venue=venue_pb2.Venue(display_name=f"Чужая {uuid.uuid4().hex[:8]}"),
                                      request_id=str(uuid.uuid4()))
        assert (await refused(event_stub.CreateVenue, venue, metadata=caller)).code() == \
            grpc.StatusCode.PERMISSION_DENIED
        edit = es.UpdateSessionRequest(session=session_pb2.Session(name=occurrence.session("s"), capacity=1),
                                       request_id=str(uuid.uuid4()))
        edit.update_mask.paths.append("capacity")
        assert (await refused(event_stub.UpdateSession, edit, metadata=caller)).code() == \
            grpc.StatusCode.PERMISSION_DENIED
        archive = es.ArchiveEventRequest(name=f"events/{occurrence.event_id}", confirm=True,
                                         request_id=str(uuid.uuid4()))
        assert (await refused(event_stub.ArchiveEvent, archive, metadata=caller)).code() == \
            grpc.StatusCode.PERMISSION_DENIED
    session = await event_stub.GetSession(es.GetSessionRequest(name=occurrence.session("s")))
    assert session.capacity == 5

    # The ledger: participant_service forwards a participant's identity when they book
    # themself, so a participant may use their own seats and nobody else's.
    seat = world["registration"].seat
    hold_for_a = es.HoldSeatRequest(session=occurrence.session("s"), participant=f"participants/{world['a']}",
                                    request_id=str(uuid.uuid4()))
    assert (await refused(event_stub.HoldSeat, hold_for_a, metadata=as_b)).code() == grpc.StatusCode.PERMISSION_DENIED
    assert (await refused(event_stub.GetSeat, es.GetSeatRequest(name=seat), metadata=as_b)).code() == \
        grpc.StatusCode.NOT_FOUND
    release = es.ReleaseSeatRequest(name=seat, request_id=str(uuid.uuid4()), reason=ledger_events_pb2.RELEASE_REASON_CANCELLED)
    assert (await refused(event_stub.ReleaseSeat, release, metadata=as_b)).code() == grpc.StatusCode.NOT_FOUND
    assert (await event_stub.GetSeat(es.GetSeatRequest(name=seat), metadata=as_a)).name == seat
    assert (await event_stub.GetSeat(es.GetSeatRequest(name=seat))).state == seat_pb2.SEAT_STATE_CONFIRMED


async def test_reporting_participant_page_and_metrics(settings, world, unique) -> None:
    from reporting_service.keyspace import Keyspace
    from turnout.reporting.v1 import reporting_service_pb2 as pb
    from turnout.reporting.v1 import reporting_service_pb2_grpc

    keyspace = Keyspace(prefix=f"test-access-grpc-{unique}")
    async with reporting_server(settings.redis_url, keyspace) as server:
        a = world["a"]
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            stub = reporting_service_pb2_grpc.ReportingServiceStub(channel)
            view = pb.GetParticipantViewRequest(name=f"participants/{a}/view")
            metrics = pb.GetParticipantMetricsRequest(name=f"participants/{a}/metrics")
            assert (await refused(stub.GetParticipantView, view, metadata=world["as_b"])).code() == \
                grpc.StatusCode.PERMISSION_DENIED
            assert (await refused(stub.GetParticipantMetrics, metrics, metadata=world["as_b"])).code() == \
                grpc.StatusCode.PERMISSION_DENIED
            # Their own (empty: nothing projected into this keyspace) and staff's reads pass the check.
            assert (await stub.GetParticipantView(view, metadata=world["as_a"])).name == view.name
            assert (await stub.GetParticipantView(view, metadata=actor("ana", "analyst"))).name == view.name
            mine = await refused(stub.GetParticipantMetrics, metrics, metadata=world["as_a"])
            assert mine.code() == grpc.StatusCode.NOT_FOUND  # allowed, just not projected here


async def test_a_volunteer_sees_on_a_participants_page_the_registrations_they_made(settings, unique) -> None:
    """reporting-service narrows a volunteer's view of someone's page as participant-service
    narrows their listing; the projected scenario's registrations of `pa` were all made by
    `volunteer-pa`."""
    import random

    import redis
    from test_participant_view import interleaved, scenario

    from reporting_service.keyspace import Keyspace
    from reporting_service.projections.registry import to_change
    from reporting_service.projections.store import ProjectionStore
    from turnout.reporting.v1 import reporting_service_pb2 as pb
    from turnout.reporting.v1 import reporting_service_pb2_grpc

    keyspace = Keyspace(prefix=f"test-access-view-{unique}")
    store = ProjectionStore(redis.Redis.from_url(settings.redis_url), keyspace)
    store.apply([to_change(topic, raw, keyspace) for topic, raw in interleaved(scenario(), random.Random(1))])
    async with reporting_server(settings.redis_url, keyspace) as server:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            stub = reporting_service_pb2_grpc.ReportingServiceStub(channel)
            request = pb.GetParticipantViewRequest(name="participants/pa/view", page_size=200)

            async def seen(metadata) -> int:
                return len((await stub.GetParticipantView(request, metadata=metadata)).registrations)

            everything = await seen(actor("ana", "analyst"))
            assert everything == 10
            assert await seen(actor("volunteer-pa", "volunteer")) == everything
            assert await seen(actor("volunteer-other", "volunteer")) == 0
            assert await seen(actor("volunteer-other", "volunteer", "admin")) == everything
            assert await seen(actor("pa-user", "participant", participant_id="pa")) == everything
