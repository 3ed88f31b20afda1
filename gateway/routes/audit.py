"""`/v1/audit`: the audit trail (reporting_service's AuditService), for admins and analysts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from google.protobuf.timestamp_pb2 import Timestamp
from pydantic import BaseModel

from gateway import problems
from gateway.backends import BackendClient, service_client
from gateway.routes import PageSize, PageToken, to_datetime
from gateway.security import require_roles
from turnout.reporting.v1 import audit_service_pb2
from turnout.reporting.v1.audit_service_pb2_grpc import AuditServiceStub

# AuditService is served by reporting-service: same channel, same breaker.
AuditBackend = Annotated[BackendClient[AuditServiceStub], Depends(service_client("reporting", AuditServiceStub))]

router = APIRouter(prefix="/v1/audit", tags=["read models"])

AUDIT_FIELDS = {"actor": "actor", "target": "target_type", "start_time": "since", "end_time": "until",
                "page_size": "page_size", "page_token": "page_token"}


class AuditEntryOut(BaseModel):
    id: str
    at: datetime | None
    actor: str | None
    request_id: str | None
    command: str
    target_type: str | None
    target_id: str | None
    detail: str | None


class AuditEntryList(BaseModel):
    entries: list[AuditEntryOut]
    next_page_token: str | None


def _collection(target_type: str) -> str:
    """`registration` or `registrations` -> `registrations`."""
    return target_type if target_type.endswith("s") else target_type + "s"


def _timestamp(moment: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


def _entry_out(e: audit_service_pb2.AuditEntry) -> AuditEntryOut:
    collection, _, target_id = e.target.partition("/")
    return AuditEntryOut(id=e.entry_id, at=to_datetime(e.create_time), actor=e.actor or None,
                         request_id=e.request_id or None, command=e.command,
                         target_type=collection.removesuffix("s") or None, target_id=target_id or None,
                         detail=e.detail or None)


@router.get("", response_model=AuditEntryList, dependencies=[Depends(require_roles("admin", "analyst"))])
async def list_audit_entries(
    audit: AuditBackend,
    actor: Annotated[str | None, Query(max_length=200, description="Only this actor's entries.")] = None,
    target_type: Annotated[str | None, Query(
        max_length=64, description="With target_id: only the entries about this resource, e.g. `registration` "
                                   "(or `registrations`), `session`, `participant`.")] = None,
    target_id: Annotated[str | None, Query(max_length=200)] = None,
    since: Annotated[datetime | None, Query(description="Only entries at or after this time.")] = None,
    until: Annotated[datetime | None, Query(description="Only entries before this time.")] = None,
    page_size: PageSize = 0,
    page_token: PageToken = "",
) -> AuditEntryList:
    """Who did what when, newest first: every command the services published an event for,
    and every export. Filter by actor or by target (not both)."""
    if bool(target_type) != bool(target_id):
        missing = "target_id" if target_type else "target_type"
        raise problems.Problem(400, "invalid_argument", "target_type and target_id go together",
                               errors=[problems.FieldError(missing, "is required with the other target field")])
    request = audit_service_pb2.ListAuditEntriesRequest(
        actor=actor or "", target=f"{_collection(target_type)}/{target_id}" if target_type else "",
        page_size=page_size, page_token=page_token)
    if since is not None:
        request.start_time.CopyFrom(_timestamp(since))
    if until is not None:
        request.end_time.CopyFrom(_timestamp(until))
    reply = await audit.call(audit.stub.ListAuditEntries, request, fields=AUDIT_FIELDS)
    return AuditEntryList(entries=[_entry_out(e) for e in reply.audit_entries],
                          next_page_token=reply.next_page_token or None)
