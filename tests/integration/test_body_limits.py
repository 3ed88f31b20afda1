"""Request body limits at the gateway: 413 problem+json before a large body is buffered, and
flat memory while a client tries to send a gigabyte (JSON route and document upload alike)."""

from __future__ import annotations

import resource

import pytest

pytestmark = pytest.mark.integration

MIB = 1024 * 1024


async def a_gigabyte(prefix: bytes = b""):
    if prefix:
        yield prefix
    chunk = b"x" * MIB
    for _ in range(1024):
        yield chunk


# A well-formed multipart start (a `kind` field, then a file part) whose file never ends.
UPLOAD_START = (b'--xyz\r\nContent-Disposition: form-data; name="kind"\r\n\r\npassport\r\n'
                b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="big.pdf"\r\n'
                b"Content-Type: application/pdf\r\n\r\n%PDF-1.7\n")


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def assert_too_large(answer, code: str) -> None:
    assert answer.status_code == 413, answer.text[:300]
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["code"] == code


async def test_a_declared_body_over_the_limit_is_refused_unread(rest) -> None:
    answer = await rest.post("/v1/participants", content=b"{" + b" " * (2 * MIB) + b"}",
                             headers={"Content-Type": "application/json"})
    assert_too_large(answer, "body_too_large")
    assert answer.json()["errors"] == [{"field": "body", "message": f"must be at most {MIB} bytes"}]
    assert answer.headers.get("x-request-id")


async def test_a_chunked_gigabyte_is_cut_off_with_flat_memory(rest) -> None:
    before = rss_mb()
    answer = await rest.post("/v1/participants", content=a_gigabyte(), headers={"Content-Type": "application/json"})
    assert_too_large(answer, "body_too_large")
    assert rss_mb() - before < 64, "the gateway buffered the body"


async def test_a_gigabyte_upload_is_cut_off_with_flat_memory(rest) -> None:
    draft = await rest.post("/v1/drafts", json={})
    assert draft.status_code == 201, draft.text
    before = rss_mb()
    answer = await rest.post(f"/v1/drafts/{draft.json()['id']}/documents", content=a_gigabyte(UPLOAD_START),
                             headers={"Content-Type": "multipart/form-data; boundary=xyz"})
    assert_too_large(answer, "document_too_large")
    assert rss_mb() - before < 64, "the gateway buffered the upload"


async def test_bodies_within_the_limit_are_served(rest) -> None:
    answer = await rest.post("/v1/participants", json={"first_name": "Анна", "last_name": "Лимитова"})
    assert answer.status_code == 201, answer.text
