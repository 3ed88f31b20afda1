"""Participant profile (phone, comment, messenger, created_by), UpdateParticipant and search by
phone, over real gRPC and through the in-process gateway, against real Postgres.

Other tests share the database: each test makes its own participants and phone numbers (random
digits), and counts only its own outbox rows (message_key is the participant id).
"""

from __future__ import annotations

import random
import uuid

import grpc
import pytest
import sqlalchemy as sa

from grpc_details import details
from participant_service.adapters.tables import outbox, participants
from turnout.common.v1 import envelope_pb2
from turnout.participant.v1 import participant_events_pb2, participant_pb2, participant_service_pb2

pytestmark = pytest.mark.integration

VISITOR = participant_pb2.PARTICIPANT_KIND_VISITOR
VOLUNTEER = participant_pb2.PARTICIPANT_KIND_VOLUNTEER
ACTOR = (("x-turnout-actor", "volunteer-7"),)


def _digits() -> str:
    """Ten random digits after +7: a number no other test uses (in practice)."""
    return "9" + "".join(random.choices("0123456789", k=9))


async def _create(stub, **fields) -> participant_pb2.Participant:
    fields = {"first_name": "Анна", "last_name": "Телефонова", "kind": VISITOR} | fields
    return await stub.CreateParticipant(participant_service_pb2.CreateParticipantRequest(
        participant=participant_pb2.Participant(**fields), request_id=str(uuid.uuid4())), metadata=ACTOR)


def _update(participant: participant_pb2.Participant | str, paths, request_id: str = "",
            **fields) -> participant_service_pb2.UpdateParticipantRequest:
    name = participant if isinstance(participant, str) else participant.name
    request = participant_service_pb2.UpdateParticipantRequest(
        participant=participant_pb2.Participant(name=name, **fields), request_id=request_id)
    request.update_mask.paths.extend(paths)
    return request


async def _refused(call) -> tuple[grpc.StatusCode, dict[str, str]]:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await call
    return refused.value.code(), details(refused.value)[1]


def _id(participant: participant_pb2.Participant) -> str:
    return participant.name.removeprefix("participants/")


async def _messages(participant_deps, participant_id: str) -> list[tuple[str, envelope_pb2.Envelope]]:
    async with participant_deps.engine.connect() as connection:
        rows = (await connection.execute(
            sa.select(outbox.c.event_type, outbox.c.envelope)
            .where(outbox.c.message_key == participant_id, outbox.c.topic == "turnout.participants.v1")
            .order_by(outbox.c.id))).all()
    return [(r.event_type, envelope_pb2.Envelope.FromString(r.envelope)) for r in rows]


async def _row(participant_deps, participant_id: str) -> sa.Row:
    async with participant_deps.engine.connect() as connection:
        return (await connection.execute(sa.select(participants).where(participants.c.id == participant_id))).one()


async def _search(stub, query: str) -> list[str]:
    page = await stub.ListParticipants(participant_service_pb2.ListParticipantsRequest(query=query, page_size=1000))
    return [p.name for p in page.participants]


# --- create --------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", ["+7 ({a}) {b}-{c}-{d}", "8{a}{b}{c}{d}", "+7{a}{b}{c}{d}", "7 {a} {b} {c} {d}",
                                   "8-{a}-{b}-{c}-{d}", " 8 ({a}) {b} {c} {d} "])
async def test_create_accepts_russian_phone_formats_and_stores_e164(participant_stub, participant_deps, shape):
    digits = _digits()
    raw = shape.format(a=digits[:3], b=digits[3:6], c=digits[6:8], d=digits[8:])
    created = await _create(participant_stub, phone=raw, comment="  первый раз ", messenger_id="42",
                            messenger_username="@anna_t")
    assert created.phone == f"+7{digits}"
    assert (created.comment, created.messenger_id, created.messenger_username) == ("первый раз", "42", "anna_t")
    assert created.created_by == "volunteer-7"
    row = await _row(participant_deps, _id(created))
    assert (row.phone, row.created_by, row.version) == (f"+7{digits}", "volunteer-7", 1)
    assert await participant_stub.GetParticipant(
        participant_service_pb2.GetParticipantRequest(name=created.name)) == created


