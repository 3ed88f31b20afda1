"""Prometheus exposition for the gRPC processes (the gateway serves /metrics itself)."""

from __future__ import annotations

from prometheus_client import start_http_server

from kernel.settings import Settings, SettingsError


def serve_metrics(settings: Settings) -> None:
    if not settings.metrics_port:
        return
    try:
        start_http_server(settings.metrics_port, addr=settings.host)
    except OSError:
        raise SettingsError(
            f"TURNOUT_METRICS_PORT: port {settings.metrics_port} on {settings.host} is already in use"
        ) from None
