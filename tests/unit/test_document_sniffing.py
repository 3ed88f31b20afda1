"""Documents: content types from magic bytes, display file names (pure)."""

from __future__ import annotations

import pytest

from participant_service.domain.documents import SNIFF_BYTES, display_filename, sniff_content_type


@pytest.mark.parametrize(("head", "expected"), [
    (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01", "image/jpeg"),
    (b"\xff\xd8\xff\xdb" + b"\x00" * 8, "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\r", "image/png"),
    (b"RIFF\x10\x00\x00\x00WEBP", "image/webp"),
    (b"%PDF-1.4\n%\xe2\xe3", "application/pdf"),
    (b"%PDF-", "application/pdf"),
])
def test_accepted_types(head, expected):
    assert sniff_content_type(head[:SNIFF_BYTES]) == expected


@pytest.mark.parametrize("head", [
    b"", b"\xff\xd8", b"\x89PNG\r\n", b"RIFF\x10\x00\x00\x00WAVE", b"RIFF\x10\x00\x00\x00WEB",
    b"GIF89a\x01\x00", b"MZ\x90\x00\x03\x00", b"PK\x03\x04", b"<svg xmlns=", b"%!PS-Adobe", b"\x00\x00\x00\x0cjP  ",
    b" %PDF-1.4",  # not at the start
])
def test_everything_else_is_refused(head):
    assert sniff_content_type(head) is None


@pytest.mark.parametrize(("raw", "shown"), [
    ("passport.jpg", "passport.jpg"),
    ("../../etc/passwd", "passwd"),
    ("C:\\Users\\me\\scan.pdf", "scan.pdf"),
    ("a\x00b\nc.png", "abc.png"),
    ("..", None), ("", None), ("dir/", None), ("  ", None),
    ("я" * 300 + ".jpg", "я" * 255),
])
def test_display_filename_is_never_a_path(raw, shown):
    assert display_filename(raw) == shown
