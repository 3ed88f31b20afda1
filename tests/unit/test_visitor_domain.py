"""The pure rules of the visitor sign-in: normalising the claim, matching, digests."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kernel.errors import InvalidArgument
from participant_service.domain.visitors import (
    Candidate,
    IdentifierKind,
    claim,
    identifier_digest,
    identifier_key,
    last_name_key,
    match,
)


def test_last_names_compare_without_case_spaces_or_yo() -> None:
    assert last_name_key("  ЁЖИКОВА  ") == last_name_key("ежикова") == "ежикова"
    assert last_name_key("Мамин  Сибиряк") == "мамин сибиряк"


def test_a_claim_normalises_the_card_and_the_phone() -> None:
    assert claim(last_name="Иванов", card_number=" 100 001 ", phone=None).identifier == "100001"
    by_phone = claim(last_name="Иванов", card_number=None, phone="8 (916) 123-45-67")
    assert (by_phone.kind, by_phone.identifier) == (IdentifierKind.PHONE, "+79161234567")


@pytest.mark.parametrize(("fields", "field"), [
    ({"last_name": " ", "card_number": "1", "phone": None}, "last_name"),
    ({"last_name": "Иванов", "card_number": None, "phone": None}, "identifier"),
    ({"last_name": "Иванов", "card_number": "1", "phone": "+79161234567"}, "identifier"),
    ({"last_name": "Иванов", "card_number": None, "phone": "916"}, "phone"),
])
def test_malformed_claims_name_the_field(fields, field) -> None:
    with pytest.raises(InvalidArgument) as caught:
        claim(**fields)
    assert field in {v.field for v in caught.value.violations}


def test_exactly_one_matching_candidate_signs_in() -> None:
    visitor = claim(last_name="ёлкин", card_number=None, phone="+79161234567")
    assert match(visitor, [Candidate("a", "Елкин")]) == "a"
    assert match(visitor, [Candidate("a", "Палкин"), Candidate("b", "Ёлкин")]) == "b"
    assert match(visitor, [Candidate("a", "Ёлкин"), Candidate("b", "ЕЛКИН")]) is None
    assert match(visitor, [Candidate("a", "Палкин")]) is None
    assert match(visitor, []) is None


@given(st.text(min_size=1, max_size=100).filter(lambda t: "\x00" not in t and last_name_key(t)),
       st.text(max_size=100))
def test_a_name_matches_itself_and_only_what_compares_equal(typed: str, stored: str) -> None:
    visitor = claim(last_name=typed, card_number="1", phone=None)
    assert match(visitor, [Candidate("x", typed)]) == "x"
    expected = "x" if last_name_key(stored) == last_name_key(typed) else None
    assert match(visitor, [Candidate("x", stored)]) == expected


def test_digests_are_keyed_and_stable() -> None:
    first = identifier_digest(b"k1", IdentifierKind.CARD_NUMBER, "100001")
    assert first == identifier_digest(b"k1", IdentifierKind.CARD_NUMBER, "100001")
    assert first != identifier_digest(b"k2", IdentifierKind.CARD_NUMBER, "100001")
    assert first != identifier_digest(b"k1", IdentifierKind.PHONE, "100001")
    assert "100001" not in first


def test_identifier_key_is_one_per_number_however_written() -> None:
    forms = ["+79161234567", "89161234567", "+7 (916) 123-45-67", "7 916 123 45 67"]
    assert {identifier_key(card_number=None, phone=f) for f in forms} == {"phone:+79161234567"}
    assert identifier_key(card_number=" 100001 ", phone=None) == "card_number:100001"
    assert identifier_key(card_number=None, phone="garbage") is None
    assert identifier_key(card_number="1", phone="+79161234567") is None
