"""Who may act on which participant, draft and registration: object-level rules enforced in
participant_service itself, so that a call reaching it by any route (the gateway, another
service, a direct gRPC client inside the network) is held to them.

The caller is what the gRPC interceptor read from `x-turnout-actor`, `x-turnout-roles` and
`x-turnout-participant-id`. A call with no roles at all is the system's own (the reconciler,
another service's background job, a migration script): it is trusted, because every call
from outside enters through the gateway, which always forwards the token's roles.

Refusals to touch someone else's object are NOT_FOUND, so that a participant cannot learn
whether an id exists; refusals of a whole kind of action (listing everyone) are
PERMISSION_DENIED. Pure: no I/O, no framework.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from kernel.errors import PermissionDenied
from kernel.roles import ADMIN, ANALYST, READERS, SERVICE, STAFF, VOLUNTEER

# STAFF act on anyone's participant record and book for anyone; READERS read anyone's.
# See every registration, whoever made it; a volunteer sees the ones they registered.
ALL_REGISTRATIONS = frozenset({ADMIN, SERVICE, ANALYST})

# What a participant may change on their own record. `kind` (visitor or volunteer) and
# `comment` (the staff's note about them) stay with the staff.
SELF_EDITABLE = frozenset({"first_name", "last_name", "phone", "messenger_id", "messenger_username"})


@dataclass(frozen=True)
class Caller:
    actor: str
    roles: frozenset[str]
    participant_id: str = ""

    @property
    def is_system(self) -> bool:
        return not self.roles

    def has_any(self, roles: Iterable[str]) -> bool:
        return not self.roles.isdisjoint(roles)

    def is_participant(self, participant_id: str) -> bool:
        return bool(self.participant_id) and self.participant_id == participant_id


# Participants -------------------------------------------------------------------------------

def may_read_participant(caller: Caller, participant_id: str) -> bool:
    return caller.is_system or caller.has_any(READERS) or caller.is_participant(participant_id)


def may_list_participants(caller: Caller) -> bool:
    """Listing and searching reveal everyone: staff and analysts only."""
    return caller.is_system or caller.has_any(READERS)


def check_list_participants(caller: Caller) -> None:
    if not may_list_participants(caller):
        raise PermissionDenied("a participant may not list or search participants", metadata={"field": "query"})


def may_update_participant(caller: Caller, participant_id: str) -> bool:
    """Whether the caller may change this participant at all (field limits come after)."""
    return caller.is_system or caller.has_any(STAFF) or caller.is_participant(participant_id)


def fields_not_settable(caller: Caller, paths: Iterable[str]) -> list[str]:
    """The paths of an update the caller may not set: none for staff and the system; for a
    participant (on themself: may_update_participant decides whose record), everything
    outside SELF_EDITABLE."""
    if caller.is_system or caller.has_any(STAFF):
        return []
    return [path for path in paths if path not in SELF_EDITABLE]


def check_participant_fields(caller: Caller, paths: Iterable[str]) -> None:
    refused = fields_not_settable(caller, paths)
    if refused:
        raise PermissionDenied(
            f"a participant may not change {', '.join(sorted(refused))} on their record; "
            f"they may change {', '.join(sorted(SELF_EDITABLE))}",
            reason="FIELD_NOT_SETTABLE", metadata={"field": f"update_mask.{min(refused)}"})


# Drafts -------------------------------------------------------------------------------------

def may_use_draft(caller: Caller, owner: str | None) -> bool:
    """A draft belongs to whoever started it; admins may help with any. A draft from before
    owners were recorded (None) is left to admins."""
    return caller.is_system or ADMIN in caller.roles or (owner is not None and owner == caller.actor)


# Registrations ------------------------------------------------------------------------------

def may_see_registration(caller: Caller, *, participant_id: str, registered_by: str) -> bool:
    """Admins, services and analysts see every registration; a volunteer those they
    registered; a participant their own."""
    if caller.is_system or caller.has_any(ALL_REGISTRATIONS) or caller.is_participant(participant_id):
        return True
    return VOLUNTEER in caller.roles and registered_by == caller.actor


def registrations_registered_by(caller: Caller, participant_id: str) -> str | None:
    """The `registered_by` a listing of this participant's registrations is narrowed to for
    this caller (a volunteer sees the ones they made, except on their own list as a
    participant), or None for no narrowing."""
    if caller.is_system or caller.has_any(ALL_REGISTRATIONS) or caller.is_participant(participant_id):
        return None
    if VOLUNTEER in caller.roles:
        return caller.actor
    return None


def may_list_participant_registrations(caller: Caller, participant_id: str) -> bool:
    return (caller.is_system or caller.has_any(READERS) or caller.is_participant(participant_id))


def may_list_session_registrations(caller: Caller) -> bool:
    """A session's list is the desk's check-in sheet: staff and analysts, not participants."""
    return caller.is_system or caller.has_any(READERS)


def may_mark_attendance(caller: Caller) -> bool:
    """The desk checks people in: staff, not participants or analysts."""
    return caller.is_system or caller.has_any(STAFF)
