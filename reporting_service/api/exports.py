"""ExportService over gRPC: registrations exports streamed from the Redis read models, their
preview, and saved export templates (a Redis hash per template)."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime
from typing import Any

from google.protobuf import empty_pb2, timestamp_pb2

from kernel import context
from kernel.errors import AlreadyExists, InvalidArgument, NotFound, PermissionDenied
from reporting_service import audit_log, exports
from reporting_service.exports import ExportQuery, Filters, RowSource
from reporting_service.keyspace import Keyspace
from reporting_service.projections import export_rows
from turnout.reporting.v1 import export_service_pb2 as pb
from turnout.reporting.v1 import export_service_pb2_grpc

EXPORT_ROLES = frozenset({"admin", "analyst"})
_FORMATS = {pb.EXPORT_FORMAT_CSV: "csv", pb.EXPORT_FORMAT_XLSX: "xlsx", pb.EXPORT_FORMAT_HTML: "html"}
_TEMPLATE_ID = re.compile(r"^[a-z0-9_-]{1,64}$")
PREVIEW_DEFAULT, PREVIEW_MAX = 20, 1000


def _require_role() -> context.RequestContext:
    ctx = context.current()
    if not ctx.roles & EXPORT_ROLES:
        raise PermissionDenied("exports need one of the roles: admin, analyst")
    return ctx


def _from_timestamp(stamp: timestamp_pb2.Timestamp, present: bool) -> datetime | None:
    return stamp.ToDatetime(tzinfo=UTC) if present else None


def filters_from_proto(message: pb.RegistrationFilter) -> Filters:
    return Filters(service_id=message.service_id, venue_id=message.venue_id, attendance=message.attendance,
                   event_from=message.event_from, event_to=message.event_to,
                   registered_from=_from_timestamp(message.registered_from, message.HasField("registered_from")),
                   registered_to=_from_timestamp(message.registered_to, message.HasField("registered_to")),
                   states=tuple(message.states))


def filters_to_proto(filters: Filters) -> pb.RegistrationFilter:
    message = pb.RegistrationFilter(service_id=filters.service_id, venue_id=filters.venue_id,
                                    attendance=filters.attendance, event_from=filters.event_from,
                                    event_to=filters.event_to, states=list(filters.states))
    if filters.registered_from:
        message.registered_from.FromDatetime(filters.registered_from)
    if filters.registered_to:
        message.registered_to.FromDatetime(filters.registered_to)
    return message


def _filters_json(filters: Filters) -> str:
    values: dict[str, Any] = {}
    for name in Filters.__dataclass_fields__:
        value = getattr(filters, name)
        if isinstance(value, datetime):
            value = value.isoformat()
        elif isinstance(value, tuple):
            value = list(value)
        if value:
            values[name] = value
    return json.dumps(values, ensure_ascii=False, sort_keys=True)


def _filters_from_json(text: str) -> Filters:
    values = json.loads(text or "{}")
    for name in ("registered_from", "registered_to"):
        if values.get(name):
            values[name] = datetime.fromisoformat(values[name])
    if "states" in values:
        values["states"] = tuple(values["states"])
    return Filters(**values)


def _template_id(name: str, path: str = "name") -> str:
    prefix, _, template_id = name.partition("/")
    if prefix != "exportTemplates" or not _TEMPLATE_ID.match(template_id):
        raise InvalidArgument.single(path, f"must look like exportTemplates/{{template}}, got {name!r}")
    return template_id


class ExportServicer(export_service_pb2_grpc.ExportServiceServicer):
    def __init__(self, client: Any, keyspace: Keyspace | None = None):
        """`client`: a redis.asyncio client with decode_responses=True."""
        self._client = client
        self._keys = keyspace or Keyspace()
        self._source = RowSource(client, self._keys)

    # --- templates -------------------------------------------------------------------------------

    async def _load_template(self, name: str, path: str = "template") -> tuple[tuple[str, ...], Filters]:
        template_id = _template_id(name, path)
        fields = await self._client.hgetall(export_rows.template_key(self._keys, template_id))
        if not fields:
            raise NotFound(f"no export template {template_id}", metadata={"resource": name})
        return tuple(f for f in fields.get("fields", "").split(",") if f), _filters_from_json(fields.get("filter", ""))

    def _template_message(self, template_id: str, stored: dict[str, str]) -> pb.ExportTemplate:
        message = pb.ExportTemplate(name=f"exportTemplates/{template_id}",
                                    fields=[f for f in stored.get("fields", "").split(",") if f],
                                    filter=filters_to_proto(_filters_from_json(stored.get("filter", ""))),
                                    update_actor=stored.get("update_actor", ""))
        if stored.get("update_time"):
            message.update_time.FromDatetime(datetime.fromisoformat(stored["update_time"]))
        return message

    async def _save(self, template_id: str, template: pb.ExportTemplate, actor: str) -> dict[str, str]:
        fields = exports.validate_fields(list(template.fields), "template.fields")
        filters = exports.validate_filters(filters_from_proto(template.filter), "template.filter")
        stored = {"fields": ",".join(fields), "filter": _filters_json(filters), "update_actor": actor,
                  "update_time": datetime.now(UTC).isoformat()}
        await self._client.hset(export_rows.template_key(self._keys, template_id), mapping=stored)
        return stored

    async def CreateExportTemplate(self, request, context_) -> pb.ExportTemplate:
        ctx = _require_role()
        if not _TEMPLATE_ID.match(request.template_id):
            raise InvalidArgument.single("template_id", "must be 1..64 of a-z, 0-9, '-' and '_'")
        exports.validate_fields(list(request.template.fields), "template.fields")
        exports.validate_filters(filters_from_proto(request.template.filter), "template.filter")
        if not await self._client.sadd(export_rows.templates_key(self._keys), request.template_id):
            raise AlreadyExists(f"export template {request.template_id} exists",
                                metadata={"resource": f"exportTemplates/{request.template_id}"})
        stored = await self._save(request.template_id, request.template, ctx.actor)
        return self._template_message(request.template_id, stored)

    async def GetExportTemplate(self, request, context_) -> pb.ExportTemplate:
        _require_role()
        template_id = _template_id(request.name)
        stored = await self._client.hgetall(export_rows.template_key(self._keys, template_id))
        if not stored:
            raise NotFound(f"no export template {template_id}", metadata={"resource": request.name})
        return self._template_message(template_id, stored)

    async def ListExportTemplates(self, request, context_) -> pb.ListExportTemplatesResponse:
        _require_role()
        names = sorted(await self._client.smembers(export_rows.templates_key(self._keys)))
        pipeline = self._client.pipeline(transaction=False)
        for template_id in names:
            pipeline.hgetall(export_rows.template_key(self._keys, template_id))
        stored = await pipeline.execute() if names else []
        return pb.ListExportTemplatesResponse(
            templates=[self._template_message(t, s) for t, s in zip(names, stored, strict=True) if s])

    async def UpdateExportTemplate(self, request, context_) -> pb.ExportTemplate:
        ctx = _require_role()
        template_id = _template_id(request.template.name, "template.name")
        if not await self._client.sismember(export_rows.templates_key(self._keys), template_id):
            raise NotFound(f"no export template {template_id}", metadata={"resource": request.template.name})
        stored = await self._save(template_id, request.template, ctx.actor)
        return self._template_message(template_id, stored)

    async def DeleteExportTemplate(self, request, context_) -> empty_pb2.Empty:
        _require_role()
        template_id = _template_id(request.name)
        if not await self._client.srem(export_rows.templates_key(self._keys), template_id):
            raise NotFound(f"no export template {template_id}", metadata={"resource": request.name})
        await self._client.delete(export_rows.template_key(self._keys, template_id))
        return empty_pb2.Empty()

    # --- exports ---------------------------------------------------------------------------------

    async def _query(self, ctx: context.RequestContext, fields: list[str], filter_message: pb.RegistrationFilter,
                     template: str, max_rows: int) -> ExportQuery:
        base_fields: tuple[str, ...] = ()
        base_filters = Filters()
        if template:
            base_fields, base_filters = await self._load_template(template)
        chosen = exports.validate_fields(fields or list(base_fields))
        filters = exports.validate_filters(filters_from_proto(filter_message).merged_over(base_filters))
        if max_rows < 0:
            raise InvalidArgument.single("max_rows", "must not be negative")
        return ExportQuery(fields=chosen, filters=filters, max_rows=max_rows,
                           mask_phones=not (ctx.roles & exports.FULL_PHONE_ROLES))

    async def _audit(self, ctx: context.RequestContext, command: str, fmt: str, query: ExportQuery,
                     template: str) -> None:
        detail = json.dumps({"format": fmt, "fields": list(query.fields), "filter": json.loads(
            _filters_json(query.filters)), "max_rows": query.max_rows, "template": template,
            "phones_masked": query.mask_phones}, ensure_ascii=False, sort_keys=True)
        await audit_log.record(self._client, self._keys, entry_id=str(uuid.uuid4()),
                               at_iso=datetime.now(UTC).isoformat().replace("+00:00", "Z"), actor=ctx.actor,
                               request_id=ctx.request_id, command=command, target_type="export",
                               target_id="registrations", detail=detail)

    async def ExportRegistrations(self, request, context_):
        ctx = _require_role()
        fmt = _FORMATS.get(request.format)
        if fmt is None:
            raise InvalidArgument.single("format", "must be CSV, XLSX or HTML")
        query = await self._query(ctx, list(request.fields), request.filter, request.template, request.max_rows)
        await self._audit(ctx, "ExportRegistrations", fmt, query, request.template)
        estimate = await self._source.estimate(query.filters)
        if query.max_rows:
            estimate = min(estimate, query.max_rows)
        counter = [0]
        first = True
        async for data in exports.export(self._source, query, fmt, counter):
            chunk = pb.ExportChunk(data=data, rows=counter[0])
            if first:
                chunk.content_type, chunk.file_name = exports.FORMATS[fmt][0], exports.file_name(fmt)
                chunk.estimated_rows = estimate
                first = False
            yield chunk

    async def PreviewRegistrations(self, request, context_) -> pb.PreviewRegistrationsResponse:
        ctx = _require_role()
        if request.max_rows < 0:
            raise InvalidArgument.single("max_rows", "must not be negative")
        wanted = min(request.max_rows or PREVIEW_DEFAULT, PREVIEW_MAX)
        query = await self._query(ctx, list(request.fields), request.filter, request.template, wanted)
        await self._audit(ctx, "PreviewRegistrations", "preview", query, request.template)
        rows = [pb.ExportRow(values=[row[f] for f in query.fields]) async for row in self._source.rows(query)]
        return pb.PreviewRegistrationsResponse(columns=list(query.fields), rows=rows)
