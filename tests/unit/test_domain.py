"""The pure domain rules of venues and participants: no I/O, no framework."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from event_service.domain.venues import MAX_ADDRESS, MAX_DISPLAY_NAME, new_venue
from kernel.errors import InvalidArgument
from participant_service.domain.participants import (
    MAX_NAME,
    ParticipantKind,
    NameKeys,
    clean_name,
    new_participant,
    query_key,
)

NOW = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)


def venue(display_name: str, address: str = ""):
    return new_venue(venue_id="v-1", display_name=display_name, address=address, now=NOW)


def participant(first_name: str, last_name: str = "Иванов", kind: ParticipantKind = ParticipantKind.VISITOR):
    return new_participant(participant_id="p-1", card_number="100001", first_name=first_name,
                           last_name=last_name, kind=kind, now=NOW)


def refused_fields(call, *args, **kwargs) -> list[str]:
    """The field names of every violation the call was refused with, in order."""
    with pytest.raises(InvalidArgument) as refused:
        call(*args, **kwargs)
    assert type(refused.value) is InvalidArgument
    return [v.field for v in refused.value.violations]


# --- venues ---------------------------------------------------------------------------------


def test_new_venue_keeps_its_fields():
    created = venue("Ясная", "ул. Ясная, 1")
    assert (created.id, created.display_name, created.address, created.created_at, created.version) == (
        "v-1", "Ясная", "ул. Ясная, 1", NOW, 1)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [("  Ясная  ", "Ясная"), ("Дом   культуры\t «Ясная»", "Дом культуры «Ясная»"), ("a\n\nb", "a b"),
     ("\u00a0Цветной\u00a0", "Цветной")],
)
def test_venue_name_is_trimmed_and_inner_spaces_collapsed(raw, clean):
    assert venue(raw).display_name == clean


def test_venue_address_is_trimmed():
    assert venue("Ясная", "  ул. Ясная, 1 \n").address == "ул. Ясная, 1"


@pytest.mark.parametrize("name", ["", " ", "\t\n  "])
def test_empty_venue_name_is_required(name):
    with pytest.raises(InvalidArgument) as refused:
        venue(name)
    assert [(v.field, v.description) for v in refused.value.violations] == [("display_name", "is required")]


def test_venue_name_length_limit_counts_characters_after_trimming():
    assert MAX_DISPLAY_NAME == 200
    assert venue("Я" * 200).display_name == "Я" * 200
    assert venue("  " + "Я" * 200 + "  ").display_name == "Я" * 200
    assert refused_fields(venue, "Я" * 201) == ["display_name"]


def test_venue_address_length_limit():
    assert MAX_ADDRESS == 500
    assert venue("Ясная", "а" * 500).address == "а" * 500
    assert venue("Ясная", " " + "а" * 500 + " ").address == "а" * 500
    assert refused_fields(venue, "Ясная", "а" * 501) == ["address"]


def test_every_venue_violation_is_reported_at_once():
    assert refused_fields(venue, "", "а" * 501) == ["display_name", "address"]
    assert refused_fields(venue, "Я" * 201, "а" * 501) == ["display_name", "address"]


@pytest.mark.parametrize(("name", "address", "fields"), [("Яс\x00ная", "", ["display_name"]),
                                                        ("Ясная", "ул.\x00Ясная", ["address"]),
                                                        ("\x00", "\x00", ["display_name", "address"])])
def test_venue_text_with_a_nul_character_is_refused(name, address, fields):
    """PostgreSQL text cannot hold NUL: refusing it here keeps it from failing the insert."""
    assert refused_fields(venue, name, address) == fields


def test_venue_name_key_ignores_case_including_cyrillic():
    assert venue("ЯСНАЯ").name_key == venue("ясная").name_key == "ясная"
    assert venue("  Дом   Культуры ").name_key == venue("дом культуры").name_key
    assert venue("Ясная").name_key != venue("Ясная 2").name_key
    # casefold, not lower: "ß" and "SS" are the same key.
    assert venue("Straße").name_key == venue("STRASSE").name_key


# --- participants ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["Ян", "Иван", "Ёлка", "John", "Anna-Maria", "Салтыков-Щедрин", "O'Neil", "д'Артаньян",
     "Мария Луиза", "Jean Luc", "Ab", "Я" * MAX_NAME],
)
def test_valid_names_are_accepted(name):
    created = participant(name, name)
    assert (created.first_name, created.last_name) == (name, name)


def test_new_participant_keeps_its_fields():
    created = participant("Анна", "Петрова", ParticipantKind.VOLUNTEER)
    assert (created.id, created.card_number, created.first_name, created.last_name, created.kind,
            created.created_at, created.version) == (
        "p-1", "100001", "Анна", "Петрова", ParticipantKind.VOLUNTEER, NOW, 1)


@pytest.mark.parametrize(("raw", "clean"), [("  Анна ", "Анна"), ("Мария    Луиза", "Мария Луиза"),
                                             ("\tJean\nLuc ", "Jean Luc")])
def test_names_are_trimmed_and_inner_spaces_collapsed(raw, clean):
    assert participant(raw).first_name == clean


@pytest.mark.parametrize(
    "name",
    ["", " ", "Я", " Я ", "Я" * (MAX_NAME + 1), "Иван2", "R2D2", "1", "Анна😀", "😀😀", "Anna--Maria", "-Anna",
     "Anna-", "'Anna", "Anna'", "Anna - Maria", "Анна.", "Anna_Maria", "Анна,Мария"],
)
def test_invalid_names_are_refused(name):
    assert refused_fields(participant, name, "Иванов") == ["first_name"]
    assert refused_fields(participant, "Иван", name) == ["last_name"]


def test_name_length_is_counted_after_trimming():
    assert refused_fields(participant, "  Я  ") == ["first_name"]
    assert participant("  " + "Я" * MAX_NAME + "  ").first_name == "Я" * MAX_NAME


def test_both_bad_names_are_reported_together():
    with pytest.raises(InvalidArgument) as refused:
        participant("1", "Петров-")
    violations = {v.field: v.description for v in refused.value.violations}
    assert list(violations) == ["first_name", "last_name"]
    assert "2" in violations["first_name"]
    assert "letters" in violations["last_name"]


# A name as the rules describe it: words of Cyrillic or Latin letters joined by one separator.
_letters = st.text(alphabet="ABCXYZabcxyzАБВЭЮЯабвэюяЁё", min_size=1, max_size=12)
_valid_names = st.builds(
    lambda first, rest: first + "".join(sep + word for sep, word in rest),
    _letters, st.lists(st.tuples(st.sampled_from([" ", "-", "'"]), _letters), max_size=4),
).filter(lambda name: 2 <= len(name) <= MAX_NAME)


@given(name=_valid_names, padding=st.sampled_from(["", " ", "  ", "\t", "\n "]))
def test_rule_shaped_names_are_accepted_whatever_the_padding(name, padding):
    assert participant(padding + name + padding).first_name == name


# Names as people type them: words joined by good and bad separators, with stray padding, so
# that a good share is accepted and the property below is not vacuous; plus arbitrary text.
_messy_names = st.builds(
    lambda pad, first, rest, tail: pad + first + "".join(sep + word for sep, word in rest) + tail,
    st.sampled_from(["", " ", "\t", "\u00a0"]),
    _letters,
    st.lists(st.tuples(st.sampled_from([" ", "  ", "\n", "-", "'", "--", "1", "😀", "-'"]), _letters), max_size=3),
    st.sampled_from(["", " ", "\n", "-", "7"]),
)
_name_like = st.one_of(_messy_names, st.text(max_size=120))


@given(name=_name_like)
def test_an_accepted_name_is_already_clean(name):
    """Cleaning is idempotent: whatever was accepted, cleaned again, is unchanged and accepted again."""
    try:
        created = participant(name, name)
    except InvalidArgument:
        return
    assert clean_name(created.first_name) == created.first_name == created.last_name
    assert participant(created.first_name, created.last_name).first_name == created.first_name


@given(before=st.text(max_size=50), digit=st.characters(categories=["Nd"]), after=st.text(max_size=50))
def test_a_name_with_any_digit_is_refused(before, digit, after):
    name = before + digit + after
    assert refused_fields(participant, name, "Иванов") == ["first_name"]
    assert refused_fields(participant, "Иван", name) == ["last_name"]


@given(before=_valid_names, digit=st.sampled_from("0123456789"), after=_valid_names)
def test_a_digit_inside_an_otherwise_valid_name_is_refused(before, digit, after):
    assert refused_fields(participant, before + digit + after, "Иванов") == ["first_name"]


# --- participant search keys ------------------------------------------------------------------


def test_name_keys_are_casefolded_cleaned_names():
    created = participant("  АННА  Мария ", "Иванова-ПЕТРОВА")
    assert created.name_keys == NameKeys(first="анна мария", last="иванова-петрова",
                                         full="анна мария иванова-петрова")


def test_name_keys_casefold_cyrillic_and_yo():
    assert participant("ЁЖИК", "ЯКОВЛЕВ").name_keys == participant("ёжик", "яковлев").name_keys


@given(st.from_regex(r"[A-Za-zА-Яа-яЁё]{2,20}", fullmatch=True),
       st.from_regex(r"[A-Za-zА-Яа-яЁё]{2,20}", fullmatch=True))
def test_name_keys_ignore_case(first, last):
    keys = participant(first, last).name_keys
    assert keys == participant(first.swapcase(), last.upper()).name_keys
    assert keys.full == f"{keys.first} {keys.last}"
    assert keys.full.startswith(query_key(f"{first.upper()} {last[:1]}"))


@pytest.mark.parametrize(("query", "key"), [
    ("Иван", "иван"), ("  Анна\t\tИв", "анна ив"), ("АННА ", "анна "), ("   ", ""), ("STRAßE", "strasse"),
    ("100_%\\", "100_%\\"),
])
def test_query_key_collapses_spaces_keeps_a_trailing_one_and_casefolds(query, key):
    assert query_key(query) == key
