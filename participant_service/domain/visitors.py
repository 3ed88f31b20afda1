"""Visitor sign-in: a returning visitor names themself by last name plus card number or phone.

Pure: the comparison and the digests, no I/O. The rule that matters is that a refusal looks
the same whatever did not match, so nothing here says *why* an attempt failed.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from enum import Enum

from kernel.errors import Unauthenticated, Validator
from participant_service.domain.participants import PHONE_RULE, clean_name, normalize_phone

MAX_LAST_NAME = 100
MAX_CARD_NUMBER = 32
MAX_PHONE = 40
# Compared against when nobody was found, so that a lookup that finds nobody does the same
# hashing and comparing as one that finds somebody.
_NOBODY = "\x00nobody"
# One message for every refusal: its text must not depend on what failed.
SIGN_IN_FAILED_MESSAGE = "the last name and the card number or phone do not identify a visitor"


class IdentifierKind(Enum):
    CARD_NUMBER = "card_number"
    PHONE = "phone"


class SignInOutcome(Enum):
    SUCCEEDED = "succeeded"
    REFUSED = "refused"


@dataclass(frozen=True)
class VisitorClaim:
    """What the visitor typed, normalised: the lookup key and the last name to compare."""

    kind: IdentifierKind
    identifier: str  # card number as stored, or phone as "+7XXXXXXXXXX"
    last_name_key: str


@dataclass(frozen=True)
class Candidate:
    participant_id: str
    last_name: str


@dataclass(frozen=True)
class VisitorSignInAttempted:
    """Every attempt, for the audit trail; the identifier only as a keyed digest."""

    attempt_id: str
    kind: IdentifierKind
    identifier_digest: str
    outcome: SignInOutcome
    participant_id: str | None  # only when it succeeded


def last_name_key(value: str) -> str:
    """Case, runs of spaces and ё/е do not matter: people type "Ежов" for "Ёжов" and
    registrars did the same when the card was made."""
    return clean_name(value).casefold().replace("ё", "е")


def _card_key(value: str) -> str:
    # Card numbers are digits today; casefolding keeps any future letters case-blind too.
    return "".join(value.split()).casefold()


def claim(*, last_name: str, card_number: str | None, phone: str | None) -> VisitorClaim:
    """The normalised claim; InvalidArgument only for what is wrong whoever the visitor is
    (missing, oversized, NUL, a phone that is no Russian number), never for what would need a
    lookup to know."""
    check = Validator()
    name = last_name_key(last_name)
    if not name:
        check.add("last_name", "is required")
    elif len(last_name) > MAX_LAST_NAME or "\x00" in last_name:
        check.add("last_name", f"must have at most {MAX_LAST_NAME} characters and no NUL")
    if (card_number is None) == (phone is None):
        check.add("identifier", "give exactly one of card_number or phone")
        check.raise_if_any()
    if card_number is not None:
        key = _card_key(card_number)
        if not key:
            check.add("card_number", "is required")
        elif len(card_number) > MAX_CARD_NUMBER or "\x00" in card_number:
            check.add("card_number", f"must have at most {MAX_CARD_NUMBER} characters and no NUL")
        check.raise_if_any()
        return VisitorClaim(IdentifierKind.CARD_NUMBER, key, name)
    assert phone is not None
    normalised = normalize_phone(phone.strip()) if len(phone) <= MAX_PHONE else None
    if not phone.strip():
        check.add("phone", "is required")
    elif normalised is None:
        check.add("phone", PHONE_RULE)
    check.raise_if_any()
    assert normalised is not None
    return VisitorClaim(IdentifierKind.PHONE, normalised, name)


def identifier_key(*, card_number: str | None, phone: str | None) -> str | None:
    """"card_number:..." or "phone:+7..." as the claim would normalise it, or None when the
    request would be refused before any lookup: what the gateway counts attempts per
    identifier by, so that writing one number differently does not buy more attempts."""
    if card_number is not None and phone is None:
        key = _card_key(card_number)
        return f"{IdentifierKind.CARD_NUMBER.value}:{key}" if key else None
    if phone is not None and card_number is None:
        normalised = normalize_phone(phone.strip()) if len(phone) <= MAX_PHONE else None
        return f"{IdentifierKind.PHONE.value}:{normalised}" if normalised else None
    return None


def _fingerprint(value: str) -> bytes:
    # Fixed-length digests make compare_digest's time independent of the names' lengths.
    return hashlib.sha256(value.encode()).digest()


def match(visitor: VisitorClaim, candidates: list[Candidate]) -> str | None:
    """The id of the one candidate whose last name matches, or None. Compares every
    candidate (and a dummy when there is none) so that the work does not depend on whether
    the identifier exists; several matches (a shared family phone) are a refusal."""
    wanted = _fingerprint(visitor.last_name_key)
    matched: list[str] = []
    for candidate in candidates or [Candidate("", _NOBODY)]:
        if hmac.compare_digest(wanted, _fingerprint(last_name_key(candidate.last_name))) and candidate.participant_id:
            matched.append(candidate.participant_id)
    return matched[0] if len(matched) == 1 else None


def identifier_digest(key: bytes, kind: IdentifierKind, identifier: str) -> str:
    """Keyed, so that the digest of a (sequential, guessable) card number cannot be reversed
    by hashing every number; the same identifier always gives the same digest."""
    return hmac.new(key, f"{kind.value}:{identifier}".encode(), hashlib.sha256).hexdigest()


def refusal() -> Unauthenticated:
    return Unauthenticated(SIGN_IN_FAILED_MESSAGE, reason="SIGN_IN_FAILED")
