"""Participants: the people who book seats."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime
from enum import Enum

from kernel.errors import Validator

# Letters (Cyrillic or Latin) in words joined by single spaces, hyphens or apostrophes.
_NAME = re.compile(r"^[A-Za-zА-Яа-яЁё]+(?:[ '\-][A-Za-zА-Яа-яЁё]+)*$")
MIN_NAME = 2
MAX_NAME = 100
MAX_COMMENT = 1000
MAX_MESSENGER = 100
# Russian numbers only (no phone library): +7, 7 or 8, then ten digits; spaces, hyphens and
# parentheses may separate them anywhere.
_PHONE_SEPARATORS = re.compile(r"[\s\-()]")
_PHONE = re.compile(r"^(?:\+7|7|8)([0-9]{10})$")
_PHONE_QUERY = re.compile(r"^(?:\+7|7|8)([0-9]{1,10})$")
PHONE_RULE = "must be a Russian number such as +7 (916) 123-45-67, 8 916 123 45 67 or +79161234567"
# Fields UpdateParticipant may change; everything else in a mask is refused.
EDITABLE = frozenset({"first_name", "last_name", "phone", "comment", "messenger_id", "messenger_username", "kind"})


class ParticipantKind(Enum):
    VISITOR = "visitor"
    VOLUNTEER = "volunteer"


class VerificationStatus(Enum):
    """Review of the documents of a participant who signed up with them; None without documents."""
    PENDING_REVIEW = "pending_review"
    APPROVED = "approved"
    REJECTED = "rejected"


@dataclass(frozen=True)
class Participant:
    id: str
    card_number: str
    first_name: str
    last_name: str
    kind: ParticipantKind
    created_at: datetime
    version: int = 1
    phone: str | None = None  # E.164, "+7XXXXXXXXXX"
    comment: str | None = None
    messenger_id: str | None = None
    messenger_username: str | None = None  # without a leading "@"
    created_by: str | None = None
    verification_status: VerificationStatus | None = None
    verification_reason: str | None = None

    @property
    def name_keys(self) -> NameKeys:
        """The casefolded search keys of the names (stored, so search ignores the database locale)."""
        return NameKeys.of(self.first_name, self.last_name)


@dataclass(frozen=True)
class NameKeys:
    first: str
    last: str
    full: str  # "first last"

    @classmethod
    def of(cls, first_name: str, last_name: str) -> NameKeys:
        first, last = search_key(first_name), search_key(last_name)
        return cls(first=first, last=last, full=f"{first} {last}")


@dataclass(frozen=True)
class ParticipantCreated:
    participant: Participant


@dataclass(frozen=True)
class ParticipantUpdated:
    participant: Participant
    changed_fields: tuple[str, ...]


@dataclass(frozen=True)
class Profile:
    """The optional contact fields, as entered."""
    phone: str = ""
    comment: str = ""
    messenger_id: str = ""
    messenger_username: str = ""


def clean_name(value: str) -> str:
    return " ".join(value.split())


def search_key(value: str) -> str:
    """The form names and queries are compared in: cleaned and casefolded in Python, so that
    case-insensitivity does not depend on the database's locale (under C, lower() leaves Cyrillic)."""
    return clean_name(value).casefold()


def query_key(query: str) -> str:
    """A search query in the form of the keys: whitespace runs collapse to one space and leading
    ones go, but a trailing space stays ("анна " asks for first name Анна, not Аннушка)."""
    return re.sub(r"\s+", " ", query).lstrip().casefold()


def normalize_phone(value: str) -> str | None:
    """"+7XXXXXXXXXX" for an accepted Russian number, None for anything else."""
    match = _PHONE.match(_PHONE_SEPARATORS.sub("", value))
    return f"+7{match.group(1)}" if match else None


def phone_query_prefix(query: str) -> str | None:
    """The stored-phone prefix a search query asks for when it looks like the start of a Russian
    number ("8 916" → "+7916"), else None. At least one digit after the country prefix."""
    match = _PHONE_QUERY.match(_PHONE_SEPARATORS.sub("", query))
    return f"+7{match.group(1)}" if match else None


def _optional_text(check: Validator, field: str, value: str, limit: int) -> str | None:
    value = value.strip()
    if "\x00" in value:
        check.add(field, "must not contain NUL characters")
    elif len(value) > limit:
        check.add(field, f"must have at most {limit} characters")
    return value or None


