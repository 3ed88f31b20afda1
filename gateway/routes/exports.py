"""`/v1/exports/...`: registrations exports (CSV, XLSX, HTML) streamed from reporting_service's
read models, and saved export templates. Admins and analysts only."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import grpc
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from gateway import problems
from gateway.backends import Backend, BackendClient, request_context, service_client
from gateway.security import CurrentPrincipal, require_roles
from kernel import grpc_client
from turnout.reporting.v1 import export_service_pb2 as pb
from turnout.reporting.v1.export_service_pb2_grpc import ExportServiceStub

router = APIRouter(tags=["exports"])

ExportBackend = Annotated[BackendClient[ExportServiceStub], Depends(service_client("reporting", ExportServiceStub))]
_ROLES = [Depends(require_roles("admin", "analyst"))]
_FORMATS = {"csv": pb.EXPORT_FORMAT_CSV, "xlsx": pb.EXPORT_FORMAT_XLSX, "html": pb.EXPORT_FORMAT_HTML}
# The zone reporting_service shows dates in (reporting_service.exports.TIME_ZONE).
EXPORT_TIME_ZONE = ZoneInfo("Europe/Moscow")
# gRPC field paths -> REST query parameters.
_FIELD_NAMES = {**{f"filter.{name}": name for name in (
    "service_id", "venue_id", "attendance", "event_from", "event_to", "registered_from", "registered_to")},
    "max_rows": "preview", "template": "template", "format": "format"}


def _rest_field(path: str) -> str:
    if path.startswith("fields["):
        return "fields"
    if path.startswith("filter.states"):
        return "state"
    if path.startswith("template.filter."):
        return "filter." + path.removeprefix("template.filter.").split("[")[0]
    if path.startswith("template.fields"):
        return "fields"
    return _FIELD_NAMES.get(path, path)


def _bad(field: str, message: str) -> problems.Problem:
    return problems.Problem(400, "validation_failed", f"{field}: {message}",
                            errors=[problems.FieldError(field, message)])


def _instant(value: str | None, field: str, *, end: bool) -> datetime | None:
    """An ISO date-time (UTC unless it has an offset), or a date: the whole day in the export
    time zone, so `registered_to=2026-12-01` takes that day in."""
    if not value:
        return None
    try:
        if len(value) == 10:
            day = date.fromisoformat(value) + timedelta(days=1 if end else 0)
            return datetime.combine(day, time.min, tzinfo=EXPORT_TIME_ZONE)
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise _bad(field, "must be an ISO date (2026-12-01) or date-time (2026-12-01T10:00:00Z)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _split(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


class FilterModel(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a misspelt filter must not widen the export

    service_id: str = ""
    venue_id: str = ""
    attendance: str = ""
    event_from: str = ""
    event_to: str = ""
    registered_from: datetime | None = None
    registered_to: datetime | None = None
    states: list[str] = Field(default_factory=list)


def _filter_message(f: FilterModel) -> pb.RegistrationFilter:
    message = pb.RegistrationFilter(service_id=f.service_id, venue_id=f.venue_id, attendance=f.attendance,
                                    event_from=f.event_from, event_to=f.event_to, states=f.states)
    for name in ("registered_from", "registered_to"):
        value = getattr(f, name)
        if value is not None:
            getattr(message, name).FromDatetime(value if value.tzinfo else value.replace(tzinfo=UTC))
    return message


def _filter_model(m: pb.RegistrationFilter) -> FilterModel:
    return FilterModel(
        service_id=m.service_id, venue_id=m.venue_id, attendance=m.attendance, event_from=m.event_from,
        event_to=m.event_to, states=list(m.states),
        registered_from=m.registered_from.ToDatetime(tzinfo=UTC) if m.HasField("registered_from") else None,
        registered_to=m.registered_to.ToDatetime(tzinfo=UTC) if m.HasField("registered_to") else None)


class ExportQueryParams:
    """The query parameters an export and its preview share."""

    def __init__(
        self,
        fields: Annotated[str | None, Query(description="Comma-separated field names, in column order")] = None,
        service_id: str | None = None,
        venue_id: str | None = None,
        attendance: Annotated[str | None, Query(description="expected, attended or no_show")] = None,
        state: Annotated[str | None, Query(description="Comma-separated registration states")] = None,
        event_from: Annotated[date | None, Query(description="Sessions on or after this date")] = None,
        event_to: Annotated[date | None, Query(description="Sessions on or before this date")] = None,
        registered_from: Annotated[str | None, Query(description="ISO date or date-time, inclusive")] = None,
        registered_to: Annotated[str | None, Query(description="ISO date (inclusive) or date-time (exclusive)")] = None,
        template: Annotated[str | None, Query(description="A saved template's id")] = None,
    ):
        self.fields = _split(fields)
        self.template = f"exportTemplates/{template}" if template else ""
        self.filter = pb.RegistrationFilter(
            service_id=service_id or "", venue_id=venue_id or "", attendance=attendance or "",
            event_from=event_from.isoformat() if event_from else "", event_to=event_to.isoformat() if event_to else "",
            states=_split(state))
        start = _instant(registered_from, "registered_from", end=False)
        stop = _instant(registered_to, "registered_to", end=True)
        if start:
            self.filter.registered_from.FromDatetime(start)
        if stop:
            self.filter.registered_to.FromDatetime(stop)


Params = Annotated[ExportQueryParams, Depends()]


async def _stream_target(request: Request, principal: CurrentPrincipal) -> tuple[Backend[Any], Any]:
    backend: Backend[Any] = request.app.state.backends["reporting"]
    return backend, request_context(request, principal)


@router.get("/v1/exports/registrations", dependencies=_ROLES, response_class=StreamingResponse,
            responses={200: {"content": {"text/csv": {}, "text/html": {}, "application/vnd.openxmlformats-"
                                         "officedocument.spreadsheetml.sheet": {}}}})
async def export_registrations(
    params: Params,
    target: Annotated[tuple[Backend[Any], Any], Depends(_stream_target)],
    format: Annotated[str, Query(description="csv, xlsx or html")] = "csv",
    # int32 on the wire: a larger one failed building the request (a 500) instead of a 422.
    preview: Annotated[int | None, Query(ge=1, le=2**31 - 1, description="Only the first N rows")] = None,
) -> StreamingResponse:
    """The registrations as a file, streamed as it is read from the read models (constant
    memory whatever the size). Phones are masked unless the caller is an admin; every export
    is written to the audit trail."""
    if format not in _FORMATS:
        raise _bad("format", "must be csv, xlsx or html")
    backend, context = target
    stub = backend.service(ExportServiceStub)
    request = pb.ExportRegistrationsRequest(format=_FORMATS[format], fields=params.fields, filter=params.filter,
                                            max_rows=preview or 0, template=params.template)
    with backend.failures_as_problems(_rest_field), backend.breaker.calling():
        call = stub.ExportRegistrations(request, timeout=grpc_client.EXPORT_DEADLINE_SECONDS,
                                        metadata=context.metadata())
        first = await call.read()
    if first is grpc.aio.EOF:
        raise problems.internal_error()

    async def body() -> AsyncIterator[bytes]:
        yield first.data
        try:
            # A failure from here on aborts the transfer: the status line has gone already.
            while (chunk := await call.read()) is not grpc.aio.EOF:
                yield chunk.data
        finally:
            call.cancel()

    return StreamingResponse(body(), media_type=first.content_type, headers={
        "Content-Disposition": f"attachment; filename=\"{first.file_name}\"; "
                               f"filename*=UTF-8''{quote(first.file_name)}"})


class PreviewOut(BaseModel):
    columns: list[str]
    rows: list[list[str]]


@router.get("/v1/exports/registrations:preview", dependencies=_ROLES, response_model=PreviewOut)
async def preview_registrations(params: Params, exports: ExportBackend,
                                rows: Annotated[int, Query(ge=1, le=1000)] = 20) -> PreviewOut:
    """The first rows of an export as JSON, for a preview on screen."""
    answer = await exports.call(exports.stub.PreviewRegistrations, pb.PreviewRegistrationsRequest(
        fields=params.fields, filter=params.filter, max_rows=rows, template=params.template), fields=_rest_field)
    return PreviewOut(columns=list(answer.columns), rows=[list(r.values) for r in answer.rows])


# --- templates -------------------------------------------------------------------------------------


class TemplateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    fields: list[str] = Field(default_factory=list)
    filter: FilterModel = Field(default_factory=FilterModel)


class TemplateCreate(TemplateIn):
    template_id: str


class TemplateOut(TemplateIn):
    template_id: str
    updated_by: str
    updated_at: datetime | None


def _template_out(t: pb.ExportTemplate) -> TemplateOut:
    return TemplateOut(template_id=t.name.removeprefix("exportTemplates/"), fields=list(t.fields),
                       filter=_filter_model(t.filter), updated_by=t.update_actor,
                       updated_at=t.update_time.ToDatetime(tzinfo=UTC) if t.HasField("update_time") else None)


def _template_fields(path: str) -> str:
    return path.removeprefix("template.").split("[")[0]


@router.post("/v1/exports/templates", dependencies=_ROLES, response_model=TemplateOut, status_code=201)
async def create_template(body: TemplateCreate, exports: ExportBackend) -> TemplateOut:
    answer = await exports.call(exports.stub.CreateExportTemplate, pb.CreateExportTemplateRequest(
        template_id=body.template_id, template=pb.ExportTemplate(fields=body.fields,
                                                                 filter=_filter_message(body.filter))),
        fields=_template_fields)
    return _template_out(answer)


@router.get("/v1/exports/templates", dependencies=_ROLES, response_model=list[TemplateOut])
async def list_templates(exports: ExportBackend) -> list[TemplateOut]:
    answer = await exports.call(exports.stub.ListExportTemplates, pb.ListExportTemplatesRequest())
    return [_template_out(t) for t in answer.templates]


@router.get("/v1/exports/templates/{template_id}", dependencies=_ROLES, response_model=TemplateOut)
async def get_template(template_id: str, exports: ExportBackend) -> TemplateOut:
    answer = await exports.call(exports.stub.GetExportTemplate,
                                pb.GetExportTemplateRequest(name=f"exportTemplates/{template_id}"))
    return _template_out(answer)


@router.put("/v1/exports/templates/{template_id}", dependencies=_ROLES, response_model=TemplateOut)
async def update_template(template_id: str, body: TemplateIn, exports: ExportBackend) -> TemplateOut:
    answer = await exports.call(exports.stub.UpdateExportTemplate, pb.UpdateExportTemplateRequest(
        template=pb.ExportTemplate(name=f"exportTemplates/{template_id}", fields=body.fields,
                                   filter=_filter_message(body.filter))), fields=_template_fields)
    return _template_out(answer)


@router.delete("/v1/exports/templates/{template_id}", dependencies=_ROLES, status_code=204)
async def delete_template(template_id: str, exports: ExportBackend) -> Response:
    await exports.call(exports.stub.DeleteExportTemplate,
                       pb.DeleteExportTemplateRequest(name=f"exportTemplates/{template_id}"))
    return Response(status_code=204)
