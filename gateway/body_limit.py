"""Refuses request bodies larger than `max_body_bytes` with 413 before they are buffered.

FastAPI reads a JSON body whole into memory, so without a cap one request could hold a
gigabyte. A declared Content-Length over the cap is refused before reading anything; a
chunked body is counted as it arrives and refused as soon as it passes the cap. Document
uploads stream to participant-service and enforce their own, larger cap (`routes/drafts.py`).
"""

from __future__ import annotations

import re

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway import problems

# Routes that stream their body and cap it themselves.
_STREAMED = re.compile(r"^/v1/drafts/[^/]+/documents$")


def _too_large(limit: int) -> problems.Problem:
    return problems.Problem(413, "body_too_large", f"the request body is larger than {limit} bytes",
                            errors=[problems.FieldError("body", f"must be at most {limit} bytes")])


class _TooLarge(HTTPException):
    """Raised while the body is read. An HTTPException because FastAPI's body parsing turns any
    other exception into a 400; `problems` renders its `problem`."""

    def __init__(self, limit: int):
        self.problem = _too_large(limit)
        super().__init__(413, self.problem.detail)


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _STREAMED.match(scope["path"]):
            await self.app(scope, receive, send)
            return
        for key, value in scope["headers"]:
            if key == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                await self._refuse(scope, receive, send)
                return
        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _TooLarge(self.max_bytes)
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except _TooLarge:
            if started:
                raise
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problems.render(_too_large(self.max_bytes), request_id=scope.get("state", {}).get("request_id"),
                                   instance=scope["path"])
        await response(scope, receive, send)
