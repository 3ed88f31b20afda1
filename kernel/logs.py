"""Structured logging: one JSON object per line, carrying the current request id.

Log lines are written by our code, by libraries and by tracebacks, which quote whatever the
failing value was (asyncpg's "Key (phone)=(+7...) already exists", a header in a repr). So
besides never logging personal data on purpose, every formatted line goes through `redact`:
bearer tokens, JWTs and phone numbers are masked wherever they come from.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time

from kernel import context

# A JWT is three base64url parts, the first always starting with `{"` encoded ("eyJ").
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*")
_BEARER = re.compile(r"(?i)\b(bearer)\s+[^\s\"',;]+")
# Numbers as people type them (+7 916 123-45-67, 8(916)1234567, 79161234567): a country
# code or a leading 7/8, then 10 digits grouped 3-3-2-2 with optional separators. Word
# boundaries keep uuids, hex ids and millisecond timestamps out of it.
_PHONE = re.compile(r"(?<![\w+])(?:\+\d{1,3}|[78])[\s(-]{0,2}\d{3}[\s)-]{0,2}\d{3}[\s-]?\d{2}[\s-]?\d{2}(?![\w])")


def redact(text: str) -> str:
    """`text` with tokens and phone numbers masked."""
    text = _JWT.sub("[token]", text)
    text = _BEARER.sub(r"\1 [token]", text)
    return _PHONE.sub("[phone]", text)


class RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class JsonFormatter(logging.Formatter):
    def __init__(self, component: str = ""):
        super().__init__()
        self.component = component

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "component": self.component,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        request_id = context.current().request_id
        if request_id:
            entry["request_id"] = request_id
        extra = getattr(record, "fields", None)
        if extra:
            entry.update(extra)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return redact(json.dumps(entry, ensure_ascii=False, default=str))


def configure(component: str, level: str = "INFO", fmt: str = "json") -> None:
    """Sets up the root logger once per process; `component` names the process in each line."""
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter(component))
    else:
        handler.setFormatter(RedactingFormatter(f"%(asctime)s {component} %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # kafka-python logs every connection attempt at INFO; that drowns the useful lines.
    logging.getLogger("kafka").setLevel(logging.WARNING)
