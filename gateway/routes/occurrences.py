"""`/v1/occurrences`: dated instances of events and their lifecycle (scheduled -> confirming ->
ready -> running -> finished, or cancelled)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

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
    session_ids: list[str] = Field(description="Its sessions, by start time")


def occurrence_out(occurrence: session_pb2.Occurrence) -> OccurrenceOut:
    return OccurrenceOut(
        id=resource_id(occurrence.name, "occurrences"), event_id=resource_id(occurrence.event, "events"),
        date=date.fromisoformat(occurrence.date), capacity=occurrence.capacity,
        participants=occurrence.participants,
        state=enum_to_rest(session_pb2.OccurrenceState, occurrence.state),
        state_changed_at=to_datetime(occurrence.state_change_time),
        starts_at=to_datetime(occurrence.start_time), ends_at=to_datetime(occurrence.end_time),
        session_ids=[resource_id(s, "sessions") for s in occurrence.sessions])


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


# --- rounds ------------------------------------------------------------------------------


class RoundsFormatOut(BaseModel):
    round_minutes: int
    break_minutes: int
    group_size: int


class RoundPairOut(BaseModel):
    first: str = Field(description='"participants/{id}", the smaller id first')
    second: str


class RoundOut(BaseModel):
    index: int = Field(description="0-based; round i of every group starts at starts_at + i * (round + break)")
    starts_at: datetime
    ends_at: datetime
    pairs: list[RoundPairOut]
    resting: str | None = Field(description='"participants/{id}" sitting this round out (odd groups only)')


class RoundsGroupOut(BaseModel):
    index: int
    participants: list[str] = Field(description='"participants/{id}"')
    rounds: list[RoundOut]


class OccurrenceRoundsOut(BaseModel):
    occurrence_id: str
    event_id: str
    format: RoundsFormatOut
    seed: str = Field(description="The unsigned 64-bit seed the groups were drawn with, as a string (beyond "
                                  "what a JSON number keeps exactly)")
    starts_at: datetime
    ends_at: datetime = Field(description="End of the last round of the longest group; starts_at when nobody "
                                          "was scheduled")
    groups: list[RoundsGroupOut] = Field(description="A participant sees only their own group")
    created_at: datetime


def _required_time(value) -> datetime:  # type: ignore[no-untyped-def]
    moment = to_datetime(value)
    assert moment is not None, "the backend always sets the times of a rounds schedule"
    return moment


def occurrence_rounds_out(rounds: session_pb2.OccurrenceRounds) -> OccurrenceRoundsOut:
    return OccurrenceRoundsOut(
        occurrence_id=resource_id(rounds.occurrence, "occurrences"), event_id=resource_id(rounds.event, "events"),
        format=RoundsFormatOut(round_minutes=rounds.format.round_minutes, break_minutes=rounds.format.break_minutes,
                               group_size=rounds.format.group_size),
        seed=str(rounds.seed), starts_at=_required_time(rounds.start_time), ends_at=_required_time(rounds.end_time),
        groups=[RoundsGroupOut(
            index=group.index, participants=list(group.participants),
            rounds=[RoundOut(index=played.index, starts_at=_required_time(played.start_time),
                             ends_at=_required_time(played.end_time),
                             pairs=[RoundPairOut(first=p.first, second=p.second) for p in played.pairs],
                             resting=played.resting or None)
                    for played in group.rounds])
            for group in rounds.groups],
        created_at=_required_time(rounds.create_time))


@router.get("/{occurrence_id}/rounds", response_model=OccurrenceRoundsOut,
            responses={404: {"description": "No schedule yet, or (for a participant) not one they are in"}})
async def get_occurrence_rounds(occurrence_id: str, event: EventBackend) -> OccurrenceRoundsOut:
    """The occurrence's rounds schedule. Staff and analysts see every group; a participant
    only their own, and 404 when they are not in it."""
    request = event_service_pb2.GetOccurrenceRoundsRequest(name=f"{resource_name('occurrences', occurrence_id)}/rounds")
    return occurrence_rounds_out(await event.call(event.stub.GetOccurrenceRounds, request))


@router.post("/{occurrence_id}/rounds", response_model=OccurrenceRoundsOut,
             dependencies=[Depends(require_roles("admin"))],
             responses={409: {"description": "`rounds_not_schedulable`: the event does not run in rounds, or the "
                                             "occurrence is not ready or running (`state` names where it is)"}})
async def schedule_occurrence_rounds(occurrence_id: str, event: EventBackend,
                                     idempotency_key: IdempotencyKey = None) -> OccurrenceRoundsOut:
    """Makes the occurrence's rounds schedule from the participants holding a confirmed seat,
    or answers the one made before: there is only ever one per occurrence, so a repeated call
    (with or without an Idempotency-Key) changes nothing."""
    request = event_service_pb2.ScheduleOccurrenceRoundsRequest(
        occurrence=resource_name("occurrences", occurrence_id))
    return occurrence_rounds_out(await event.call(event.stub.ScheduleOccurrenceRounds, request,
                                                  fields={"occurrence": "occurrence_id"}))
