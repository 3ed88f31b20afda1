"""ReportingService over gRPC: reads only the Redis read models."""

from __future__ import annotations

from datetime import datetime

from google.protobuf import timestamp_pb2

from kernel.errors import InvalidArgument, NotFound
from reporting_service.read_models import ReadModels
from turnout.reporting.v1 import reporting_service_pb2, reporting_service_pb2_grpc


def _venue_id(name: str) -> str:
    parts = name.split("/")
    if len(parts) != 3 or parts[0] != "venues" or parts[2] != "stats" or not parts[1]:
        raise InvalidArgument.single("name", f"must look like venues/{{venue}}/stats, got {name!r}")
    return parts[1]


class ReportingServicer(reporting_service_pb2_grpc.ReportingServiceServicer):
    def __init__(self, read_models: ReadModels):
        self._read = read_models

    async def GetVenueStats(self, request, context) -> reporting_service_pb2.VenueStats:
        venue_id = _venue_id(request.name)
        view = await self._read.venue(venue_id)
        if view is None:
            raise NotFound(f"no read model for venue {venue_id} (yet)", metadata={"resource": request.name})
        update_time = timestamp_pb2.Timestamp()
        if view.update_time:
            update_time.FromDatetime(datetime.fromisoformat(view.update_time.replace("Z", "+00:00")))
        return reporting_service_pb2.VenueStats(
            name=request.name, display_name=view.display_name, address=view.address,
            event_count=view.event_count, projected_version=view.projected_version, update_time=update_time,
        )

    async def GetProjectionStats(self, request, context) -> reporting_service_pb2.ProjectionStats:
        totals = await self._read.totals()
        return reporting_service_pb2.ProjectionStats(
            applied_events=totals.applied_events, skipped_duplicates=totals.skipped_duplicates,
            venue_count=totals.venue_count, participant_count=totals.participant_count,
        )