async def test_profile_fields_are_optional(participant_stub, participant_deps):
    created = await _create(participant_stub)
    assert (created.phone, created.comment, created.messenger_id, created.messenger_username) == ("", "", "", "")
    row = await _row(participant_deps, _id(created))
    assert (row.phone, row.comment, row.messenger_id, row.messenger_username) == (None, None, None, None)


@pytest.mark.parametrize(("fields", "field"), [
    ({"phone": "+1 202 555 0143"}, "participant.phone"),
    ({"phone": "916 123 45 67"}, "participant.phone"),
    ({"phone": "8 916 123 45 6"}, "participant.phone"),
    ({"comment": "к" * 1001}, "participant.comment"),
    ({"messenger_id": "1" * 101}, "participant.messenger_id"),
    ({"messenger_username": "@" + "u" * 101}, "participant.messenger_username"),
])
async def test_create_refuses_invalid_profile_naming_the_field_and_writes_nothing(
        participant_stub, participant_deps, unique, fields, field):
    last = "Отказова-" + unique.translate(str.maketrans("0123456789", "abcdefghij"))
    code, violations = await _refused(_create(participant_stub, last_name=last, **fields))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and list(violations) == [field]
    async with participant_deps.engine.connect() as connection:
        assert await connection.scalar(
            sa.select(sa.func.count()).select_from(participants).where(participants.c.last_name == last)) == 0


# --- update --------------------------------------------------------------------------------


async def test_update_changes_only_masked_fields_bumps_version_and_publishes(participant_stub, participant_deps):
    created = await _create(participant_stub, phone=f"8{_digits()}", comment="старый")
    new_digits = _digits()
    updated = await participant_stub.UpdateParticipant(_update(
        created, ["last_name", "phone", "comment", "messenger_username", "kind"], last_name="  Новикова ",
        phone=f"+7 ({new_digits[:3]}) {new_digits[3:6]}-{new_digits[6:8]}-{new_digits[8:]}", comment="",
        messenger_username="@novikova", kind=VOLUNTEER, first_name="ignored"))
    assert (updated.first_name, updated.last_name, updated.kind) == ("Анна", "Новикова", VOLUNTEER)
    assert (updated.phone, updated.comment, updated.messenger_username) == (f"+7{new_digits}", "", "novikova")
    assert (updated.card_number, updated.create_time, updated.created_by) == (
        created.card_number, created.create_time, created.created_by)
    row = await _row(participant_deps, _id(created))
    assert (row.version, row.comment, row.last_name_key, row.full_name_key) == (
        2, None, "новикова", "анна новикова")

    messages = await _messages(participant_deps, _id(created))
    assert [t for t, _ in messages] == ["turnout.participant.v1.ParticipantCreated",
                                        "turnout.participant.v1.ParticipantUpdated"]
    envelope = messages[1][1]
    assert envelope.aggregate_version == 2
    event = participant_events_pb2.ParticipantUpdated()
    assert envelope.payload.Unpack(event)
    assert event.participant == updated
    assert list(event.changed_fields) == ["comment", "kind", "last_name", "messenger_username", "phone"]

    # The new name and phone are searchable; the old phone is not.
    assert created.name in await _search(participant_stub, "новикова")
    assert await _search(participant_stub, f"8 {new_digits}") == [created.name]
    assert created.name not in await _search(participant_stub, created.phone)


async def test_update_that_changes_nothing_writes_nothing(participant_stub, participant_deps):
    created = await _create(participant_stub, comment="как есть")
    same = await participant_stub.UpdateParticipant(_update(created, ["comment"], comment=" как есть "))
    assert same == created
    assert (await _row(participant_deps, _id(created))).version == 1
    assert len(await _messages(participant_deps, _id(created))) == 1


