"""Documents uploaded during a staged sign-up: what they are and what their content is.

Pure: the content type is judged from the first bytes (magic numbers), never from the name
or a type the client claims.
"""

from __future__ import annotations

import unicodedata
from enum import Enum

from kernel.errors import FailedPrecondition, FieldViolation, InvalidArgument

# Enough leading bytes to tell every accepted type apart ("RIFF" size "WEBP" is the longest).
SNIFF_BYTES = 12
MAX_FILENAME = 255
ACCEPTED_TYPES = ("image/jpeg", "image/png", "image/webp", "application/pdf")


class DocumentKind(Enum):
    PASSPORT = "passport"
    SELFIE = "selfie"
    OTHER = "other"


def sniff_content_type(head: bytes) -> str | None:
    """The content type of a file starting with `head` (at least SNIFF_BYTES of it when the
    file is that long), or None when it is none of the accepted types."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    return None


def display_filename(raw: str) -> str | None:
    """The client's file name reduced to something safe to show: its last path component,
    without control characters, at most MAX_FILENAME characters; None when nothing is left.
    It is only ever displayed, never used to build a path."""
    name = raw.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip()
    if name in ("", ".", ".."):
        return None
    return name[:MAX_FILENAME]


class DocumentTooLarge(InvalidArgument):
    reason = "DOCUMENT_TOO_LARGE"

    def __init__(self, field: str, limit: int):
        super().__init__([FieldViolation(field, f"is larger than {limit} bytes, the limit for a document")])
        self.metadata = {"max_bytes": str(limit)}


class UnsupportedDocumentType(InvalidArgument):
    reason = "UNSUPPORTED_DOCUMENT_TYPE"

    def __init__(self, field: str, detail: str = "is not a JPEG, PNG, WEBP or PDF file"):
        super().__init__([FieldViolation(field, detail)])


class DocumentStorageUnavailable(FailedPrecondition):
    """The document directory cannot be written: nothing was created, the draft is kept."""

    reason = "DOCUMENT_STORAGE_UNAVAILABLE"

    def __init__(self) -> None:
        super().__init__("document storage is not writable; nothing was saved and the draft is kept: retry later")
