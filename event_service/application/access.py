"""Who may change the catalog and the ledger, checked in event_service as well as in the
gateway (defence in depth: a call reaching this service by another route is held to the
same rules).

The caller is the identity the gRPC interceptor read from metadata. A call with no roles is
the system's own (the sweeper, the auto-archiver, another service's background job): it is
trusted, because every call from outside enters through the gateway, which always forwards
the token's roles. participant_service forwards its caller's identity on the ledger calls
it makes for a booking, so a participant booking themself reaches the ledger with the
participant role: the ledger therefore lets a participant act on their own seats, never on
anyone else's.
"""

from __future__ import annotations

from kernel import context
from kernel.errors import NotFound, PermissionDenied
from kernel.roles import ADMIN, READERS, SERVICE, STAFF


def may_write_catalog(roles: frozenset[str]) -> bool:
    return not roles or ADMIN in roles


def check_catalog_write(action: str) -> None:
    """Venues, events and sessions change only by an admin's hand (or the system's)."""
    if not may_write_catalog(context.current().roles):
        raise PermissionDenied(f"{action} needs the admin role")


def may_use_seat_of(participant_id: str, *, roles: frozenset[str], caller_participant_id: str) -> bool:
    """Staff and the system take, read and free anyone's seat; a participant (as forwarded by
    participant_service when they book themself) only their own."""
    return (not roles or not roles.isdisjoint(STAFF)
            or (bool(caller_participant_id) and caller_participant_id == participant_id))


def check_take_seat_for(participant_id: str) -> None:
    ctx = context.current()
    if not may_use_seat_of(participant_id, roles=ctx.roles, caller_participant_id=ctx.participant_id):
        raise PermissionDenied("a participant may take a seat only for themself", metadata={"field": "participant"})


def check_seat_visible(seat_id: str, participant_id: str) -> None:
    """Someone else's seat is not found, so a participant cannot probe seat ids."""
    ctx = context.current()
    if not may_use_seat_of(participant_id, roles=ctx.roles, caller_participant_id=ctx.participant_id):
        raise NotFound(f"seat {seat_id} does not exist", metadata={"resource": f"seats/{seat_id}"})


def check_rounds_scheduling() -> None:
    """A rounds schedule is made by the system (participant_service once the answers are
    settled, on its own account) or by an admin."""
    roles = context.current().roles
    if roles and roles.isdisjoint({ADMIN, SERVICE}):
        raise PermissionDenied("ScheduleOccurrenceRounds needs the admin role")


def may_read_all_rounds(roles: frozenset[str]) -> bool:
    """Every group of a rounds schedule: staff, analysts and the system. A participant sees
    only their own group (the others pair other people)."""
    return not roles or not roles.isdisjoint(READERS)