async def test_update_clears_an_optional_field(participant_stub):
    created = await _create(participant_stub, phone=f"8{_digits()}", messenger_id="77")
    cleared = await participant_stub.UpdateParticipant(_update(created, ["phone", "messenger_id"]))
    assert (cleared.phone, cleared.messenger_id) == ("", "")


@pytest.mark.parametrize("paths", [["card_number"], ["name"], ["create_time"], ["created_by"], ["verification"],
                                   ["first_name", "card_number"], []])
async def test_update_refuses_other_mask_paths(participant_stub, participant_deps, paths):
    created = await _create(participant_stub)
    code, violations = await _refused(participant_stub.UpdateParticipant(
        _update(created, paths, first_name="Мария", card_number="1")))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and list(violations) == ["update_mask"]
    assert await participant_stub.GetParticipant(
        participant_service_pb2.GetParticipantRequest(name=created.name)) == created
    assert len(await _messages(participant_deps, _id(created))) == 1


@pytest.mark.parametrize(("paths", "fields", "field"), [
    (["phone"], {"phone": "12345"}, "participant.phone"),
    (["first_name"], {"first_name": "Я"}, "participant.first_name"),
    (["comment"], {"comment": "к" * 1001}, "participant.comment"),
    (["messenger_id"], {"messenger_id": "1" * 101}, "participant.messenger_id"),
    (["kind"], {}, "participant.kind"),
])
async def test_update_validation_names_the_field_and_writes_nothing(participant_stub, participant_deps,
                                                                    paths, fields, field):
    created = await _create(participant_stub, phone=f"8{_digits()}")
    code, violations = await _refused(participant_stub.UpdateParticipant(_update(created, paths, **fields)))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and list(violations) == [field]
    assert (await _row(participant_deps, _id(created))).version == 1
    assert len(await _messages(participant_deps, _id(created))) == 1


async def test_update_unknown_participant_and_bad_name(participant_stub):
    code, _ = await _refused(participant_stub.UpdateParticipant(
        _update(f"participants/{uuid.uuid4()}", ["comment"], comment="x")))
    assert code == grpc.StatusCode.NOT_FOUND
    code, violations = await _refused(participant_stub.UpdateParticipant(_update("people/1", ["comment"])))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and list(violations) == ["participant.name"]


async def test_update_retry_with_the_same_request_id_applies_once(participant_stub, participant_deps):
    created = await _create(participant_stub)
    request = _update(created, ["comment"], request_id=str(uuid.uuid4()), comment="один раз")
    first = await participant_stub.UpdateParticipant(request)
    again = await participant_stub.UpdateParticipant(request)
    assert first == again and first.comment == "один раз"
    assert (await _row(participant_deps, _id(created))).version == 2
    assert len(await _messages(participant_deps, _id(created))) == 2


# --- search by phone -----------------------------------------------------------------------


async def test_search_by_phone_prefix_in_any_format(participant_stub):
    digits = _digits()
    created = await _create(participant_stub, phone=f"8{digits}")
    for query in (f"8 {digits[:3]} {digits[3:6]}", f"+7 ({digits[:3]}) {digits[3:6]}-{digits[6:8]}",
                  f"7{digits}", f"8{digits}"):
        assert created.name in await _search(participant_stub, query), query
    other = digits[:-1] + str((int(digits[-1]) + 1) % 10)
    assert created.name not in await _search(participant_stub, f"8{other}")


# --- REST ----------------------------------------------------------------------------------


