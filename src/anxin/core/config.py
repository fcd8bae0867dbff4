"""Settings from the environment (prefix ``ANXIN_``), built on demand, never at import time."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Known only so that production mode can refuse it.
DEFAULT_SECRET_KEY = "insecure-development-secret-change-me"  # noqa: S105


class Settings(BaseSettings):
    """Every knob an operator can turn; the table in README.md documents them."""

    model_config = SettingsConfigDict(env_prefix="ANXIN_", env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = "sqlite:///./var/anxin.db"
    database_echo: bool = False
    secret_key: SecretStr = SecretStr(DEFAULT_SECRET_KEY)
    access_token_minutes: int = Field(default=15, ge=1, le=24 * 60)
    session_cookie_name: str = "anxin_session"
    session_max_age_s: int = Field(default=8 * 3600, ge=60)
    bus_url: str = "memory://"
    display_timezone: str = "Asia/Shanghai"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    max_batch_items: int = Field(default=5000, ge=1)
    max_payload_bytes: int = Field(default=1_048_576, ge=256)
    log_level: str = "INFO"
    # Background workers of every domain (alarm engine, rule sweeper, ledger checkpoints).
    workers: bool | None = None  # None: on, except when environment is "test"
    # Seconds after start before the workers' first ticks, which then run one at a time: the
    # server's first requests do not wait behind them (core.workers.StartLine).
    workers_start_delay_s: float = Field(default=2.0, ge=0, le=600)
    # Prepare every route before serving (`app._warm_up_routes`, ~1.5 s of CPU): on, except
    # when environment is "test", where each test's app would pay it for the few routes it uses.
    warm_up_routes: bool | None = None
    # alerts: the engine loop, delivery and notification providers (docs/alerts.md).
    alerts_tick_s: float = Field(default=0.5, gt=0, le=60)
    alerts_watchdog_grace_s: float = Field(default=30.0, ge=0)
    notify_max_attempts: int = Field(default=5, ge=1, le=50)
    notify_backoff_base_s: float = Field(default=2.0, gt=0)
    notify_backoff_max_s: float = Field(default=300.0, gt=0)
    notify_lease_s: float = Field(default=60.0, gt=0)
    notify_http_timeout_s: float = Field(default=5.0, gt=0, le=120)
    local_receipt_delay_s: float = Field(default=2.0, ge=0)
    local_failure_rate: float = Field(default=0.0, ge=0, le=1)
    sms_provider: str = "local"
    voice_provider: str = "local"
    push_provider: str = "local"
    webhook_provider: str = "local"
    sms_url: str | None = None
    sms_api_key: SecretStr | None = None
    voice_url: str | None = None
    voice_api_key: SecretStr | None = None
    # telemetry at scale: consumers, limits, partitions, metrics (docs/telemetry.md).
    telemetry_rate_per_s: float = Field(default=10.0, gt=0)
    telemetry_burst: float = Field(default=100.0, ge=1)
    ingest_batch_size: int = Field(default=1000, ge=1, le=50_000)
    # Readings per consumer unit of work; unset: 250 on SQLite, 20,000 on PostgreSQL.
    ingest_unit_readings: int | None = Field(default=None, ge=1, le=1_000_000)
    ingest_queue_size: int = Field(default=20_000, ge=1)
    ingest_device_cache_s: float = Field(default=30.0, ge=0)
    # Parsing limits (docs/telemetry.md, "Limits"): JSON depth, and how old or how far ahead
    # a reading may be stamped (a device type's profile may allow older readings).
    telemetry_max_depth: int = Field(default=32, ge=2, le=512)
    telemetry_max_age_s: int = Field(default=7 * 86400, ge=60)
    telemetry_max_future_s: int = Field(default=300, ge=0, le=86400)
    # Payload bound of the MQTT and NATS consumers; unset: ANXIN_MAX_PAYLOAD_BYTES.
    ingest_max_payload_bytes: int | None = Field(default=None, ge=256)
    telemetry_partition: Literal["day", "month"] = "day"
    telemetry_partitions_ahead: int = Field(default=7, ge=1, le=366)
    metrics_token: SecretStr | None = None

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def workers_enabled(self) -> bool:
        return self._unless_testing(self.workers)

    @property
    def warm_up_enabled(self) -> bool:
        return self._unless_testing(self.warm_up_routes)

    def _unless_testing(self, chosen: bool | None) -> bool:
        """A switch set in the environment, or else on except in environment "test"."""
        return chosen if chosen is not None else self.environment != "test"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @field_validator("display_timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        """Pages show times in this IANA zone; a typo fails at start, not on the first page."""
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"unknown timezone {value!r} (an IANA name like Asia/Shanghai)"
            ) from exc
        return value

    @model_validator(mode="after")
    def _refuse_insecure_production(self) -> Settings:
        if not self.is_production:
            return self
        secret = self.secret_key.get_secret_value()
        if secret == DEFAULT_SECRET_KEY or len(secret) < 32:
            raise ValueError(
                "ANXIN_SECRET_KEY must be set to a random value of at least 32 characters "
                "in production"
            )
        return self

    def sqlite_path(self) -> Path | None:
        """The database file for a file-backed SQLite URL, else None."""
        prefix = "sqlite:///"
        if not self.database_url.startswith(prefix):
            return None
        raw = self.database_url[len(prefix) :].split("?", 1)[0]
        if raw in ("", ":memory:"):
            return None
        return Path(raw)


class ConfigurationError(ValueError):
    """The environment's settings are invalid; the message names each variable and why."""


def describe(exc: ValidationError) -> str:
    """One line: ``ANXIN_<NAME>: <reason>`` per problem (a whole-settings rule has no name)."""
    problems = []
    for error in exc.errors():
        name = "ANXIN_" + "_".join(str(part) for part in error["loc"]).upper()
        reason = str(error["msg"]).removeprefix("Value error, ")
        problems.append(f"{name}: {reason}" if error["loc"] else reason)
    return "; ".join(problems)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read from the environment on first use."""
    try:
        return Settings()
    except ValidationError as exc:
        raise ConfigurationError(describe(exc)) from exc
