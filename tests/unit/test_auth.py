"""kernel.auth: tokens issued by `issue_token` are exactly the ones `decode_token` accepts."""

from __future__ import annotations

import time

import jwt
import pytest

from kernel.auth import InvalidToken, Principal, decode_token, issue_token

SECRET = "test-secret-that-is-long-enough-for-hs256"


def test_round_trip_keeps_subject_roles_and_participant() -> None:
    token = issue_token(SECRET, sub="alice", roles=["participant", "volunteer"], participant_id="p-1")

    assert decode_token(SECRET, token) == Principal(
        sub="alice", roles=frozenset({"participant", "volunteer"}), participant_id="p-1"
    )


def test_round_trip_without_participant() -> None:
    principal = decode_token(SECRET, issue_token(SECRET, sub="svc", roles=["service"]))

    assert principal.participant_id is None
    assert principal.has_any("service", "admin")
    assert not principal.has_any("admin")


def test_expired_token_is_refused() -> None:
    claims = {"sub": "alice", "roles": ["admin"], "iat": int(time.time()) - 20, "exp": int(time.time()) - 10}
    token = jwt.encode(claims, SECRET, algorithm="HS256")

    with pytest.raises(InvalidToken, match="expired"):
        decode_token(SECRET, token)


def test_wrong_secret_is_refused() -> None:
    token = issue_token("another-secret-that-is-long-enough-too", sub="alice", roles=["admin"])

    with pytest.raises(InvalidToken, match="invalid token"):
        decode_token(SECRET, token)


@pytest.mark.parametrize("garbage", ["", "not-a-jwt", "a.b.c", "Bearer x"])
def test_garbage_is_refused(garbage: str) -> None:
    with pytest.raises(InvalidToken):
        decode_token(SECRET, garbage)


def test_none_algorithm_is_refused() -> None:
    token = jwt.encode({"sub": "mallory", "roles": ["admin"], "exp": int(time.time()) + 60}, None, algorithm="none")

    with pytest.raises(InvalidToken):
        decode_token(SECRET, token)


@pytest.mark.parametrize(
    "claims",
    [
        {"roles": ["admin"]},  # no subject
        {"sub": "alice", "roles": ["root"]},  # unknown role
        {"sub": "alice", "roles": []},
        {"sub": "alice", "roles": ["participant"]},  # participant without participant_id
        {"sub": "alice\u00e9", "roles": ["admin"]},  # cannot travel as gRPC metadata
    ],
)
def test_signed_but_unusable_claims_are_refused(claims: dict[str, object]) -> None:
    token = jwt.encode({**claims, "exp": int(time.time()) + 60}, SECRET, algorithm="HS256")

    with pytest.raises(InvalidToken):
        decode_token(SECRET, token)


def test_issue_refuses_what_decode_would_refuse() -> None:
    with pytest.raises(ValueError):
        issue_token(SECRET, sub="alice", roles=["root"])
    with pytest.raises(ValueError):
        issue_token("", sub="alice", roles=["admin"])
    with pytest.raises(ValueError):
        issue_token(SECRET, sub="alice", roles=["participant"])