async def test_rest_create_patch_and_refusals(rest, participant_deps):
    digits = _digits()
    answer = await rest.post("/v1/participants", json={
        "first_name": "Пётр", "last_name": "Рестов", "phone": f"+7 ({digits[:3]}) {digits[3:6]}-{digits[6:8]}-{digits[8:]}",
        "messenger_username": "@petr"})
    assert answer.status_code == 201, answer.text
    created = answer.json()
    assert (created["phone"], created["messenger_username"], created["created_by"]) == (
        f"+7{digits}", "petr", "rest-admin")
    assert created["comment"] is None

    patched = await rest.patch(f"/v1/participants/{created['id']}", json={"comment": "VIP", "phone": None})
    assert patched.status_code == 200, patched.text
    body = patched.json()
    assert (body["comment"], body["phone"], body["last_name"], body["messenger_username"]) == (
        "VIP", None, "Рестов", "petr")
    assert (await _row(participant_deps, created["id"])).version == 2

    found = await rest.get("/v1/participants", params={"q": f"8 {digits[:3]}"})
    assert created["id"] not in [p["id"] for p in found.json()["participants"]], "phone was cleared"

    bad_phone = await rest.patch(f"/v1/participants/{created['id']}", json={"phone": "123"})
    assert bad_phone.status_code == 400, bad_phone.text
    assert [e["field"] for e in bad_phone.json()["errors"]] == ["phone"]

    for forbidden in ("card_number", "created_by", "id"):
        refused = await rest.patch(f"/v1/participants/{created['id']}", json={forbidden: "1", "comment": "x"})
        assert refused.status_code == 422, refused.text
        assert [e["field"] for e in refused.json()["errors"]] == [forbidden]

    empty = await rest.patch(f"/v1/participants/{created['id']}", json={})
    assert empty.status_code == 400 and [e["field"] for e in empty.json()["errors"]] == ["update_mask"]
    assert (await rest.patch(f"/v1/participants/{uuid.uuid4()}", json={"comment": "x"})).status_code == 404
    assert (await _row(participant_deps, created["id"])).version == 2
    assert len(await _messages(participant_deps, created["id"])) == 2


async def test_phone_search_uses_the_phone_prefix_index(participant_deps):
    """EXPLAIN of a phone search over ~6,000 extra rows (in a transaction that is rolled back)."""
    from datetime import UTC, datetime

    from participant_service.adapters import participant_repository
    from participant_service.domain.participants import NameKeys, phone_query_prefix, query_key

    rows, now = [], datetime.now(UTC)
    for i in range(6000):
        first, last = f"Имя{i % 97:02d}", f"Фамилия{i:05d}"
        keys = NameKeys.of(first, last)
        rows.append({"id": f"explain-{uuid.uuid4()}", "card_number": f"9{i:08d}", "first_name": first,
                     "last_name": last, "kind": "visitor", "created_at": now, "version": 1,
                     "first_name_key": keys.first, "last_name_key": keys.last, "full_name_key": keys.full,
                     "phone": f"+79{i:09d}"})
    async with participant_deps.engine.connect() as connection:
        transaction = await connection.begin()
        try:
            await connection.execute(participants.insert(), rows)
            await connection.exec_driver_sql("ANALYZE participant_service.participants")
            key = query_key("8 (900) 000-12")
            prefix = phone_query_prefix(key)
            assert prefix == "+790000012"
            query = participant_repository.search_query(key=key, exact_id=key, after=None, limit=51,
                                                        phone_prefix=prefix)
            sql = str(query.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
            plan = "\n".join(r[0] for r in await connection.exec_driver_sql("EXPLAIN " + sql))
            assert "Seq Scan" not in plan, plan
            assert "Index Scan on ix_participants_phone_prefix " in plan, plan
            found = await participant_repository.search_page(connection, key=key, exact_id=key, after=None,
                                                             limit=1000, phone_prefix=prefix)
            assert sorted(p.phone for p, _ in found if p.id.startswith("explain-")) == [
                f"+79{i:09d}" for i in range(1200, 1300)]
        finally:
            await transaction.rollback()
