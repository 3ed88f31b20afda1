"""`/v1/occurrences`: dated instances of events and their lifecycle (scheduled -> confirming ->
ready -> running -> finished, or cancelled)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict

from gateway.backends import EventBackend
from gateway.routes import (
    IdempotencyKey,
    enum_from_rest,
    enum_to_rest,
    resource_id,
    resource_name,
    to_datetime,
)
from gateway.security import require_roles
from turnout.event.v1 import event_service_pb2, session_pb2

router = APIRouter(prefix="/v1/occurrences", tags=["occurrences"])

OccurrenceStateName = Literal["scheduled", "confirming", "ready", "running", "finished", "cancelled"]


class OccurrenceOut(BaseModel):
    id: str
    event_id: str
    date: date
    capacity: int
    participants: int
    state: str
    state_changed_at: datetime | None
    starts_at: datetime | None
    ends_at: datetime | None


def occurrence_out(occurrence: session_pb2.Occurrence) -> OccurrenceOut:
    return OccurrenceOut(
        id=resource_id(occurrence.name, "occurrences"), event_id=resource_id(occurrence.event, "events"),
        date=date.fromisoformat(occurrence.date), capacity=occurrence.capacity,
        participants=occurrence.participants,
        state=enum_to_rest(session_pb2.OccurrenceState, occurrence.state),
        state_changed_at=to_datetime(occurrence.state_change_time),
        starts_at=to_datetime(occurrence.start_time), ends_at=to_datetime(occurrence.end_time))


@router.get("/{occurrence_id}", response_model=OccurrenceOut)
async def get_occurrence(occurrence_id: str, event: EventBackend) -> OccurrenceOut:
    request = event_service_pb2.GetOccurrenceRequest(name=resource_name("occurrences", occurrence_id))
    return occurrence_out(await event.call(event.stub.GetOccurrence, request))


class TransitionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    state: OccurrenceStateName


@router.post("/{occurrence_id}/transition", response_model=OccurrenceOut,
             dependencies=[Depends(require_roles("admin"))],
             responses={409: {"description": "`invalid_transition`: not allowed from the current state (`state` names "
                                             "it, `allowed` lists where it may go)"}})
async def transition_occurrence(occurrence_id: str, body: TransitionIn, event: EventBackend,
                                idempotency_key: IdempotencyKey = None) -> OccurrenceOut:
    """Moves the occurrence one step (admins): any allowed step, including cancelling and
    moving ahead of the timetable."""
    request = event_service_pb2.TransitionOccurrenceRequest(
        name=resource_name("occurrences", occurrence_id),
        target_state=enum_from_rest(session_pb2.OccurrenceState, body.state), request_id=idempotency_key or "")
    return occurrence_out(await event.call(event.stub.TransitionOccurrence, request,
                                           fields={"target_state": "state"}))
