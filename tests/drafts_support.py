"""Helpers shared by the draft tests (gRPC and REST): small files of each accepted type and
a streamed gRPC upload. A plain module, imported as `from drafts_support import ...`."""

from __future__ import annotations

import uuid

from turnout.participant.v1 import draft_pb2, participant_service_pb2

Req = participant_service_pb2.UploadDraftDocumentRequest

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x01" * 2000
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x02" * 2000
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x03" * 2000
PDF = b"%PDF-1.7\n" + b"\x04" * 2000
PASSPORT = draft_pb2.DOCUMENT_KIND_PASSPORT
SELFIE = draft_pb2.DOCUMENT_KIND_SELFIE

ADMIN = (("x-turnout-roles", "admin"), ("x-turnout-actor", "test-admin"))
VOLUNTEER = (("x-turnout-roles", "volunteer"), ("x-turnout-actor", "test-volunteer"))


def letters(unique: str) -> str:
    """A unique suffix a name may carry: letters only (names refuse digits)."""
    return unique.translate(str.maketrans("0123456789", "ghijklmnop"))


def upload_messages(draft: str, kind: int, content: bytes, *, chunk: int = 64 * 1024, filename: str = "scan.jpg"):
    """The request stream of an upload: metadata, then the content in chunks."""
    async def messages():
        yield Req(metadata=Req.Metadata(draft=draft, kind=kind, filename=filename))
        for start in range(0, len(content), chunk):
            yield Req(chunk=content[start:start + chunk])
    return messages()


async def upload(stub, draft: str, kind: int = PASSPORT, content: bytes = JPEG, **kwargs):
    return await stub.UploadDraftDocument(upload_messages(draft, kind, content, **kwargs))


async def complete_draft(stub, tag: str, *, documents: tuple[tuple[int, bytes], ...] = ((PASSPORT, JPEG),)):
    """A draft with every required step done: names, phone and a passport."""
    draft = await stub.CreateDraft(participant_service_pb2.CreateDraftRequest(draft=draft_pb2.Draft(
        first_name="Мария", last_name=f"Черновик-{tag}", phone="8 916 123-45-67", language="ru")))
    for kind, content in documents:
        await upload(stub, draft.name, kind, content)
    return await stub.GetDraft(participant_service_pb2.GetDraftRequest(name=draft.name))


def request_id() -> str:
    return str(uuid.uuid4())
