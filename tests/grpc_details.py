"""Reading the google.rpc details of a failed gRPC call (ErrorInfo and BadRequest).

A plain module: `tests/` is on sys.path because pytest imports `tests/conftest.py` in its
default `prepend` mode, so test modules import it as `from grpc_details import details`.
"""

from __future__ import annotations

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status


def details(error: grpc.aio.AioRpcError) -> tuple[str, dict[str, str]]:
    """(ErrorInfo.reason, {field: description}) of a failed call."""
    status = rpc_status.from_call(error)
    reason, fields = "", {}
    if status is None:
        return reason, fields
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            reason = info.reason
        elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            fields = {v.field: v.description for v in bad.field_violations}
    return reason, fields


def error_info(error: grpc.aio.AioRpcError) -> error_details_pb2.ErrorInfo | None:
    """The whole ErrorInfo of a failed call (reason, domain and metadata), if it has one."""
    status = rpc_status.from_call(error)
    for detail in status.details if status is not None else ():
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            return info
    return None
