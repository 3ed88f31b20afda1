"""Route modules, one per REST resource, and what they share.

A route translates the REST request into one backend request, makes one call through a
`gateway.backends.BackendClient`, and translates the answer; errors need no handling there.
A new resource is a new module here with an `APIRouter(prefix="/v1/<resource>")`, listed
in `gateway.app.V1_ROUTERS`, which adds authentication to all of them.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Header, Query
from google.protobuf.timestamp_pb2 import Timestamp

# Only what the wire types need (int32, sane sizes); the services own the business rules
# (default and maximum page size, token validity, key format) and say so as 400s.
PageSize = Annotated[
    int,
    Query(ge=-(2**31), le=2**31 - 1, description="Items per page; 0 or absent for the default."),
]
PageToken = Annotated[
    str,
    Query(max_length=2048, description="`next_page_token` of the previous page; absent for the first."),
]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=128,
        description="A UUID chosen by the client; retrying with it returns the first outcome.",
    ),
]


def idempotency_request_id(key: str | None) -> str:
    # AIP-155 wants a request id on every create; without a client key a retried POST
    # cannot be recognised, which is the client's choice to make.
    return key if key else str(uuid.uuid4())


def resource_name(collection: str, resource_id: str) -> str:
    return f"{collection}/{resource_id}"


def resource_id(name: str, collection: str) -> str:
    """`venues/abc` -> `abc`: REST speaks ids, gRPC speaks AIP-122 resource names."""
    prefix = collection + "/"
    if not name.startswith(prefix):
        return name
    return name.removeprefix(prefix).split("/", 1)[0]


def to_datetime(ts: Timestamp) -> datetime | None:
    # proto3 cannot tell an unset Timestamp from the epoch; no Turnout resource dates from 1970.
    if not ts.seconds and not ts.nanos:
        return None
    return ts.ToDatetime(tzinfo=UTC)


def enum_to_rest(enum_type: Any, value: int) -> str:
    """`EVENT_KIND_ONE_OFF` -> `one_off`: REST speaks the value without the enum's prefix."""
    try:
        name = enum_type.Name(value)
    except ValueError:  # a value newer than this gateway's generated code
        return "unspecified"
    return name.removeprefix(_enum_prefix(enum_type)).lower()


def enum_from_rest(enum_type: Any, value: str) -> int:
    return enum_type.Value(_enum_prefix(enum_type) + value.upper())


def _enum_prefix(enum_type: Any) -> str:
    # buf's ENUM_VALUE_PREFIX: every value starts with the enum name in UPPER_SNAKE.
    return enum_type.DESCRIPTOR.values[0].name.removesuffix("UNSPECIFIED")


def from_datetime(value: datetime | None) -> Timestamp | None:
    if value is None:
        return None
    ts = Timestamp()
    ts.FromDatetime(value if value.tzinfo else value.replace(tzinfo=UTC))
    return ts
