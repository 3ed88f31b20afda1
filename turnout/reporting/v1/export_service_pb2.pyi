import datetime

from google.protobuf import empty_pb2 as _empty_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ExportFormat(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EXPORT_FORMAT_UNSPECIFIED: _ClassVar[ExportFormat]
    EXPORT_FORMAT_CSV: _ClassVar[ExportFormat]
    EXPORT_FORMAT_XLSX: _ClassVar[ExportFormat]
    EXPORT_FORMAT_HTML: _ClassVar[ExportFormat]
EXPORT_FORMAT_UNSPECIFIED: ExportFormat
EXPORT_FORMAT_CSV: ExportFormat
EXPORT_FORMAT_XLSX: ExportFormat
EXPORT_FORMAT_HTML: ExportFormat

class RegistrationFilter(_message.Message):
    __slots__ = ("service_id", "venue_id", "attendance", "event_from", "event_to", "registered_from", "registered_to", "states")
    SERVICE_ID_FIELD_NUMBER: _ClassVar[int]
    VENUE_ID_FIELD_NUMBER: _ClassVar[int]
    ATTENDANCE_FIELD_NUMBER: _ClassVar[int]
    EVENT_FROM_FIELD_NUMBER: _ClassVar[int]
    EVENT_TO_FIELD_NUMBER: _ClassVar[int]
    REGISTERED_FROM_FIELD_NUMBER: _ClassVar[int]
    REGISTERED_TO_FIELD_NUMBER: _ClassVar[int]
    STATES_FIELD_NUMBER: _ClassVar[int]
    service_id: str
    venue_id: str
    attendance: str
    event_from: str
    event_to: str
    registered_from: _timestamp_pb2.Timestamp
    registered_to: _timestamp_pb2.Timestamp
    states: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, service_id: _Optional[str] = ..., venue_id: _Optional[str] = ..., attendance: _Optional[str] = ..., event_from: _Optional[str] = ..., event_to: _Optional[str] = ..., registered_from: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., registered_to: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., states: _Optional[_Iterable[str]] = ...) -> None: ...

class ExportRegistrationsRequest(_message.Message):
    __slots__ = ("format", "fields", "filter", "max_rows", "template")
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    MAX_ROWS_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_FIELD_NUMBER: _ClassVar[int]
    format: ExportFormat
    fields: _containers.RepeatedScalarFieldContainer[str]
    filter: RegistrationFilter
    max_rows: int
    template: str
    def __init__(self, format: _Optional[_Union[ExportFormat, str]] = ..., fields: _Optional[_Iterable[str]] = ..., filter: _Optional[_Union[RegistrationFilter, _Mapping]] = ..., max_rows: _Optional[int] = ..., template: _Optional[str] = ...) -> None: ...

class ExportChunk(_message.Message):
    __slots__ = ("data", "rows", "content_type", "file_name", "estimated_rows")
    DATA_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    FILE_NAME_FIELD_NUMBER: _ClassVar[int]
    ESTIMATED_ROWS_FIELD_NUMBER: _ClassVar[int]
    data: bytes
    rows: int
    content_type: str
    file_name: str
    estimated_rows: int
    def __init__(self, data: _Optional[bytes] = ..., rows: _Optional[int] = ..., content_type: _Optional[str] = ..., file_name: _Optional[str] = ..., estimated_rows: _Optional[int] = ...) -> None: ...

class PreviewRegistrationsRequest(_message.Message):
    __slots__ = ("fields", "filter", "max_rows", "template")
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    MAX_ROWS_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_FIELD_NUMBER: _ClassVar[int]
    fields: _containers.RepeatedScalarFieldContainer[str]
    filter: RegistrationFilter
    max_rows: int
    template: str
    def __init__(self, fields: _Optional[_Iterable[str]] = ..., filter: _Optional[_Union[RegistrationFilter, _Mapping]] = ..., max_rows: _Optional[int] = ..., template: _Optional[str] = ...) -> None: ...

class ExportRow(_message.Message):
    __slots__ = ("values",)
    VALUES_FIELD_NUMBER: _ClassVar[int]
    values: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, values: _Optional[_Iterable[str]] = ...) -> None: ...

class PreviewRegistrationsResponse(_message.Message):
    __slots__ = ("columns", "rows")
    COLUMNS_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    columns: _containers.RepeatedScalarFieldContainer[str]
    rows: _containers.RepeatedCompositeFieldContainer[ExportRow]
    def __init__(self, columns: _Optional[_Iterable[str]] = ..., rows: _Optional[_Iterable[_Union[ExportRow, _Mapping]]] = ...) -> None: ...

class ExportTemplate(_message.Message):
    __slots__ = ("name", "fields", "filter", "update_actor", "update_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    UPDATE_ACTOR_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    fields: _containers.RepeatedScalarFieldContainer[str]
    filter: RegistrationFilter
    update_actor: str
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., fields: _Optional[_Iterable[str]] = ..., filter: _Optional[_Union[RegistrationFilter, _Mapping]] = ..., update_actor: _Optional[str] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CreateExportTemplateRequest(_message.Message):
    __slots__ = ("template_id", "template")
    TEMPLATE_ID_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_FIELD_NUMBER: _ClassVar[int]
    template_id: str
    template: ExportTemplate
    def __init__(self, template_id: _Optional[str] = ..., template: _Optional[_Union[ExportTemplate, _Mapping]] = ...) -> None: ...

class GetExportTemplateRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class ListExportTemplatesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListExportTemplatesResponse(_message.Message):
    __slots__ = ("templates",)
    TEMPLATES_FIELD_NUMBER: _ClassVar[int]
    templates: _containers.RepeatedCompositeFieldContainer[ExportTemplate]
    def __init__(self, templates: _Optional[_Iterable[_Union[ExportTemplate, _Mapping]]] = ...) -> None: ...

class UpdateExportTemplateRequest(_message.Message):
    __slots__ = ("template",)
    TEMPLATE_FIELD_NUMBER: _ClassVar[int]
    template: ExportTemplate
    def __init__(self, template: _Optional[_Union[ExportTemplate, _Mapping]] = ...) -> None: ...

class DeleteExportTemplateRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...
