"""Configuration for every Turnout process, read from `TURNOUT_*` environment variables.

One `Settings` type serves all services so that `turnout dev`, the tests and docker-compose
set the same names. Validation errors are turned into one line naming the variable by
`kernel.settings.load_settings`.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class SettingsError(SystemExit):
    """A bad or missing setting; the message names the environment variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TURNOUT_", extra="ignore")

    database_url: str = Field(
        default="postgresql+asyncpg://turnout@127.0.0.1:5432/turnout",
        description="SQLAlchemy URL of the PostgreSQL database (asyncpg driver).",
    )
    redis_url: str = Field(default="redis://127.0.0.1:6379/0")
    kafka_bootstrap: str = Field(default="127.0.0.1:9092", description="host:port[,host:port]")
    # Tansu completes a group join only after half the session timeout (DESIGN.md §6).
    kafka_session_timeout_ms: int = Field(default=2000, gt=0)
    kafka_heartbeat_interval_ms: int = Field(default=500, gt=0)
    kafka_fetch_max_wait_ms: int = Field(default=20, ge=0, description="longest a consumer's fetch waits for data")

    auth_secret: str = Field(default="", description="HS256 secret for bearer tokens")

    host: str = "127.0.0.1"
    event_service_port: int = Field(default=50051, ge=0, le=65535)
    participant_service_port: int = Field(default=50052, ge=0, le=65535)
    reporting_service_port: int = Field(default=50053, ge=0, le=65535)
    gateway_port: int = Field(default=8080, ge=0, le=65535)
    metrics_port: int = Field(default=0, ge=0, le=65535, description="0: no metrics listener")

    event_service_target: str = ""
    participant_service_target: str = ""
    reporting_service_target: str = ""

    # Gateway rate limits ("N/second|minute|hour", see `limits.parse`), kept in Redis so every
    # gateway replica shares them.
    rate_limits_enabled: bool = True
    rate_limit_per_principal: str = Field(default="600/minute", description="requests of one token's subject")
    rate_limit_per_address: str = Field(default="1200/minute", description="requests from one client address, "
                                                                           "signed in or not")
    rate_limit_bookings: str = Field(default="60/minute", description="bookings (seats, registrations) of one "
                                                                      "subject, on top of the above")
    # Visitor sign-in (POST /v1/auth/visitor): every attempt counts, found or not, so a 429
    # says nothing about whether a card exists.
    rate_limit_sign_in_per_address: str = Field(default="10/minute", description="sign-in attempts from one "
                                                                                 "client address")
    rate_limit_sign_in_per_identifier: str = Field(default="5/15minutes", description="sign-in attempts on one "
                                                                                      "card number or phone")
    visitor_token_ttl_seconds: int = Field(default=900, gt=0, le=24 * 3600,
                                           description="lifetime of a signed-in visitor's token")
    visitor_digest_key: str = Field(default="", description="HMAC key of the card-number and phone digests in "
                                                            "sign-in audit events and limits; empty: the auth secret")

    max_body_bytes: int = Field(default=1024 * 1024, gt=0, description="largest request body the gateway reads, "
                                                                       "uploads aside (TURNOUT_DOCUMENT_MAX_BYTES)")

    grpc_deadline_seconds: float = Field(default=5.0, gt=0)
    shutdown_grace_seconds: float = Field(default=10.0, ge=0)
    breaker_fail_max: int = Field(default=5, gt=0)
    breaker_reset_seconds: float = Field(default=10.0, gt=0)

    relay_batch_size: int = Field(default=500, gt=0)
    relay_poll_seconds: float = Field(default=0.5, gt=0)
    relay_resend_window_seconds: float = Field(
        default=60.0, ge=0, description="after a failed publish, rows the broker acknowledged this recently are sent "
                                        "again (a restarted broker may have lost them)")
    projector_group: str = "turnout-reporting"
    # Read-model rebuilds (reporting_service/rebuild.py).
    rebuild_stall_seconds: float = Field(
        default=5.0, gt=0, description="a topic replay that brings nothing the target needs for this long means the "
                                       "topics no longer hold everything (then: the outbox, or fail)")
    rebuild_handover_seconds: float = Field(
        default=30.0, gt=0, description="longest the live projection may stand fenced while a rebuild catches up")
    rebuild_retire_grace_seconds: float = Field(
        default=5.0, ge=0, description="the previous generation is dropped this long after the swap, so that "
                                       "requests in flight finish on it")

    # Staged sign-up (participant_service): drafts in Redis, documents on disk.
    draft_ttl_seconds: int = Field(default=24 * 3600, gt=0, description="a draft expires this long after its last touch")
    document_dir: str = Field(default=".turnout/documents", min_length=1,
                              description="where uploaded documents are kept; `turnout dev` puts it under its data dir")
    document_max_bytes: int = Field(default=10 * 1024 * 1024, gt=0)
    document_cleanup_age_hours: float = Field(default=48.0, gt=0,
                                              description="unreferenced document files older than this are deleted")
    document_cleanup_interval_seconds: float = Field(default=3600.0, gt=0)

    # Registrations (participant_service): the booking saga and its background reconciler.
    registration_saga_hold_seconds: float = Field(
        default=120.0, gt=0, description="how long the saga's seat hold lives before its confirmation; what a "
                                         "crash between the saga's steps costs at most")
    registration_lease_seconds: float = Field(
        default=30.0, gt=0, description="a request still running after this long may be retried by another replica")
    waitlist_offer_seconds: float = Field(default=900.0, gt=0, description="how long a waitlist offer is held")
    reconcile_interval_seconds: float = Field(
        default=1.0, gt=0, description="how often owed ledger calls, lapsed holds and waitlists are processed")
    notification_locale: str = Field(
        default="ru", min_length=2, max_length=35,
        description="BCP 47 language tag of notification requests on turnout.notifications.v1")
    lifecycle_consumer_group: str = Field(
        default="participant-lifecycle", min_length=1,
        description="Kafka consumer group in which participant-service replicas read the occurrence lifecycle "
                    "(reconfirmations, reminders) from turnout.catalog.v1")

    # The occurrence lifecycle scheduler (event_service/application/lifecycle.py): every
    # event-service replica runs it; FOR UPDATE SKIP LOCKED splits the work.
    lifecycle_scheduler_enabled: bool = Field(default=True, description="move occurrences along their timetable")
    lifecycle_scheduler_interval_seconds: float = Field(default=5.0, gt=0,
                                                        description="how often the scheduler looks for due occurrences")
    lifecycle_scheduler_batch_size: int = Field(default=100, gt=0,
                                                description="occurrences one scheduler transaction claims")

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["json", "text"] = "json"

    @field_validator("database_url")
    @classmethod
    def _asyncpg_url(cls, value: str) -> str:
        if not value.startswith(("postgresql+asyncpg://", "postgresql://", "postgres://")):
            raise ValueError("must be a postgresql:// URL")
        if value.startswith("postgres://"):
            value = "postgresql://" + value.removeprefix("postgres://")
        if value.startswith("postgresql://"):
            value = "postgresql+asyncpg://" + value.removeprefix("postgresql://")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str) -> str:
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must be a redis:// URL")
        return value

    @field_validator("rate_limit_per_principal", "rate_limit_per_address", "rate_limit_bookings",
                     "rate_limit_sign_in_per_address", "rate_limit_sign_in_per_identifier")
    @classmethod
    def _rate_limit(cls, value: str) -> str:
        from limits import parse

        try:
            parse(value)
        except ValueError:
            raise ValueError('must look like "600/minute" (per second, minute, hour or day)') from None
        return value

    def target(self, service: Literal["event", "participant", "reporting"]) -> str:
        """host:port of a backend; an explicit *_TARGET wins over host and port."""
        explicit = getattr(self, f"{service}_service_target")
        return explicit or f"{self.host}:{getattr(self, f'{service}_service_port')}"

    @property
    def asyncpg_dsn(self) -> str:
        """The database URL without SQLAlchemy's driver suffix, for raw asyncpg."""
        return "postgresql://" + self.database_url.removeprefix("postgresql+asyncpg://")

    def visitor_digest_key_bytes(self) -> bytes:
        """The key of the sign-in identifier digests: its own setting, else the auth secret
        (set wherever tokens are issued); empty only in a setup with neither."""
        return (self.visitor_digest_key or self.auth_secret).encode()

    def require_auth_secret(self) -> str:
        if not self.auth_secret:
            raise SettingsError("TURNOUT_AUTH_SECRET is not set: the gateway cannot verify tokens")
        return self.auth_secret


def load_settings(**overrides: object) -> Settings:
    """Reads settings; a bad value exits with one line naming the environment variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else "?"
        raise SettingsError(f"TURNOUT_{field.upper()} is invalid: {first['msg']}") from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
