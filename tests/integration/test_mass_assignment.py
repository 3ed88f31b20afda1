"""Mass assignment (issue 6): a field the caller may not set is refused, naming it, and
nothing is written — never silently applied, never silently dropped.

REST: a field the body does not have (`status`, `state`, `registered_by`, `card_number`,
`verification_status`, ...) is 422 `validation_failed` naming it; a field the body has but
the caller's role may not set (a participant's own `kind` or `comment`, `override_capacity`
without the admin role) is 403 `field_not_settable` naming it. gRPC: an update_mask naming
a field outside the editable ones is INVALID_ARGUMENT; a role-dependent one is
PERMISSION_DENIED `FIELD_NOT_SETTABLE`; a CreateRegistration carrying fields its message
does not have is INVALID_ARGUMENT."""

from __future__ import annotations

import uuid

import grpc
import pytest
from grpc_details import details
from ledger_fixtures import SessionSpec, create_occurrence
from registration_fixtures import ADMIN, actor, new_participants, register

from kernel.auth import issue_token
from turnout.participant.v1 import participant_pb2, registration_pb2
from turnout.participant.v1 import participant_service_pb2 as ps

pytestmark = pytest.mark.integration

OUTPUT_ONLY = ("card_number", "verification_status", "status", "created_by", "id")


def bearer(settings, sub: str, *roles: str, participant_id: str | None = None) -> dict[str, str]:
    token = issue_token(settings.auth_secret, sub=sub, roles=list(roles), participant_id=participant_id)
    return {"Authorization": f"Bearer {token}"}


def names_only(answer, field: str, status: int, code: str) -> None:
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert body["code"] == code
    assert [e["field"] for e in body["errors"]] == [field]


async def test_rest_participants(rest, settings, participant_stub, unique) -> None:
    for field in OUTPUT_ONLY:
        created = await rest.post("/v1/participants", json={"first_name": "Анна", "last_name": f"Масс-{unique}",
                                                            field: "approved"})
        names_only(created, field, 422, "validation_failed")
    assert (await rest.get("/v1/participants", params={"q": f"Масс-{unique}"})).json()["participants"] == []

    (pid,) = await new_participants(participant_stub, 1)
    before = (await rest.get(f"/v1/participants/{pid}")).json()
    for field in OUTPUT_ONLY:
        names_only(await rest.patch(f"/v1/participants/{pid}", json={"first_name": "Чужой", field: "x"}),
                   field, 422, "validation_failed")
    own = bearer(settings, f"self-{unique}", "participant", participant_id=pid)
    for field, value in (("kind", "volunteer"), ("comment", "VIP")):
        names_only(await rest.patch(f"/v1/participants/{pid}", json={"first_name": "Чужой", field: value},
                                    headers=own), field, 403, "field_not_settable")
    assert (await rest.get(f"/v1/participants/{pid}")).json() == before, "nothing was written"
    allowed = await rest.patch(f"/v1/participants/{pid}", json={"messenger_username": "@anna"}, headers=own)
    assert allowed.status_code == 200 and allowed.json()["messenger_username"] == "anna"