def clean_profile(check: Validator, profile: Profile, fields: frozenset[str] = EDITABLE) -> dict[str, str | None]:
    """The profile fields named in `fields`, cleaned; violations go to `check`. Empty means unset."""
    cleaned: dict[str, str | None] = {}
    if "phone" in fields:
        raw = profile.phone.strip()
        phone = normalize_phone(raw) if raw else None
        if raw and phone is None:
            check.add("phone", PHONE_RULE)
        cleaned["phone"] = phone
    if "comment" in fields:
        cleaned["comment"] = _optional_text(check, "comment", profile.comment, MAX_COMMENT)
    if "messenger_id" in fields:
        cleaned["messenger_id"] = _optional_text(check, "messenger_id", profile.messenger_id, MAX_MESSENGER)
    if "messenger_username" in fields:
        username = _optional_text(check, "messenger_username", profile.messenger_username.strip().removeprefix("@"),
                                  MAX_MESSENGER)
        if username is not None and any(c.isspace() for c in username):
            check.add("messenger_username", "must not contain spaces")
        cleaned["messenger_username"] = username
    return cleaned


def check_name(check: Validator, field: str, value: str) -> None:
    if len(value) < MIN_NAME:
        check.add(field, f"must have at least {MIN_NAME} characters")
    elif len(value) > MAX_NAME:
        check.add(field, f"must have at most {MAX_NAME} characters")
    elif not _NAME.match(value):
        check.add(field, "may contain only letters (Cyrillic or Latin), spaces, hyphens and apostrophes")


def new_participant(
    *, participant_id: str, card_number: str, first_name: str, last_name: str,
    kind: ParticipantKind, now: datetime, profile: Profile = Profile(), created_by: str | None = None,
    verification_status: VerificationStatus | None = None,
) -> Participant:
    first_name, last_name = clean_name(first_name), clean_name(last_name)
    check = Validator()
    check_name(check, "first_name", first_name)
    check_name(check, "last_name", last_name)
    cleaned = clean_profile(check, profile)
    check.raise_if_any()
    return Participant(id=participant_id, card_number=card_number, first_name=first_name,
                       last_name=last_name, kind=kind, created_at=now, created_by=created_by,
                       verification_status=verification_status, **cleaned)


def updated_participant(
    participant: Participant, paths: frozenset[str], *, first_name: str, last_name: str,
    kind: ParticipantKind, profile: Profile,
) -> tuple[Participant, tuple[str, ...]]:
    """The participant with the fields in `paths` replaced and validated like on creation, and
    the paths whose value actually changed (in EDITABLE order: sorted). Version is not bumped here."""
    check = Validator()
    changes: dict[str, object] = {}
    if "first_name" in paths:
        changes["first_name"] = clean_name(first_name)
        check_name(check, "first_name", changes["first_name"])
    if "last_name" in paths:
        changes["last_name"] = clean_name(last_name)
        check_name(check, "last_name", changes["last_name"])
    if "kind" in paths:
        changes["kind"] = kind
    changes |= clean_profile(check, profile, paths)
    check.raise_if_any()
    changed = tuple(sorted(f for f, v in changes.items() if getattr(participant, f) != v))
    return replace(participant, **changes), changed


MAX_VERIFICATION_REASON = 1000


def reviewed_participant(participant: Participant, status: VerificationStatus, reason: str) -> tuple[Participant, tuple[str, ...]]:
    """The participant with an admin's review of its documents, and the fields it changed.
    Only a rejection carries a reason; approving or reopening clears it."""
    check = Validator()
    reason = reason.strip()
    if reason and status is not VerificationStatus.REJECTED:
        check.add("reason", "is only given with a rejection")
    elif "\x00" in reason:
        check.add("reason", "must not contain NUL characters")
    elif len(reason) > MAX_VERIFICATION_REASON:
        check.add("reason", f"must have at most {MAX_VERIFICATION_REASON} characters")
    check.raise_if_any()
    changes = {"verification_status": status, "verification_reason": reason or None}
    changed = tuple(f for f, v in changes.items() if getattr(participant, f) != v)
    return replace(participant, **changes), changed
