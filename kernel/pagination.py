"""AIP-158 pagination: page_size rules and opaque keyset page tokens."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from kernel.errors import InvalidArgument

T = TypeVar("T")

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000


def page_size(requested: int) -> int:
    if requested < 0:
        raise InvalidArgument.single("page_size", "must not be negative")
    if requested == 0:
        return DEFAULT_PAGE_SIZE
    return min(requested, MAX_PAGE_SIZE)


def encode_token(position: list[Any]) -> str:
    raw = json.dumps(position, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str) -> list[Any] | None:
    """The keyset position after which the next page starts; None for the first page."""
    if not token:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        position = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise InvalidArgument.single("page_token", "is not a token this service issued") from None
    if not isinstance(position, list):
        raise InvalidArgument.single("page_token", "is not a token this service issued")
    return position


def keyset_after(token: str, width: int = 2) -> tuple[str, ...] | None:
    """The keyset position a page token encodes, checked to have `width` parts."""
    position = decode_token(token)
    if position is None:
        return None
    after = tuple(str(part) for part in position)
    # PostgreSQL text cannot hold NUL: such a part would fail the query instead of the token.
    if len(after) != width or any("\x00" in part for part in after):
        raise InvalidArgument.single("page_token", "is not a token this service issued")
    return after


def page_of(rows: list[T], limit: int, position_of: Callable[[T], list[Any]]) -> tuple[list[T], str]:
    """Cuts `limit + 1` fetched rows to a page and the token of the next one ("" when last)."""
    page = rows[:limit]
    token = encode_token(position_of(page[-1])) if len(rows) > limit else ""
    return page, token


def position_moment(part: str) -> datetime:
    """A timestamp part of a keyset position (written with `datetime.isoformat()`), checked:
    the database compares it as a timestamp, so a forged one must be refused here."""
    try:
        moment = datetime.fromisoformat(part)
        if moment.tzinfo is not None:
            return moment.astimezone(UTC)  # may overflow at the ends of the calendar
    except (ValueError, OverflowError):
        pass
    raise InvalidArgument.single("page_token", "is not a token this service issued")
