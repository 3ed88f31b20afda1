"""Bearer authentication and role checks as FastAPI dependencies.

`gateway.app` attaches `authenticated` to every `/v1` router, so a new route cannot forget it;
`require_roles(...)` narrows a single route. FastAPI caches a dependency per request, so
the token is decoded once however many dependencies ask for the principal.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from gateway import problems
from kernel.auth import ROLES, InvalidToken, Principal, decode_token

# auto_error=False: FastAPI's own 401 is not problem+json; we raise ours instead.
_bearer = HTTPBearer(auto_error=False, description="HS256 JWT; `turnout token --role admin` prints one.")


async def authenticated(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None:
        raise problems.unauthenticated("an Authorization: Bearer <token> header is required")
    try:
        principal = decode_token(request.app.state.settings.auth_secret, credentials.credentials)
    except InvalidToken as exc:
        raise problems.unauthenticated(exc.message) from None
    request.state.principal = principal
    return principal


CurrentPrincipal = Annotated[Principal, Depends(authenticated)]


def require_roles(*roles: str) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency admitting a principal holding any of `roles`; 403 otherwise."""
    unknown = set(roles) - ROLES
    if not roles or unknown:
        raise ValueError(f"require_roles needs known roles, got {sorted(roles)}")
    wanted = ", ".join(sorted(roles))

    async def check(principal: CurrentPrincipal) -> Principal:
        if not principal.has_any(*roles):
            raise problems.forbidden(f"this action needs one of the roles: {wanted}")
        return principal

    return check
