"""Operations on the read models (admin): the consistency check and rebuilds."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, ConfigDict

from gateway.backends import ReportingBackend
from gateway.routes import resource_name
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


RebuildSource = Literal["auto", "topics", "outbox"]
_SOURCE_TO_PROTO = {"auto": reporting_service_pb2.REBUILD_SOURCE_AUTO,
                    "topics": reporting_service_pb2.REBUILD_SOURCE_TOPICS,
                    "outbox": reporting_service_pb2.REBUILD_SOURCE_OUTBOX}
_SOURCE_FROM_PROTO = {value: name for name, value in _SOURCE_TO_PROTO.items()}
_STATES = {reporting_service_pb2.REBUILD_STATE_RUNNING: "running",
           reporting_service_pb2.REBUILD_STATE_SUCCEEDED: "succeeded",
           reporting_service_pb2.REBUILD_STATE_FAILED: "failed"}


class RebuildIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: RebuildSource = "auto"


class RebuildOut(BaseModel):
    id: str
    state: Literal["running", "succeeded", "failed"]
    phase: str
    source: RebuildSource
    used_source: Literal["topics", "outbox"] | None
    target: int
    covered: int
    replayed: int
    generation: str
    previous_generation: str
    created_at: datetime | None
    updated_at: datetime | None
    ended_at: datetime | None
    error: str | None


def _time(message, name: str) -> datetime | None:  # type: ignore[no-untyped-def]
    return getattr(message, name).ToDatetime(tzinfo=UTC) if message.HasField(name) else None


def _rebuild(r: reporting_service_pb2.Rebuild) -> RebuildOut:
    return RebuildOut(
        id=r.name.removeprefix("rebuilds/"), state=_STATES.get(r.state, "running"), phase=r.phase,
        source=_SOURCE_FROM_PROTO.get(r.source, "auto"), used_source=_SOURCE_FROM_PROTO.get(r.used_source),
        target=r.target, covered=r.covered, replayed=r.replayed, generation=r.generation,
        previous_generation=r.previous_generation, created_at=_time(r, "create_time"),
        updated_at=_time(r, "update_time"), ended_at=_time(r, "end_time"), error=r.error or None)


@router.post("/v1/admin/read-models/rebuild", response_model=RebuildOut, status_code=202,
             responses={409: {"description": "another rebuild is running: code `rebuild_in_progress`"}})
async def start_rebuild(response: Response, reporting: ReportingBackend, body: RebuildIn | None = None) -> RebuildOut:
    """Re-projects every read model from scratch into a new generation, aside, and swaps it in
    once it holds everything the current one does; readers see the current one until then.
    `source`: `topics` from the beginning, `outbox` (the command side's history), or `auto`
    (topics, then the outbox when they no longer hold everything). Follow it at `Location`."""
    source = (body or RebuildIn()).source
    started = await reporting.call(reporting.stub.StartRebuild,
                                   reporting_service_pb2.StartRebuildRequest(source=_SOURCE_TO_PROTO[source]))
    out = _rebuild(started)
    response.headers["Location"] = f"/v1/admin/read-models/rebuilds/{out.id}"
    return out


@router.get("/v1/admin/read-models/rebuilds/{rebuild_id}", response_model=RebuildOut)
async def get_rebuild(rebuild_id: str, reporting: ReportingBackend) -> RebuildOut:
    """Progress of a rebuild: `covered` of `target` aggregate versions, then the swap."""
    return _rebuild(await reporting.call(reporting.stub.GetRebuild, reporting_service_pb2.GetRebuildRequest(
        name=resource_name("rebuilds", rebuild_id)), fields={"name": "rebuild_id"}))
