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
    Profile,
    clean_name,
    new_participant,
    normalize_phone,
    phone_query_prefix,
    query_key,
    updated_participant,
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


# --- participant profile: phone, comment, messenger ------------------------------------------


def with_profile(**fields):
    return new_participant(participant_id="p-1", card_number="100001", first_name="Анна", last_name="Иванова",
                           kind=ParticipantKind.VISITOR, now=NOW, profile=Profile(**fields), created_by="admin-1")


@pytest.mark.parametrize("raw", [
    "+7 (916) 123-45-67", "+7(916)123-45-67", "89161234567", "8 916 123 45 67", "8 (916) 123-45-67",
    "+79161234567", "79161234567", "7 916 123 45 67", "7-916-123-45-67", "  +7 916 1234567  ",
])
def test_russian_phone_formats_are_stored_in_e164(raw):
    assert normalize_phone(raw) == "+79161234567"
    assert with_profile(phone=raw).phone == "+79161234567"


@pytest.mark.parametrize("raw", [
    "9161234567", "+8 916 123 45 67", "+1 202 555 0143", "8916123456", "891612345678", "+7 916 123 45 6x",
    "+7.916.123.45.67", "++79161234567", "7+9161234567", "phone", "+44 20 7946 0958", "８９１６１２３４５６７", "8９１６１２３４５６７",
])
def test_other_phones_are_refused_naming_the_field(raw):
    assert normalize_phone(raw) is None
    assert refused_fields(with_profile, phone=raw) == ["phone"]


def test_profile_fields_are_optional_and_cleaned():
    bare = with_profile()
    assert (bare.phone, bare.comment, bare.messenger_id, bare.messenger_username) == (None, None, None, None)
    assert bare.created_by == "admin-1"
    full = with_profile(phone="", comment="  любит первый ряд ", messenger_id=" 12345 ", messenger_username="@anna_i")
    assert (full.phone, full.comment, full.messenger_id, full.messenger_username) == (
        None, "любит первый ряд", "12345", "anna_i")


def test_profile_limits_name_each_field():
    assert refused_fields(with_profile, comment="к" * 1001, messenger_id="1" * 101,
                          messenger_username="u" * 101) == ["comment", "messenger_id", "messenger_username"]
    assert with_profile(comment="к" * 1000, messenger_id="1" * 100, messenger_username="@" + "u" * 100).comment
    assert refused_fields(with_profile, messenger_username="anna ivanova") == ["messenger_username"]
    assert refused_fields(with_profile, comment="a\x00b") == ["comment"]


@pytest.mark.parametrize(("query", "prefix"), [
    ("8 916", "+7916"), ("+7 (916", "+7916"), ("7916", "+7916"), ("89161234567", "+79161234567"),
    ("+7 916 123-45", "+791612345"), ("8", None), ("+7", None), ("100001", None), ("916", None),
    ("Иван", None), ("8 916 123 45 67 8", None),
])
def test_phone_query_prefix(query, prefix):
    assert phone_query_prefix(query_key(query)) == prefix


def test_update_replaces_only_the_masked_fields_and_reports_what_changed():
    before = with_profile(phone="89161234567", comment="старый")
    after, changed = updated_participant(
        before, frozenset({"phone", "comment", "last_name"}), first_name="", last_name="Иванова",
        kind=ParticipantKind.VOLUNTEER, profile=Profile(phone="+7 (926) 000-00-00", comment=""))
    assert changed == ("comment", "phone")
    assert (after.phone, after.comment, after.first_name, after.kind) == (
        "+79260000000", None, "Анна", ParticipantKind.VISITOR)
    assert after.version == before.version
    assert refused_fields(updated_participant, before, frozenset({"first_name", "phone"}), first_name="Я",
                          last_name="", kind=ParticipantKind.VISITOR, profile=Profile(phone="123")) == [
        "first_name", "phone"]
