"""event_service's notification requests (`kernel.notifications`): which templates it asks
for, to whom, with which parameters. The README ("Kafka topics") documents each template;
its parameters are a contract and only grow.

Parameters carry resource names and states, never personal data.
"""

from __future__ import annotations

import hashlib

from event_service.domain.lifecycle import LifecycleOccurrence
from kernel import notifications
from kernel.errors import DomainError
from kernel.notifications import Channel, Notification
from kernel.roles import ADMIN

SYSTEM_ERROR = "system.error"

# The system errors this service reports (parameter `error_code`).
INVALID_TIMETABLE = "invalid_timetable"
LIFECYCLE_SCHEDULER = "event-service/lifecycle-scheduler"


def _describe(error: Exception) -> str:
    return error.message if isinstance(error, DomainError) else f"{type(error).__name__}: {error}"


def invalid_timetable(occurrence: LifecycleOccurrence, error: Exception) -> Notification:
    """To every admin: the scheduler cannot work out an occurrence's timetable (its event's
    stored policy is invalid, or its sessions end before they start), so the occurrence stops
    moving along its lifecycle until someone fixes the event or its sessions. Asked for once
    per occurrence and cause: the same breakage found again keeps the same dedup key."""
    detail = _describe(error)
    cause = hashlib.sha256(detail.encode("utf-8")).hexdigest()[:16]
    return Notification(
        recipient=notifications.role(ADMIN), template_key=SYSTEM_ERROR,
        parameters={"error_code": INVALID_TIMETABLE, "component": LIFECYCLE_SCHEDULER,
                    "summary": f"occurrence {occurrence.id} has no valid timetable and stays "
                               f"{occurrence.state.value} until its event's lifecycle policy or its sessions are fixed",
                    "occurrence": f"occurrences/{occurrence.id}", "event": f"events/{occurrence.event_id}",
                    "state": occurrence.state.value, "detail": notifications.bounded(detail)},
        dedup_key=f"{SYSTEM_ERROR}/{INVALID_TIMETABLE}/occurrences/{occurrence.id}/{cause}",
        channel_hints=(Channel.MESSENGER, Channel.EMAIL))
