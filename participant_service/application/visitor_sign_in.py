"""VerifyVisitor: who a returning visitor is, from their last name and card number or phone.

Every attempt, matched or not, commits its VisitorSignInAttempted to the outbox (the audit
trail) before the answer goes out; a refusal is raised only after that commit.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from kernel.unit_of_work import UnitOfWorkFactory
from participant_service.adapters import participant_repository
from participant_service.domain.visitors import (
    IdentifierKind,
    SignInOutcome,
    VisitorSignInAttempted,
    claim,
    identifier_digest,
    match,
    refusal,
)

# More people than this on one phone cannot be told apart by a last name anyway.
MAX_CANDIDATES = 10


@dataclass(frozen=True)
class VerifyVisitor:
    last_name: str
    card_number: str | None
    phone: str | None


async def verify_visitor(command: VerifyVisitor, uow_factory: UnitOfWorkFactory, *, digest_key: bytes) -> str:
    """The participant id; raises InvalidArgument for a malformed request, else the one
    SIGN_IN_FAILED refusal whatever did not match."""
    visitor = claim(last_name=command.last_name, card_number=command.card_number, phone=command.phone)
    lookup = ({"card_number": visitor.identifier} if visitor.kind is IdentifierKind.CARD_NUMBER
              else {"phone": visitor.identifier})
    async with uow_factory() as uow:
        candidates = await participant_repository.sign_in_candidates(uow.connection, limit=MAX_CANDIDATES,
                                                                     **lookup)
        participant_id = match(visitor, candidates)
        uow.record(VisitorSignInAttempted(
            attempt_id=str(uuid.uuid4()), kind=visitor.kind,
            identifier_digest=identifier_digest(digest_key, visitor.kind, visitor.identifier),
            outcome=SignInOutcome.SUCCEEDED if participant_id else SignInOutcome.REFUSED,
            participant_id=participant_id))
        await uow.commit()
    if participant_id is None:
        raise refusal()
    return participant_id
