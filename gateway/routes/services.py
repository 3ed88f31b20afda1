"""`/v1/services`: the service catalog admins schedule sessions from."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from gateway.backends import EventBackend
from gateway.routes import PageSize, PageToken, resource_id
from turnout.event.v1 import event_service_pb2, service_pb2

router = APIRouter(prefix="/v1/services", tags=["catalog"])


class ServiceOut(BaseModel):
    id: str
    name: str
    default_capacity: int
    default_booking_window_days: int
    default_duration_minutes: int


class ServiceList(BaseModel):
    services: list[ServiceOut]
    next_page_token: str | None


def service_out(service: service_pb2.Service) -> ServiceOut:
    return ServiceOut(
        id=resource_id(service.name, "services"),
        name=service.display_name,
        default_capacity=service.default_capacity,
        default_booking_window_days=service.default_booking_window_days,
        default_duration_minutes=service.default_duration_minutes,
    )


@router.get("", response_model=ServiceList)
async def list_services(event: EventBackend, page_size: PageSize = 0, page_token: PageToken = "") -> ServiceList:
    request = event_service_pb2.ListServicesRequest(page_size=page_size, page_token=page_token)
    reply = await event.call(event.stub.ListServices, request, fields={"page_size": "page_size", "page_token": "page_token"})
    return ServiceList(services=[service_out(s) for s in reply.services], next_page_token=reply.next_page_token or None)
