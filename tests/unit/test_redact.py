"""kernel.logs.redact: tokens and phone numbers are masked in every formatted log line,
whoever wrote it, and nothing else is."""

from __future__ import annotations

import json
import logging

import pytest

from kernel.auth import issue_token
from kernel.logs import JsonFormatter, RedactingFormatter, redact

TOKEN = issue_token("a-test-secret-of-at-least-thirty-two-bytes", sub="someone", roles=["admin"])


@pytest.mark.parametrize("text", [
    "+79161234567", "79161234567", "89161234567", "+7 916 123-45-67", "8 (916) 123-45-67",
    "+7(916)1234567", "Key (phone)=(+79161234567) already exists.",
])
def test_phones_are_masked(text: str) -> None:
    assert "[phone]" in redact(text)
    assert "4567" not in redact(text)


@pytest.mark.parametrize("text", [
    f"Authorization: Bearer {TOKEN}", f"token={TOKEN}", "authorization: bearer opaque-value-123",
])
def test_tokens_are_masked(text: str) -> None:
    redacted = redact(text)
    assert "[token]" in redacted
    assert TOKEN not in redacted and "opaque-value-123" not in redacted


@pytest.mark.parametrize("text", [
    "8a1b2c3d-1234-4567-89ab-812345678901",  # uuids, even with a phone-shaped tail
    "offset 1763859600000", "took 81.23 ms", "127.0.0.1:50051", "version 7:12:1763859600000",
    "card 100042", "participants/81234567890a",
])
def test_ids_numbers_and_addresses_are_left_alone(text: str) -> None:
    assert redact(text) == text


def _record(msg: str, *args: object, exc: BaseException | None = None) -> logging.LogRecord:
    exc_info = (type(exc), exc, exc.__traceback__) if exc else None
    return logging.LogRecord("test", logging.ERROR, __file__, 1, msg, args, exc_info)


def test_json_lines_mask_messages_arguments_and_tracebacks_and_stay_json() -> None:
    try:
        raise ValueError("duplicate phone +79161234567")
    except ValueError as exc:
        record = _record("header was %s", f"Bearer {TOKEN}", exc=exc)
    line = JsonFormatter("test").format(record)
    entry = json.loads(line)
    assert entry["msg"] == "header was Bearer [token]"
    assert "[phone]" in entry["exc"] and "+79161234567" not in line and TOKEN not in line


def test_text_lines_are_masked_too() -> None:
    line = RedactingFormatter("%(message)s").format(_record("calling %s", "+7 916 123-45-67"))
    assert line == "calling [phone]"
