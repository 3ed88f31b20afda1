"""AIP resource names and protobuf value helpers shared by the servicers."""

from __future__ import annotations

from datetime import datetime

from google.protobuf import timestamp_pb2

from kernel.errors import InvalidArgument


def resource_id(name: str, collection: str, *, field: str = "name") -> str:
    """The id in "{collection}/{id}"; a malformed name is the caller's mistake."""
    prefix, _, identifier = name.partition("/")
    if prefix != collection or not identifier or "/" in identifier:
        raise InvalidArgument.single(field, f"must look like {collection}/{{id}}, got {name!r}")
    if "\x00" in identifier:
        # PostgreSQL text cannot hold NUL: the lookup would fail the query instead of the request.
        raise InvalidArgument.single(field, "must not contain NUL characters")
    return identifier


def to_timestamp(value: datetime) -> timestamp_pb2.Timestamp:
    ts = timestamp_pb2.Timestamp()
    ts.FromDatetime(value)
    return ts
