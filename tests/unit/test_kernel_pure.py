"""The pure parts of the shared kernel: pagination, errors and their gRPC mapping,
idempotency fingerprints and resource names."""

from __future__ import annotations

import base64
import json

import grpc
import pytest
from google.rpc import code_pb2, error_details_pb2

from kernel import pagination
from kernel.errors import (
    AlreadyExists,
    DomainError,
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
    NotFound,
    Unavailable,
    Validator,
    fields_under,
    with_field_prefix,
)
from kernel.grpc_errors import ERROR_DOMAIN, internal_status, status_trailer, to_rpc_status
from kernel.idempotency import RequestIdReused, fingerprint
from kernel.resources import resource_id
from turnout.event.v1 import event_service_pb2, venue_pb2


def violations(error: InvalidArgument) -> list[tuple[str, str]]:
    return [(v.field, v.description) for v in error.violations]


def _token(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


# --- pagination -----------------------------------------------------------------------------


@pytest.mark.parametrize(("requested", "used"), [(0, 50), (1, 1), (50, 50), (999, 999), (1000, 1000),
                                                 (1001, 1000), (2**31 - 1, 1000)])
def test_page_size(requested, used):
    assert pagination.page_size(requested) == used


@pytest.mark.parametrize("requested", [-1, -1000])
def test_negative_page_size_names_page_size(requested):
    with pytest.raises(InvalidArgument) as refused:
        pagination.page_size(requested)
    assert [v.field for v in refused.value.violations] == ["page_size"]


@pytest.mark.parametrize(
    "position",
    [["ясная", "0b6f6f0e-3c1e-4a51-9f5e-1d4c1b7a0001"], ["2025-05-01T12:00:00.123456+00:00", "id"],
     ["Ё", 1, None, True], [], ["a" * 1000], ["emoji 😀", "\"quotes\" and /slashes/"]],
)
def test_token_round_trip(position):
    token = pagination.encode_token(position)
    assert pagination.decode_token(token) == position
    assert "=" not in token and "+" not in token and "/" not in token, "tokens travel in URLs"
    token.encode("ascii")


def test_empty_token_is_the_first_page():
    assert pagination.decode_token("") is None


@pytest.mark.parametrize(
    "token",
    ["%%%not-a-token", "!", "a", "ÿÿÿÿ", "Яс", _token({"a": 1}), _token("text"), _token(42), _token(None),
     base64.urlsafe_b64encode(b"\xff\xfe\x00").decode(), base64.urlsafe_b64encode(b"[1,").decode()],
)
def test_garbage_tokens_name_page_token(token):
    with pytest.raises(InvalidArgument) as refused:
        pagination.decode_token(token)
    assert type(refused.value) is InvalidArgument
    assert [v.field for v in refused.value.violations] == ["page_token"]


def test_keyset_after():
    assert pagination.keyset_after("") is None
    assert pagination.keyset_after(pagination.encode_token(["ясная", "id-1"])) == ("ясная", "id-1")
    assert pagination.keyset_after(pagination.encode_token(["a", "b", "c"]), width=3) == ("a", "b", "c")


@pytest.mark.parametrize(
    "position",
    [[], ["only one"], ["a", "b", "c"], ["a\x00", "b"], ["a", "\x00"]],
)
def test_keyset_after_refuses_positions_it_never_issues(position):
    """Wrong width, or a NUL character that PostgreSQL text cannot hold (it would fail the
    query with an internal error instead of refusing the token)."""
    with pytest.raises(InvalidArgument) as refused:
        pagination.keyset_after(pagination.encode_token(position))
    assert [v.field for v in refused.value.violations] == ["page_token"]


def test_page_of_cuts_the_extra_row_into_a_token():
    page, token = pagination.page_of(["a", "b", "c"], 2, lambda row: [row, row.upper()])
    assert page == ["a", "b"]
    assert pagination.decode_token(token) == ["b", "B"]


@pytest.mark.parametrize("rows", [[], ["a"], ["a", "b"]])
def test_page_of_the_last_page_has_no_token(rows):
    assert pagination.page_of(rows, 2, lambda row: [row]) == (rows, "")


# --- errors ---------------------------------------------------------------------------------


def test_validator_collects_every_violation_in_order():
    check = Validator()
    assert check.check(True, "a", "fine") is True
    assert check.check(False, "b", "is wrong") is False
    check.add("c", "is missing")
    assert check.check(False, "b", "is also too long") is False
    with pytest.raises(InvalidArgument) as refused:
        check.raise_if_any()
    assert violations(refused.value) == [("b", "is wrong"), ("c", "is missing"), ("b", "is also too long")]
    assert refused.value.reason == "VALIDATION_FAILED"
    assert refused.value.message == "b: is wrong; c: is missing; b: is also too long"


def test_validator_without_violations_does_not_raise():
    check = Validator()
    check.check(True, "a", "fine")
    check.raise_if_any()
    assert check.violations == []


def test_invalid_argument_needs_a_violation():
    with pytest.raises(ValueError):
        InvalidArgument([])


def test_fields_under_prefixes_plain_invalid_argument():
    with pytest.raises(InvalidArgument) as refused:
        with fields_under("venue"):
            raise InvalidArgument([FieldViolation("display_name", "is required"), FieldViolation("address", "x")])
    assert type(refused.value) is InvalidArgument
    assert violations(refused.value) == [("venue.display_name", "is required"), ("venue.address", "x")]
    assert refused.value.__cause__ is None and refused.value.__suppress_context__


def test_fields_under_leaves_subclasses_alone():
    reused = RequestIdReused("r-1")
    with pytest.raises(RequestIdReused) as refused:
        with fields_under("venue"):
            raise reused
    assert refused.value is reused
    assert violations(refused.value) == [("request_id", "was already used for a different request")]
    assert refused.value.reason == "REQUEST_ID_REUSED"


@pytest.mark.parametrize("error", [NotFound("gone"), RuntimeError("boom")])
def test_fields_under_leaves_other_errors_alone(error):
    with pytest.raises(type(error)) as raised:
        with fields_under("venue"):
            raise error
    assert raised.value is error


def test_fields_under_without_error_does_nothing():
    with fields_under("venue"):
        value = 1
    assert value == 1


def test_with_field_prefix():
    prefixed = with_field_prefix(InvalidArgument.single("kind", "is unknown"), "participant")
    assert violations(prefixed) == [("participant.kind", "is unknown")]


# --- gRPC mapping ---------------------------------------------------------------------------


def _unpack(status) -> tuple[list[error_details_pb2.ErrorInfo], list[error_details_pb2.BadRequest]]:
    infos, bad_requests = [], []
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            infos.append(error_details_pb2.ErrorInfo())
            detail.Unpack(infos[-1])
        elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad_requests.append(error_details_pb2.BadRequest())
            detail.Unpack(bad_requests[-1])
        else:
            raise AssertionError(f"unexpected detail {detail.type_url}")
    return infos, bad_requests


@pytest.mark.parametrize(
    ("error", "code", "reason"),
    [
        (NotFound("venue v does not exist", metadata={"resource": "venues/v"}), grpc.StatusCode.NOT_FOUND, "NOT_FOUND"),
        (AlreadyExists("taken"), grpc.StatusCode.ALREADY_EXISTS, "ALREADY_EXISTS"),
        (FailedPrecondition("sold out"), grpc.StatusCode.FAILED_PRECONDITION, "FAILED_PRECONDITION"),
        (FailedPrecondition("sold out", reason="SESSION_FULL"), grpc.StatusCode.FAILED_PRECONDITION, "SESSION_FULL"),
        (Unavailable("later"), grpc.StatusCode.UNAVAILABLE, "UNAVAILABLE"),
        (DomainError("odd"), grpc.StatusCode.INTERNAL, "INTERNAL"),
    ],
)
def test_domain_errors_map_to_codes_with_error_info_only(error, code, reason):
    mapped, status = to_rpc_status(error)
    assert mapped == code
    assert status.code == code.value[0]
    assert status.message == error.message
    infos, bad_requests = _unpack(status)
    assert [(i.reason, i.domain, dict(i.metadata)) for i in infos] == [(reason, "turnout.dev", error.metadata)]
    assert bad_requests == []


def test_invalid_argument_maps_with_every_field_violation():
    error = InvalidArgument([FieldViolation("venue.display_name", "is required"),
                             FieldViolation("venue.address", "is too long")])
    code, status = to_rpc_status(error)
    assert code == grpc.StatusCode.INVALID_ARGUMENT and status.code == code_pb2.INVALID_ARGUMENT
    infos, bad_requests = _unpack(status)
    assert [(i.reason, i.domain) for i in infos] == [("VALIDATION_FAILED", ERROR_DOMAIN)]
    assert ERROR_DOMAIN == "turnout.dev"
    assert [[(v.field, v.description) for v in b.field_violations] for b in bad_requests] == [
        [("venue.display_name", "is required"), ("venue.address", "is too long")]]


def test_request_id_reused_is_invalid_argument_with_its_own_reason():
    code, status = to_rpc_status(RequestIdReused("r-1"))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    infos, bad_requests = _unpack(status)
    assert [(i.reason, i.domain) for i in infos] == [("REQUEST_ID_REUSED", "turnout.dev")]
    assert [[v.field for v in b.field_violations] for b in bad_requests] == [["request_id"]]
    assert "r-1" in status.message


def test_internal_status_names_the_request_id_only():
    code, status = internal_status("req-42")
    assert code == grpc.StatusCode.INTERNAL and status.code == code_pb2.INTERNAL
    assert "req-42" in status.message
    infos, bad_requests = _unpack(status)
    assert [(i.reason, i.domain, dict(i.metadata)) for i in infos] == [
        ("INTERNAL", "turnout.dev", {"request_id": "req-42"})]
    assert bad_requests == []


def test_status_trailer_carries_the_serialised_status():
    _, status = to_rpc_status(NotFound("gone"))
    ((key, value),) = status_trailer(status)
    assert key == "grpc-status-details-bin"
    assert value == status.SerializeToString()


# --- idempotency fingerprints ---------------------------------------------------------------


def _create(name: str, request_id: str, address: str = "") -> event_service_pb2.CreateVenueRequest:
    return event_service_pb2.CreateVenueRequest(venue=venue_pb2.Venue(display_name=name, address=address),
                                                request_id=request_id)


def test_fingerprint_ignores_the_request_id():
    assert fingerprint(_create("Ясная", "r-1")) == fingerprint(_create("Ясная", "r-2")) == fingerprint(
        _create("Ясная", ""))


def test_fingerprint_differs_for_another_body():
    prints = {fingerprint(_create("Ясная", "r")), fingerprint(_create("Ясная ", "r")),
              fingerprint(_create("Цветной", "r")), fingerprint(_create("Ясная", "r", address="ул. Ясная, 1"))}
    assert len(prints) == 4


def test_fingerprint_is_deterministic_and_leaves_the_request_alone():
    request = _create("Ясная", "r-1", address="ул. Ясная, 1")
    first = fingerprint(request)
    assert fingerprint(request) == first == fingerprint(_create("Ясная", "r-9", address="ул. Ясная, 1"))
    assert request.request_id == "r-1", "the caller's request must not be modified"
    assert len(first) == 64 and int(first, 16) >= 0


def test_fingerprint_ignores_what_it_is_told_to():
    assert fingerprint(_create("Ясная", "r-1"), ignore=()) != fingerprint(_create("Ясная", "r-2"), ignore=())


# --- resource names -------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "identifier"), [("venues/abc", "abc"),
                                                  ("venues/0b6f6f0e-3c1e-4a51-9f5e-1d4c1b7a0001",
                                                   "0b6f6f0e-3c1e-4a51-9f5e-1d4c1b7a0001")])
def test_resource_id(name, identifier):
    assert resource_id(name, "venues") == identifier


@pytest.mark.parametrize("name", ["", "venues", "venues/", "rooms/1", "venues/1/2", "/1", "Venues/1", "venue/1",
                                  "venues/\x00", "venues/a\x00b"])
def test_malformed_resource_name_names_the_field(name):
    with pytest.raises(InvalidArgument) as refused:
        resource_id(name, "venues")
    assert [v.field for v in refused.value.violations] == ["name"]
    with pytest.raises(InvalidArgument) as refused_parent:
        resource_id(name, "venues", field="parent")
    assert [v.field for v in refused_parent.value.violations] == ["parent"]
