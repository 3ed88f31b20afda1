"""`/v1/sessions/{id}/availability`: the read model of a session's seats (reporting_service)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel

from gateway.backends import ReportingBackend
from gateway.routes import resource_id, resource_name, to_datetime
from turnout.reporting.v1 import reporting_service_pb2

router = APIRouter(tags=["read models"])


class OccurrenceAvailabilityOut(BaseModel):
    occurrence_id: str
    capacity: int
    participants: int
    available: int


class PoolAvailabilityOut(BaseModel):
    pool_id: str
    limit: int
    used: int
    available: int


class AvailabilityOut(BaseModel):
    session_id: str
    capacity: int
    held: int
    confirmed: int
    available: int
    occurrence: OccurrenceAvailabilityOut | None
    pools: list[PoolAvailabilityOut]
    updated_at: datetime | None


@router.get("/v1/sessions/{session_id}/availability", response_model=AvailabilityOut)
async def get_availability(session_id: str, reporting: ReportingBackend) -> AvailabilityOut:
    """Projected from the ledger's events, a fraction of a second behind the bookings; 404
    until the projector has seen the session."""
    request = reporting_service_pb2.GetSessionAvailabilityRequest(
        name=resource_name("sessions", session_id) + "/availability")
    a = await reporting.call(reporting.stub.GetSessionAvailability, request)
    occurrence = None
    if a.HasField("occurrence"):
        o = a.occurrence
        occurrence = OccurrenceAvailabilityOut(occurrence_id=resource_id(o.occurrence, "occurrences"),
                                               capacity=o.capacity, participants=o.participants, available=o.available)
    return AvailabilityOut(
        session_id=session_id, capacity=a.capacity, held=a.held, confirmed=a.confirmed, available=a.available,
        occurrence=occurrence, updated_at=to_datetime(a.update_time),
        pools=[PoolAvailabilityOut(pool_id=resource_id(p.pool, "pools"), limit=p.limit, used=p.used,
                                   available=p.available) for p in a.pools])
