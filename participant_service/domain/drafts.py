"""Drafts: participant sign-ups staged step by step before they are submitted.

A draft holds the participant fields entered so far, a language, and the documents uploaded
to it. Its remaining steps come from one fixed, ordered list, REQUIRED_STEPS: a field step
is done once the field has a value, a `document:<kind>` step once a document of that kind
was uploaded (an upload is never asked for again). Submitting needs every step done.
Pure: no I/O, no framework.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from kernel.errors import FieldViolation, InvalidArgument, Validator
from participant_service.domain.documents import DocumentKind
from participant_service.domain.participants import Profile, check_name, clean_name, clean_profile

# The participant fields a draft collects, in the order a form asks for them.
FIELDS = ("first_name", "last_name", "kind", "phone", "comment", "messenger_id", "messenger_username")
# What UpdateDraft may change; anything else is refused (not ignored).
EDITABLE = ("language", *FIELDS)
# Done in any order; listed (and reported as remaining) in this order.
REQUIRED_STEPS = ("first_name", "last_name", "phone", "document:passport")
KINDS = ("visitor", "volunteer")
MAX_DOCUMENTS = 10
MAX_LANGUAGE = 35
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*$")


@dataclass(frozen=True)
class DraftDocument:
    id: str
    kind: DocumentKind
    content_type: str
    size_bytes: int
    sha256: str
    filename: str | None  # for display only
    uploaded_at: datetime


@dataclass(frozen=True)
class Draft:
    id: str
    created_at: datetime
    expires_at: datetime
    language: str | None = None
    # Entered fields (FIELDS), cleaned; an absent key was not entered.
    fields: Mapping[str, str] = field(default_factory=dict)
    documents: tuple[DraftDocument, ...] = ()
    # The actor who started it (access.may_use_draft); None for drafts from before owners.
    owner: str | None = None

    @property
    def remaining_steps(self) -> tuple[str, ...]:
        return remaining_steps(self.fields, self.documents)


def step_for(kind: DocumentKind) -> str:
    return f"document:{kind.value}"


def remaining_steps(fields: Mapping[str, str], documents: Iterable[DraftDocument]) -> tuple[str, ...]:
    done = {name for name, value in fields.items() if value} | {step_for(d.kind) for d in documents}
    return tuple(step for step in REQUIRED_STEPS if step not in done)


def clean_fields(values: Mapping[str, str]) -> dict[str, str | None]:
    """Each given value (`language` or one of FIELDS) validated with the participant rules and
    cleaned; None means cleared (an empty value). Violations name the field, all at once."""
    check = Validator()
    cleaned: dict[str, str | None] = {}
    for name, value in values.items():
        if name == "language":
            cleaned[name] = _language(check, value)
        elif name in ("first_name", "last_name"):
            value = clean_name(value)
            if value:
                check_name(check, name, value)
            cleaned[name] = value or None
        elif name == "kind":
            if value and value not in KINDS:
                check.add(name, f"must be one of {', '.join(KINDS)}")
            cleaned[name] = value or None
        elif name in FIELDS:
            cleaned |= clean_profile(check, Profile(**{name: value}), frozenset({name}))
        else:
            check.add(name, f"is not a draft field; fields: {', '.join(EDITABLE)}")
    check.raise_if_any()
    return cleaned


def _language(check: Validator, value: str) -> str | None:
    value = value.strip()
    if value and (len(value) > MAX_LANGUAGE or not _LANGUAGE.match(value)):
        check.add("language", "must be a language tag such as ru or en-GB")
    return value or None


def editable_paths(paths: Iterable[str]) -> tuple[str, ...]:
    """The mask's paths, each once; any path outside EDITABLE is refused, naming `update_mask`."""
    paths = tuple(dict.fromkeys(paths))
    if not paths:
        raise InvalidArgument.single("update_mask", f"must name at least one of {', '.join(EDITABLE)}")
    unknown = [p for p in paths if p not in EDITABLE]
    if unknown:
        raise InvalidArgument.single(
            "update_mask", f"cannot update {', '.join(repr(p[:100]) for p in unknown)}; editable: {', '.join(EDITABLE)}")
    return paths


def incomplete(steps: Iterable[str]) -> InvalidArgument | None:
    """The refusal of a submit while `steps` remain: each names its field (documents for
    document steps), or None when nothing remains."""
    violations = [
        FieldViolation("documents", f"a {step.removeprefix('document:')} document must be uploaded ({step})")
        if step.startswith("document:") else FieldViolation(step, "is required")
        for step in steps
    ]
    return InvalidArgument(violations) if violations else None
