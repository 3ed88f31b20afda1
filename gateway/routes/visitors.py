"""`POST /v1/auth/visitor`: a returning visitor signs in with their last name and card
number or phone and gets a short-lived participant token.

The only `/v1` route without bearer authentication (`gateway.app` includes it apart). Every
refusal is one 401 `sign_in_failed` with one body, and every attempt counts against the
address and the identifier before the lookup, so neither the answer nor a 429 tells whether
a card or phone exists. Card numbers, phones, last names and tokens are never logged.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from gateway import problems
from gateway.backends import BackendClient, CallContext
from gateway.rate_limits import limit_address, limit_sign_in_address
from gateway.routes import resource_id
from kernel.auth import Principal, issue_token
from participant_service.domain.visitors import SIGN_IN_FAILED_MESSAGE, identifier_key
from turnout.participant.v1 import participant_service_pb2

router = APIRouter(prefix="/v1/auth", tags=["auth"])

# Who the backend records as acting: nobody is signed in yet.
_ANONYMOUS = Principal(sub="anonymous", roles=frozenset())
_FIELDS = {"last_name": "last_name", "card_number": "card_number", "phone": "phone", "identifier": "card_number"}
_ONE_IDENTIFIER = "give exactly one of card_number or phone"


class VisitorSignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Sizes only; the rules (and the case- and space-blind comparison) belong to the service.
    last_name: str = Field(max_length=200, description="any case; surrounding spaces and ё/е do not matter")
    card_number: str | None = Field(default=None, max_length=100, description="the number on the visitor's card")
    phone: str | None = Field(default=None, max_length=100,
                              description="instead of card_number: a Russian number in any format")


class VisitorToken(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="seconds until the token expires")
    participant_id: str


def sign_in_failed() -> problems.Problem:
    """The one answer to every refusal: the same status, code, detail and headers."""
    return problems.Problem(401, "sign_in_failed", SIGN_IN_FAILED_MESSAGE, headers={"WWW-Authenticate": "Bearer"})


@router.post(
    "/visitor", response_model=VisitorToken,
    dependencies=[Depends(limit_address), Depends(limit_sign_in_address)],
    responses={400: {"description": "a field is missing or malformed"},
               401: {"description": "`sign_in_failed`, whatever did not match"},
               429: {"description": "`rate_limited` (`sign_in_address` or `sign_in_identifier`)"}},
)
async def sign_in_visitor(body: VisitorSignIn, request: Request, response: Response) -> VisitorToken:
    """Sign in as a returning visitor: `{last_name, card_number}` or `{last_name, phone}`.
    The token has the role `participant` and lives `TURNOUT_VISITOR_TOKEN_TTL_SECONDS`."""
    if (body.card_number is None) == (body.phone is None):
        raise problems.Problem(400, "validation_failed", _ONE_IDENTIFIER,
                               errors=[problems.FieldError("card_number", _ONE_IDENTIFIER),
                                       problems.FieldError("phone", _ONE_IDENTIFIER)])
    identifier = identifier_key(card_number=body.card_number, phone=body.phone)
    if identifier is not None:  # None: malformed, refused by the service before any lookup
        await request.app.state.rate_limits.check_identifier(identifier)

    backend = request.app.state.backends.participant
    participant = BackendClient(backend, CallContext(request_id=request.state.request_id, principal=_ANONYMOUS))
    verify = participant_service_pb2.VerifyVisitorRequest(last_name=body.last_name)
    if body.card_number is not None:
        verify.card_number = body.card_number
    else:
        verify.phone = body.phone or ""
    try:
        answer = await participant.call(participant.stub.VerifyVisitor, verify, fields=_FIELDS)
    except problems.Problem as problem:
        if problem.status == 401:
            raise sign_in_failed() from None
        raise

    settings = request.app.state.settings
    participant_id = resource_id(answer.participant, "participants")
    ttl = settings.visitor_token_ttl_seconds
    token = issue_token(settings.auth_secret, sub=f"visitor:{participant_id}", roles=["participant"],
                        participant_id=participant_id, ttl_seconds=ttl)
    # A bearer token must not sit in a shared cache (RFC 6749 §5.1).
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return VisitorToken(access_token=token, expires_in=ttl, participant_id=participant_id)
