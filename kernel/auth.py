"""Bearer tokens: HS256 JWTs carrying who acts (`sub`), their roles and, for participants,
which participant they are (DESIGN.md §7).

Pure functions with no web framework, so that the CLI (`turnout token`), the gateway and
the tests issue and check tokens the same way.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import jwt

from kernel.roles import ROLES

ALGORITHM = "HS256"
DEFAULT_TTL_SECONDS = 8 * 3600


class InvalidToken(Exception):
    """The token is missing, malformed, badly signed, expired or makes no sense."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Principal:
    sub: str
    roles: frozenset[str]
    participant_id: str | None = None

    def has_any(self, *roles: str) -> bool:
        return not self.roles.isdisjoint(roles)


def _is_header_safe(value: str) -> bool:
    # Claims travel on as gRPC metadata values, which must be printable ASCII; refusing
    # them here turns a would-be 500 deep in a backend call into a clear 401.
    return value.isascii() and value.isprintable()


def _check_claims(sub: object, roles: object, participant_id: object) -> str | None:
    """The reason the claims are unusable, or None when they are fine."""
    if not isinstance(sub, str) or not sub or not _is_header_safe(sub):
        return "sub must be a non-empty printable ASCII string"
    if not isinstance(roles, list) or not roles or not all(isinstance(r, str) for r in roles):
        return "roles must be a non-empty list of strings"
    unknown = sorted(set(roles) - ROLES)
    if unknown:
        return f"unknown roles: {', '.join(unknown)}"
    if participant_id is not None and (
        not isinstance(participant_id, str) or not participant_id or not _is_header_safe(participant_id)
    ):
        return "participant_id must be a non-empty printable ASCII string"
    # Participants act only on themselves, which is meaningless without knowing who they are.
    if "participant" in roles and participant_id is None:
        return "the participant role needs a participant_id"
    return None


def issue_token(
    secret: str,
    *,
    sub: str,
    roles: list[str],
    participant_id: str | None = None,
    ttl_seconds: int = DEFAULT_TTL_SECONDS,
) -> str:
    """A signed token valid for `ttl_seconds`; raises ValueError for claims decode would refuse."""
    if not secret:
        raise ValueError("an empty secret would let anyone forge tokens")
    if ttl_seconds <= 0:
        raise ValueError("ttl_seconds must be positive")
    problem = _check_claims(sub, list(roles), participant_id)
    if problem:
        raise ValueError(problem)
    now = int(time.time())
    claims: dict[str, object] = {"sub": sub, "roles": sorted(set(roles)), "iat": now, "exp": now + ttl_seconds}
    if participant_id is not None:
        claims["participant_id"] = participant_id
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def decode_token(secret: str, token: str | None) -> Principal:
    """The principal of a valid token; raises InvalidToken otherwise."""
    if not secret:
        raise ValueError("an empty secret would accept forged tokens")
    if not token:
        raise InvalidToken("missing bearer token")
    try:
        # Pinning the algorithm stops "alg: none" and key-confusion tricks.
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], options={"require": ["sub", "exp"]})
    except jwt.ExpiredSignatureError:
        raise InvalidToken("token has expired") from None
    except jwt.InvalidTokenError as exc:
        raise InvalidToken(f"invalid token: {exc}") from None
    sub, roles, participant_id = claims.get("sub"), claims.get("roles"), claims.get("participant_id")
    problem = _check_claims(sub, roles, participant_id)
    if problem:
        raise InvalidToken(f"invalid token: {problem}")
    return Principal(sub=sub, roles=frozenset(roles), participant_id=participant_id)  # type: ignore[arg-type]
