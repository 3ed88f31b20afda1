"""Per-request context carried in contextvars: who asked, and under which request id.

The gRPC interceptor sets these from metadata; the unit of work stamps them on every outbox
envelope; the log formatter adds the request id to every line.
"""

from __future__ import annotations

import contextvars
import uuid
from dataclasses import dataclass, field

SYSTEM_ACTOR = "system"


@dataclass(frozen=True)
class RequestContext:
    request_id: str = ""
    actor: str = SYSTEM_ACTOR
    roles: frozenset[str] = field(default_factory=frozenset)
    participant_id: str = ""


_current: contextvars.ContextVar[RequestContext] = contextvars.ContextVar(
    "turnout_request_context", default=RequestContext()
)


def current() -> RequestContext:
    return _current.get()


def bind(ctx: RequestContext) -> contextvars.Token[RequestContext]:
    return _current.set(ctx)


def reset(token: contextvars.Token[RequestContext]) -> None:
    _current.reset(token)


def new_request_id() -> str:
    return str(uuid.uuid4())
