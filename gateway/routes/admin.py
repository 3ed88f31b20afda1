"""Operations on the read models (admin): the consistency check."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from gateway.backends import ReportingBackend
from gateway.security import require_roles
from turnout.reporting.v1 import reporting_service_pb2

router = APIRouter(tags=["operations"], dependencies=[Depends(require_roles("admin"))])


class MismatchOut(BaseModel):
    key: str
    field: str
    read_model: int | None
    command_side: int


class ConsistencyOut(BaseModel):
    checked: int
    consistent: bool
    mismatches: list[MismatchOut]


@router.get("/v1/admin/consistency", response_model=ConsistencyOut)
async def consistency(reporting: ReportingBackend) -> ConsistencyOut:
    """Compares the read models with the command side; every differing figure by key."""
    report = await reporting.call(reporting.stub.CheckConsistency, reporting_service_pb2.CheckConsistencyRequest())
    return ConsistencyOut(checked=report.checked, consistent=not report.mismatches, mismatches=[
        MismatchOut(key=m.key, field=m.field, read_model=m.read_model if m.HasField("read_model") else None,
                    command_side=m.command_side) for m in report.mismatches])
