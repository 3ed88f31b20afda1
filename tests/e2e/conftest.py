"""The whole system as `turnout dev` runs it: every component a child process."""

from __future__ import annotations

import httpx
import pytest

from kernel.auth import issue_token
from kernel.devstack.stack import DevStack


@pytest.fixture(scope="module")
def stack(engines: DevStack) -> DevStack:
    """Stopped after each module: the integration tests run relays of their own on the same
    schemas, and only one relay per schema leads at a time."""
    engines.start_components()
    engines.wait_ready(timeout=90)
    yield engines
    for name in list(engines.components):
        engines.stop_component(name)


@pytest.fixture(scope="session")
def admin_token(engines: DevStack) -> str:
    return issue_token(engines.auth_secret, sub="e2e-admin", roles=["admin"])


@pytest.fixture
async def api(stack: DevStack, admin_token: str):
    # Idle connections expire before uvicorn's 5 s keep-alive does: otherwise a request can
    # go out on a connection the server is closing ("Server disconnected without sending a
    # response").
    async with httpx.AsyncClient(base_url=stack.urls()["gateway"], timeout=15,
                                 limits=httpx.Limits(keepalive_expiry=2),
                                 headers={"Authorization": f"Bearer {admin_token}"}) as client:
        yield client
