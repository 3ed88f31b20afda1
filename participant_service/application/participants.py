"""Participant commands and queries."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from kernel import context, pagination
from kernel.errors import InvalidArgument, NotFound, PermissionDenied
from kernel.idempotency import execute_once
from kernel.unit_of_work import UnitOfWork, UnitOfWorkFactory
from participant_service.adapters import participant_repository
from participant_service.adapters.tables import idempotency_keys
from participant_service.domain import access
from participant_service.domain.participants import (
    EDITABLE,
    Participant,
    ParticipantCreated,
    ParticipantKind,
    ParticipantUpdated,
    Profile,
    VerificationStatus,
    new_participant,
    phone_query_prefix,
    query_key,
    updated_participant,
)

MAX_QUERY = 200


@dataclass(frozen=True)
class CreateParticipant:
    first_name: str
    last_name: str
    kind: ParticipantKind
    request_id: str
    fingerprint: str
    profile: Profile = Profile()


@dataclass(frozen=True)
class UpdateParticipant:
    participant_id: str
    paths: tuple[str, ...]
    first_name: str
    last_name: str
    kind: ParticipantKind
    profile: Profile
    request_id: str
    fingerprint: str


@dataclass(frozen=True)
class ParticipantPage:
    participants: list[Participant]
    next_page_token: str


async def add_new_participant(
    uow: UnitOfWork, *, first_name: str, last_name: str, kind: ParticipantKind, profile: Profile,
    verification_status: VerificationStatus | None = None,
) -> Participant:
    """Validates and inserts a participant and records ParticipantCreated, in `uow`'s
    transaction: how every participant comes to exist (CreateParticipant, SubmitDraft)."""
    participant = new_participant(
        participant_id=str(uuid.uuid4()),
        card_number=await participant_repository.next_card_number(uow.connection),
        first_name=first_name, last_name=last_name, kind=kind,
        now=datetime.now(UTC), profile=profile, created_by=context.current().actor,
        verification_status=verification_status,
    )
    await participant_repository.add(uow.connection, participant)
    uow.record(ParticipantCreated(participant))
    return participant


async def create_participant(command: CreateParticipant, uow_factory: UnitOfWorkFactory) -> Participant:
    async def work(uow: UnitOfWork) -> dict:
        participant = await add_new_participant(uow, first_name=command.first_name, last_name=command.last_name,
                                                kind=command.kind, profile=command.profile)
        return {"participant_id": participant.id}

    outcome = await execute_once(uow_factory, idempotency_keys, request_id=command.request_id,
                                 method="CreateParticipant", request_fingerprint=command.fingerprint, work=work)
    return await get_participant(outcome["participant_id"], uow_factory)


def editable_paths(paths: tuple[str, ...]) -> frozenset[str]:
    """The mask's paths; any path outside EDITABLE is refused (mass assignment), not ignored."""
    editable = ", ".join(sorted(EDITABLE))
    if not paths:
        raise InvalidArgument.single("update_mask", f"must name at least one of {editable}")
    unknown = [p for p in paths if p not in EDITABLE]
    if unknown:
        raise InvalidArgument.single(
            "update_mask", f"cannot update {', '.join(repr(p[:100]) for p in unknown)}; editable: {editable}")
    return frozenset(paths)


def caller() -> access.Caller:
    ctx = context.current()
    return access.Caller(actor=ctx.actor, roles=ctx.roles, participant_id=ctx.participant_id)


def check_update_allowed(participant_id: str, paths: tuple[str, ...]) -> None:
    """Someone else's record is not found (its existence is not the caller's to learn); an
    analyst may read but not change; a participant changes only their harmless fields."""
    who = caller()
    if not access.may_read_participant(who, participant_id):
        raise _missing(participant_id)
    if not access.may_update_participant(who, participant_id):
        raise PermissionDenied("changing a participant needs one of the roles: admin, volunteer",
                               metadata={"field": "participant"})
    access.check_participant_fields(who, paths)


