"""Review of the documents of participants who signed up with them (admins only)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from kernel import context
from kernel.errors import FailedPrecondition, NotFound, PermissionDenied
from kernel.idempotency import execute_once
from kernel.roles import ADMIN
from kernel.unit_of_work import UnitOfWork, UnitOfWorkFactory
from participant_service.adapters import document_repository, participant_repository
from participant_service.adapters.tables import idempotency_keys
from participant_service.application.participants import get_participant
from participant_service.domain.participants import (
    Participant,
    ParticipantUpdated,
    VerificationStatus,
    reviewed_participant,
)


@dataclass(frozen=True)
class ReviewParticipant:
    participant_id: str
    status: VerificationStatus
    reason: str
    request_id: str
    fingerprint: str


async def review_participant(command: ReviewParticipant, uow_factory: UnitOfWorkFactory) -> Participant:
    """Sets the verification status (and reason); publishes ParticipantUpdated with the
    changed fields when anything changed."""
    if ADMIN not in context.current().roles:
        raise PermissionDenied("only an admin may review a participant's documents",
                               metadata={"field": "verification_status"})

    async def work(uow: UnitOfWork) -> dict:
        current = await participant_repository.get_for_update(uow.connection, command.participant_id)
        if current is None:
            raise NotFound(f"participant {command.participant_id} does not exist",
                           metadata={"resource": f"participants/{command.participant_id}"})
        if not await document_repository.has_any(uow.connection, current.id):
            raise FailedPrecondition(f"participant {current.id} signed up without documents: there is nothing to review",
                                     reason="NO_DOCUMENTS")
        participant, changed = reviewed_participant(current, command.status, command.reason)
        if changed:
            participant = replace(participant, version=current.version + 1)
            await participant_repository.update_verification(uow.connection, participant)
            uow.record(ParticipantUpdated(participant, changed))
        return {"participant_id": participant.id}

    outcome = await execute_once(uow_factory, idempotency_keys, request_id=command.request_id,
                                 method="ReviewParticipant", request_fingerprint=command.fingerprint, work=work)
    return await get_participant(outcome["participant_id"], uow_factory)
