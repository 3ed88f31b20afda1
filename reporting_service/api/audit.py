"""AuditService over gRPC: pages of the audit trail from Redis."""

from __future__ import annotations

from datetime import datetime

from google.protobuf import timestamp_pb2

from kernel.errors import InvalidArgument
from kernel.pagination import page_size
from reporting_service.audit_log import AuditEntry, AuditReader
from turnout.reporting.v1 import audit_service_pb2, audit_service_pb2_grpc


def target_of(target: str) -> tuple[str, str]:
    """("registration", id) of "registrations/{id}": the aggregate type is the collection's
    singular, as the services name their aggregates."""
    parts = target.split("/")
    if len(parts) != 2 or not parts[0] or not parts[1]:
        raise InvalidArgument.single("target", f"must look like {{collection}}/{{id}}, got {target!r}")
    collection, target_id = parts
    return collection.removesuffix("s"), target_id


def target_name(target_type: str, target_id: str) -> str:
    if not target_type and not target_id:
        return ""
    return f"{target_type}s/{target_id}"


def _timestamp(iso: str) -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    if iso:
        stamp.FromDatetime(datetime.fromisoformat(iso))
    return stamp


def _millis(stamp: timestamp_pb2.Timestamp, has: bool) -> int | None:
    return stamp.ToMilliseconds() if has else None


def to_proto(entry: AuditEntry) -> audit_service_pb2.AuditEntry:
    return audit_service_pb2.AuditEntry(
        entry_id=entry.entry_id, create_time=_timestamp(entry.at), actor=entry.actor, request_id=entry.request_id,
        command=entry.command, target=target_name(entry.target_type, entry.target_id), detail=entry.detail)


class AuditServicer(audit_service_pb2_grpc.AuditServiceServicer):
    def __init__(self, reader: AuditReader):
        self._reader = reader

    async def ListAuditEntries(self, request, context) -> audit_service_pb2.ListAuditEntriesResponse:
        if request.actor and request.target:
            raise InvalidArgument.single("target", "give an actor or a target, not both")
        target_type, target_id = target_of(request.target) if request.target else ("", "")
        start = _millis(request.start_time, request.HasField("start_time"))
        end = _millis(request.end_time, request.HasField("end_time"))
        if start is not None and end is not None and end < start:
            raise InvalidArgument.single("end_time", "must not be before start_time")
        page = await self._reader.page(actor=request.actor, target_type=target_type, target_id=target_id,
                                       page_size=page_size(request.page_size), page_token=request.page_token,
                                       start_ms=start, end_ms=end)
        return audit_service_pb2.ListAuditEntriesResponse(
            audit_entries=[to_proto(e) for e in page.entries], next_page_token=page.next_page_token)
