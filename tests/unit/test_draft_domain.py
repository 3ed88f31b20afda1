"""Drafts: remaining steps, field validation, the submit refusal, reviews (pure)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from kernel.errors import InvalidArgument
from participant_service.domain.documents import DocumentKind
from participant_service.domain.drafts import (
    REQUIRED_STEPS,
    DraftDocument,
    clean_fields,
    editable_paths,
    incomplete,
    remaining_steps,
)
from participant_service.domain.participants import (
    Participant,
    ParticipantKind,
    VerificationStatus,
    reviewed_participant,
)

NOW = datetime(2026, 11, 22, tzinfo=UTC)


def _document(kind: DocumentKind) -> DraftDocument:
    return DraftDocument(id="d", kind=kind, content_type="image/png", size_bytes=1, sha256="0", filename=None,
                         uploaded_at=NOW)


def test_required_steps_are_fixed_and_ordered():
    assert REQUIRED_STEPS == ("first_name", "last_name", "phone", "document:passport")
    assert remaining_steps({}, ()) == REQUIRED_STEPS


def test_entered_fields_and_uploaded_documents_are_not_remaining():
    assert remaining_steps({"phone": "+79160000000", "comment": "x"}, [_document(DocumentKind.SELFIE)]) == (
        "first_name", "last_name", "document:passport")
    assert remaining_steps({"first_name": "Анна", "last_name": "Ли", "phone": "+79160000000"},
                           [_document(DocumentKind.PASSPORT)]) == ()
    assert remaining_steps({"first_name": ""}, ()) == REQUIRED_STEPS


def test_clean_fields_uses_the_participant_rules_and_names_each_field():
    assert clean_fields({"first_name": "  Анна  Мария ", "phone": "8 (916) 123-45-67", "messenger_username": "@ann",
                         "kind": "volunteer", "language": "en-GB", "comment": ""}) == {
        "first_name": "Анна Мария", "phone": "+79161234567", "messenger_username": "ann", "kind": "volunteer",
        "language": "en-GB", "comment": None}
    with pytest.raises(InvalidArgument) as refused:
        clean_fields({"first_name": "A1", "last_name": "Я", "phone": "555", "kind": "boss", "language": "русский",
                      "comment": "x" * 1001})
    assert sorted(v.field for v in refused.value.violations) == [
        "comment", "first_name", "kind", "language", "last_name", "phone"]


def test_only_editable_paths():
    assert editable_paths(["phone", "phone", "language"]) == ("phone", "language")
    for paths in ([], ["card_number"], ["phone", "documents"]):
        with pytest.raises(InvalidArgument) as refused:
            editable_paths(paths)
        assert [v.field for v in refused.value.violations] == ["update_mask"]


def test_incomplete_names_fields_and_documents():
    assert incomplete(()) is None
    refusal = incomplete(("last_name", "document:passport"))
    assert [(v.field, "passport" in v.description) for v in refusal.violations] == [
        ("last_name", False), ("documents", True)]


def test_review():
    participant = Participant(id="p", card_number="1", first_name="Анна", last_name="Ли",
                              kind=ParticipantKind.VISITOR, created_at=NOW,
                              verification_status=VerificationStatus.PENDING_REVIEW)
    rejected, changed = reviewed_participant(participant, VerificationStatus.REJECTED, " blurry ")
    assert (rejected.verification_status, rejected.verification_reason) == (VerificationStatus.REJECTED, "blurry")
    assert changed == ("verification_status", "verification_reason")
    assert reviewed_participant(rejected, VerificationStatus.REJECTED, "blurry")[1] == ()
    approved, changed = reviewed_participant(rejected, VerificationStatus.APPROVED, "")
    assert (approved.verification_reason, changed) == (None, ("verification_status", "verification_reason"))
    for status, reason in ((VerificationStatus.APPROVED, "why"), (VerificationStatus.REJECTED, "x" * 1001),
                           (VerificationStatus.REJECTED, "a\x00b")):
        with pytest.raises(InvalidArgument) as refused:
            reviewed_participant(participant, status, reason)
        assert [v.field for v in refused.value.violations] == ["reason"]
