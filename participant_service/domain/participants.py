"""Participants: the people who book seats."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from kernel.errors import Validator

# Letters (Cyrillic or Latin) in words joined by single spaces, hyphens or apostrophes.
_NAME = re.compile(r"^[A-Za-zА-Яа-яЁё]+(?:[ '\-][A-Za-zА-Яа-яЁё]+)*$")
MIN_NAME = 2
MAX_NAME = 100


class ParticipantKind(Enum):
    VISITOR = "visitor"
    VOLUNTEER = "volunteer"


@dataclass(frozen=True)
class Participant:
    id: str
    card_number: str
    first_name: str
    last_name: str
    kind: ParticipantKind
    created_at: datetime
    version: int = 1

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


def _check_name(check: Validator, field: str, value: str) -> None:
    if len(value) < MIN_NAME:
        check.add(field, f"must have at least {MIN_NAME} characters")
    elif len(value) > MAX_NAME:
        check.add(field, f"must have at most {MAX_NAME} characters")
    elif not _NAME.match(value):
        check.add(field, "may contain only letters (Cyrillic or Latin), spaces, hyphens and apostrophes")


def new_participant(
    *, participant_id: str, card_number: str, first_name: str, last_name: str,
    kind: ParticipantKind, now: datetime,
) -> Participant:
    first_name, last_name = clean_name(first_name), clean_name(last_name)
    check = Validator()
    _check_name(check, "first_name", first_name)
    _check_name(check, "last_name", last_name)
    check.raise_if_any()
    return Participant(id=participant_id, card_number=card_number, first_name=first_name,
                       last_name=last_name, kind=kind, created_at=now)
