"""StartRebuild and GetRebuild of ReportingService."""

from __future__ import annotations

from datetime import datetime

from google.protobuf import timestamp_pb2

from kernel.errors import InvalidArgument, NotFound, Unavailable
from reporting_service.rebuild import AUTO, FAILED, OUTBOX, RUNNING, SUCCEEDED, TOPICS, Progress, Rebuilds
from turnout.reporting.v1 import reporting_service_pb2 as pb

_SOURCES = {pb.REBUILD_SOURCE_UNSPECIFIED: AUTO, pb.REBUILD_SOURCE_AUTO: AUTO,
            pb.REBUILD_SOURCE_TOPICS: TOPICS, pb.REBUILD_SOURCE_OUTBOX: OUTBOX}
_SOURCE_ENUM = {AUTO: pb.REBUILD_SOURCE_AUTO, TOPICS: pb.REBUILD_SOURCE_TOPICS, OUTBOX: pb.REBUILD_SOURCE_OUTBOX}
_STATE_ENUM = {RUNNING: pb.REBUILD_STATE_RUNNING, SUCCEEDED: pb.REBUILD_STATE_SUCCEEDED,
               FAILED: pb.REBUILD_STATE_FAILED}


def _stamp(iso: str) -> timestamp_pb2.Timestamp | None:
    if not iso:
        return None
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(datetime.fromisoformat(iso))
    return stamp


def rebuild_message(progress: Progress) -> pb.Rebuild:
    return pb.Rebuild(
        name=f"rebuilds/{progress.rebuild_id}", state=_STATE_ENUM.get(progress.state, pb.REBUILD_STATE_UNSPECIFIED),
        phase=progress.phase, source=_SOURCE_ENUM.get(progress.source, pb.REBUILD_SOURCE_UNSPECIFIED),
        used_source=_SOURCE_ENUM.get(progress.used_source, pb.REBUILD_SOURCE_UNSPECIFIED),
        target=progress.target, covered=progress.covered, replayed=progress.replayed,
        generation=progress.generation, previous_generation=progress.previous_generation,
        create_time=_stamp(progress.create_time), update_time=_stamp(progress.update_time),
        end_time=_stamp(progress.end_time), error=progress.error)


class RebuildMethods:
    """Mixed into ReportingServicer; `_rebuilds` is None where the process cannot rebuild."""

    _rebuilds: Rebuilds | None

    def _rebuilds_here(self) -> Rebuilds:
        if self._rebuilds is None:
            raise Unavailable("this reporting-service cannot rebuild read models (no broker or database configured)")
        return self._rebuilds

    async def StartRebuild(self, request, context) -> pb.Rebuild:
        if request.source not in _SOURCES:
            raise InvalidArgument.single("source", f"unknown source {request.source}")
        return rebuild_message(await self._rebuilds_here().start(_SOURCES[request.source]))

    async def GetRebuild(self, request, context) -> pb.Rebuild:
        collection, _, rebuild_id = request.name.partition("/")
        if collection != "rebuilds" or not rebuild_id or "/" in rebuild_id:
            raise InvalidArgument.single("name", f"must look like rebuilds/{{id}}, got {request.name!r}")
        progress = await self._rebuilds_here().get(rebuild_id)
        if progress is None:
            raise NotFound(f"no rebuild {rebuild_id} (unknown, or ended more than a week ago)",
                           metadata={"resource": request.name})
        return rebuild_message(progress)