async def test_rest_registrations_drafts_and_catalog(rest, settings, event_deps, participant_stub, unique) -> None:
    occurrence = await create_occurrence(event_deps.engine, [SessionSpec("s", 2)])
    session_id = occurrence.sessions["s"]
    (pid,) = await new_participants(participant_stub, 1)
    url = f"/v1/sessions/{session_id}/registrations"
    for field, value in (("state", "confirmed"), ("registered_by", "someone-else"), ("status", "confirmed"),
                         ("attendance", "attended"), ("seat_id", str(uuid.uuid4()))):
        names_only(await rest.post(url, json={"participant_id": pid, field: value}), field, 422,
                   "validation_failed")
    volunteer = bearer(settings, f"vol-{unique}", "volunteer")
    names_only(await rest.post(url, json={"participant_id": pid, "override_capacity": True}, headers=volunteer),
               "override_capacity", 403, "field_not_settable")
    names_only(await rest.post(f"/v1/sessions/{session_id}/seats",
                               json={"participant_id": pid, "override_capacity": True}, headers=volunteer),
               "override_capacity", 403, "field_not_settable")
    names_only(await rest.post(f"/v1/sessions/{session_id}/seats", json={"participant_id": pid, "state": "held"}),
               "state", 422, "validation_failed")
    assert (await rest.get(f"/v1/participants/{pid}/registrations")).json()["registrations"] == []
    assert (await rest.get(f"/v1/sessions/{session_id}")).json()["available"] == 2, "no seat was taken"

    for field in ("owner", "status", "documents"):
        names_only(await rest.post("/v1/drafts", json={"first_name": "Анна", field: "x"}), field, 422,
                   "validation_failed")
    names_only(await rest.patch(f"/v1/events/{occurrence.event_id}", json={"title": "Новое", "status": "archived"}),
               "status", 422, "validation_failed")
    event = (await rest.get(f"/v1/events/{occurrence.event_id}")).json()
    assert event["status"] == "active" and event["title"] != "Новое"
    names_only(await rest.patch(f"/v1/sessions/{session_id}", json={"capacity": 1, "registered": 0}),
               "registered", 422, "validation_failed")
    assert (await rest.get(f"/v1/sessions/{session_id}")).json()["capacity"] == 2


async def test_grpc_update_participant_mask(participant_stub, unique) -> None:
    (pid,) = await new_participants(participant_stub, 1)
    name = f"participants/{pid}"
    before = await participant_stub.GetParticipant(ps.GetParticipantRequest(name=name))
    for path in ("card_number", "verification_status", "create_time", "created_by", "status", "name"):
        request = ps.UpdateParticipantRequest(
            participant=participant_pb2.Participant(name=name, card_number="000001", created_by="x",
                                                    verification_status=participant_pb2.VERIFICATION_STATUS_APPROVED),
            request_id=str(uuid.uuid4()))
        request.update_mask.paths.append(path)
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await participant_stub.UpdateParticipant(request, metadata=ADMIN)
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        fields = details(refused.value)[1]
        assert list(fields) == ["update_mask"] and repr(path) in fields["update_mask"]
    own = actor(f"self-{unique}", "participant", participant_id=pid)
    for path in ("kind", "comment"):
        request = ps.UpdateParticipantRequest(
            participant=participant_pb2.Participant(name=name, kind=participant_pb2.PARTICIPANT_KIND_VOLUNTEER,
                                                    comment="VIP"), request_id=str(uuid.uuid4()))
        request.update_mask.paths.append(path)
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await participant_stub.UpdateParticipant(request, metadata=own)
        assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
        assert details(refused.value)[0] == "FIELD_NOT_SETTABLE" and path in refused.value.details()
    assert await participant_stub.GetParticipant(ps.GetParticipantRequest(name=name)) == before


async def test_grpc_create_registration_with_fields_it_does_not_have(
        participant_server, event_deps, participant_stub, registration_stub) -> None:
    occurrence = await create_occurrence(event_deps.engine, [SessionSpec("s", 2)])
    (pid,) = await new_participants(participant_stub, 1)
    request = register(occurrence.session("s"), pid)
    # What a client built from a Registration-shaped schema might send: field 9 as a string
    # (`registered_by` in Registration) and field 10 as a varint.
    raw = request.SerializeToString() + bytes([9 << 3 | 2, 5]) + b"mallo" + bytes([10 << 3, 1])
    async with grpc.aio.insecure_channel(f"127.0.0.1:{participant_server.port}") as channel:
        create = channel.unary_unary("/turnout.participant.v1.RegistrationService/CreateRegistration",
                                     request_serializer=lambda b: b,
                                     response_deserializer=registration_pb2.Registration.FromString)
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await create(raw, metadata=ADMIN)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert sorted(details(refused.value)[1]) == ["#10", "#9"]
    from turnout.participant.v1 import registration_service_pb2 as rs
    listed = await registration_stub.ListRegistrations(rs.ListRegistrationsRequest(parent=f"participants/{pid}"))
    assert not listed.registrations, "nothing was written"
    # The same request without the stray fields books.
    assert (await registration_stub.CreateRegistration(request, metadata=ADMIN)).participant == f"participants/{pid}"