async def update_participant(command: UpdateParticipant, uow_factory: UnitOfWorkFactory) -> Participant:
    paths = editable_paths(command.paths)
    check_update_allowed(command.participant_id, command.paths)

    async def work(uow: UnitOfWork) -> dict:
        current = await participant_repository.get_for_update(uow.connection, command.participant_id)
        if current is None:
            raise _missing(command.participant_id)
        participant, changed = updated_participant(
            current, paths, first_name=command.first_name, last_name=command.last_name, kind=command.kind,
            profile=command.profile)
        if changed:  # a request that changes nothing writes nothing and publishes nothing
            participant = replace(participant, version=current.version + 1)
            await participant_repository.update(uow.connection, participant)
            uow.record(ParticipantUpdated(participant, changed))
        return {"participant_id": participant.id}

    outcome = await execute_once(uow_factory, idempotency_keys, request_id=command.request_id,
                                 method="UpdateParticipant", request_fingerprint=command.fingerprint, work=work)
    return await get_participant(outcome["participant_id"], uow_factory)


def _missing(participant_id: str) -> NotFound:
    return NotFound(f"participant {participant_id} does not exist",
                    metadata={"resource": f"participants/{participant_id}"})


async def get_participant(participant_id: str, uow_factory: UnitOfWorkFactory) -> Participant:
    async with uow_factory() as uow:
        participant = await participant_repository.get(uow.connection, participant_id)
    if participant is None:
        raise _missing(participant_id)
    return participant


async def read_participant(participant_id: str, uow_factory: UnitOfWorkFactory) -> Participant:
    """GetParticipant for the caller: another participant's record is not found.
    (`get_participant` is the unchecked read for the service's own answers, e.g. the record a
    submitted draft just created.)"""
    if not access.may_read_participant(caller(), participant_id):
        raise _missing(participant_id)
    return await get_participant(participant_id, uow_factory)


async def list_participants(page_size: int, page_token: str, uow_factory: UnitOfWorkFactory,
                            query: str = "") -> ParticipantPage:
    access.check_list_participants(caller())
    limit = pagination.page_size(page_size)
    if len(query) > MAX_QUERY:
        raise InvalidArgument.single("query", f"must have at most {MAX_QUERY} characters")
    if "\x00" in query:
        # PostgreSQL text cannot hold NUL.
        raise InvalidArgument.single("query", "must not contain NUL characters")
    key = query_key(query)
    if key:
        return await _search_participants(key, query.strip(), limit, page_token, uow_factory)
    after = pagination.keyset_after(page_token)
    if after is not None:
        after = (pagination.position_moment(after[0]).isoformat(), after[1])
    async with uow_factory() as uow:
        rows = await participant_repository.list_page(uow.connection, after=after, limit=limit + 1)
    return ParticipantPage(*pagination.page_of(rows, limit, lambda p: [p.created_at.isoformat(), p.id]))


def _query_tag(key: str, exact_id: str) -> str:
    """Binds a search page token to its query: a token of another query (or of the unfiltered
    list, whose tokens have 2 parts, not 4) is refused instead of silently skipping rows."""
    return "q:" + hashlib.sha256(f"{key}\x00{exact_id}".encode()).hexdigest()[:16]


async def _search_participants(key: str, exact_id: str, limit: int, page_token: str,
                               uow_factory: UnitOfWorkFactory) -> ParticipantPage:
    """Matches ordered by (last name key, first name key, id), keyset pages."""
    tag = _query_tag(key, exact_id)
    after = pagination.keyset_after(page_token, width=4)
    if after is not None and after[0] != tag:
        raise InvalidArgument.single("page_token", "is not a token of this query")
    async with uow_factory() as uow:
        rows = await participant_repository.search_page(
            uow.connection, key=key, exact_id=exact_id, after=after[1:] if after else None, limit=limit + 1,
            phone_prefix=phone_query_prefix(key))
    page, token = pagination.page_of(rows, limit, lambda row: [tag, *row[1]])
    return ParticipantPage([participant for participant, _ in page], token)
