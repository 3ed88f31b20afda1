"""Runs the gateway under uvicorn: `python -m gateway.main` or `serve(settings)`."""

from __future__ import annotations

import errno
import logging
import socket

import uvicorn

from gateway.app import create_app
from kernel import logs
from kernel.settings import Settings, SettingsError, load_settings


def _bind(host: str, port: int) -> socket.socket:
    """Binds the listening socket ourselves, so a taken port is a one-line settings error
    rather than a uvicorn traceback, and nothing can grab the port between check and use."""
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    sock = socket.socket(family, kind, proto)
    # SO_REUSEADDR lets a restart reuse a port in TIME_WAIT; on Linux it still refuses a
    # port another process is listening on, which is what we must detect.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise SettingsError(f"TURNOUT_GATEWAY_PORT: port {port} on {host} is already in use") from None
        raise SettingsError(f"TURNOUT_HOST: cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.set_inheritable(True)
    return sock


def serve(settings: Settings) -> None:
    """Serves until SIGINT/SIGTERM; uvicorn then stops accepting, lets in-flight requests
    finish within the shutdown grace, and runs the lifespan shutdown (closing channels)."""
    settings.require_auth_secret()
    logs.configure("gateway", settings.log_level, settings.log_format)
    sock = _bind(settings.host, settings.gateway_port)
    config = uvicorn.Config(
        create_app(settings),
        log_level=settings.log_level.lower(),
        # Typed int, but it only feeds asyncio.wait_for, which takes fractions too.
        timeout_graceful_shutdown=settings.shutdown_grace_seconds,  # type: ignore[arg-type]
        # The gateway's own middleware owns X-Request-ID and access metrics.
        server_header=False,
        # Our JSON lines (kernel.logs) instead of uvicorn's; the middleware logs each request.
        log_config=None,
        access_log=False,
    )
    # uvicorn announces its address only when it binds the socket itself.
    host, port = sock.getsockname()[:2]
    logging.getLogger("uvicorn.error").info("Turnout gateway listening on http://%s:%d", host, port)
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()


def main() -> None:
    serve(load_settings())


if __name__ == "__main__":
    main()
