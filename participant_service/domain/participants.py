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


@dataclass(frozen=True)
class ParticipantCreated:
    participant: Participant


def clean_name(value: str) -> str:
    return " ".join(value.split())


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
