"""ReportingService over gRPC: reads only the Redis read models."""

from __future__ import annotations

from datetime import datetime

from google.protobuf import timestamp_pb2

from kernel.errors import InvalidArgument, NotFound
from reporting_service.read_models import ReadModels
from turnout.reporting.v1 import reporting_service_pb2, reporting_service_pb2_grpc


def _sub_resource_id(name: str, collection: str, singleton: str) -> str:
    """The id in "{collection}/{id}/{singleton}"."""
    parts = name.split("/")
    if len(parts) != 3 or parts[0] != collection or parts[2] != singleton or not parts[1]:
        raise InvalidArgument.single("name", f"must look like {collection}/{{id}}/{singleton}, got {name!r}")
    return parts[1]


def _timestamp(iso: str) -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    if iso:
        stamp.FromDatetime(datetime.fromisoformat(iso.replace("Z", "+00:00")))
    return stamp


class ReportingServicer(reporting_service_pb2_grpc.ReportingServiceServicer):
    def __init__(self, read_models: ReadModels):
        self._read = read_models

    async def GetVenueStats(self, request, context) -> reporting_service_pb2.VenueStats:
        venue_id = _sub_resource_id(request.name, "venues", "stats")
        view = await self._read.venue(venue_id)
        if view is None:
            raise NotFound(f"no read model for venue {venue_id} (yet)", metadata={"resource": request.name})
        return reporting_service_pb2.VenueStats(
            name=request.name, display_name=view.display_name, address=view.address,
            event_count=view.event_count, projected_version=view.projected_version,
            update_time=_timestamp(view.update_time),
        )

    async def GetSessionAvailability(self, request, context) -> reporting_service_pb2.SessionAvailability:
        session_id = _sub_resource_id(request.name, "sessions", "availability")
        view = await self._read.availability(session_id)
        if view is None:
            raise NotFound(f"no availability for session {session_id} (yet)", metadata={"resource": request.name})
        answer = reporting_service_pb2.SessionAvailability(
            name=request.name, capacity=view.capacity, held=view.held, confirmed=view.confirmed,
            available=view.available, update_time=_timestamp(view.update_time),
            pools=[reporting_service_pb2.PoolAvailability(pool=f"pools/{p.name}", limit=p.capacity, used=p.used,
                                                          available=p.available) for p in view.pools])
        if view.occurrence is not None:
            o = view.occurrence
            answer.occurrence.CopyFrom(reporting_service_pb2.OccurrenceAvailability(
                occurrence=f"occurrences/{o.name}", capacity=o.capacity, participants=o.used, available=o.available))
        return answer

    async def GetProjectionStats(self, request, context) -> reporting_service_pb2.ProjectionStats:
        totals = await self._read.totals()
        return reporting_service_pb2.ProjectionStats(
            applied_events=totals.applied_events, skipped_duplicates=totals.skipped_duplicates,
            venue_count=totals.venue_count, participant_count=totals.participant_count,
        )
