"""The one settings class: environment variables and `.env`, validated at start-up."""

from __future__ import annotations

import difflib
import logging
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, HttpUrl, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

DEFAULT_SOURCES_FILE = (
    Path(__file__).resolve().parent.parent / "jobs" / "ingest" / "sources.default.toml"
)


class Settings(BaseSettings):
    """Every setting of the service; `.env.example` lists them in this order."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=False)

    database_url: str = "sqlite:///./data/portal-notifier.db"
    sources_file: Path = DEFAULT_SOURCES_FILE
    poll_interval_seconds: int = Field(default=600, ge=30)
    timezone: str = "Asia/Ho_Chi_Minh"
    http_deadline_seconds: float = Field(default=20.0, gt=0)
    http_max_body_bytes: int = Field(default=10_000_000, gt=0)
    http_per_host_concurrency: int = Field(default=2, ge=1)
    http_user_agent: str = "portal-notifier/0.1 (+https://github.com/portal-notifier)"
    log_level: str = "INFO"
    telegram_bot_token: SecretStr | None = None
    telegram_api_url: HttpUrl = HttpUrl("https://api.telegram.org")
    telegram_admin_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    telegram_webhook_url: HttpUrl | None = None
    telegram_webhook_secret: SecretStr | None = None
    telegram_global_rate: float = Field(default=25.0, gt=0)
    listen_host: str = "127.0.0.1"
    listen_port: int = Field(default=8080, ge=0, le=65535)
    delivery_retention_days: int = Field(default=30, ge=1)
    # issue 10: what /healthz calls down
    health_stale_intervals: int = Field(default=3, ge=1)
    health_queue_max_age_seconds: int = Field(default=900, ge=1)
    # issue 13: backfill politeness (one request in flight per host, this pause in between)
    backfill_pause_seconds: float = Field(default=1.0, ge=0.0, le=60.0)
    # Issue 11 (admins and operators).
    access_mode: Literal["open", "approval"] = "open"
    log_format: Literal["text", "json"] = "text"
    source_alarm_failures: int = Field(default=3, ge=1)
    # Zalo (issue 9): bot accounts (Zalo Bot Platform) and Official Accounts.
    zalo_bot_token: SecretStr | None = None
    zalo_bot_api_url: HttpUrl = HttpUrl("https://bot-api.zaloplatforms.com")
    zalo_bot_webhook_url: HttpUrl | None = None
    zalo_bot_webhook_secret: SecretStr | None = None
    zalo_app_id: str | None = None
    zalo_app_secret: SecretStr | None = None
    zalo_oa_secret_key: SecretStr | None = None
    zalo_refresh_token: SecretStr | None = None
    zalo_api_url: HttpUrl = HttpUrl("https://openapi.zalo.me")
    zalo_oauth_url: HttpUrl = HttpUrl("https://oauth.zaloapp.com")
    zalo_admin_ids: Annotated[list[str], NoDecode] = Field(default_factory=list)

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        # Checked here so "nonsense" or mysql:// is "Invalid configuration", not a traceback.
        try:
            url = make_url(value)
        except ArgumentError as exc:
            raise ValueError(f"not a database URL: {value!r}") from exc
        if url.get_backend_name() not in ("sqlite", "postgresql"):
            raise ValueError(
                f"unsupported database {url.get_backend_name()!r}: use sqlite:///path "
                "or postgresql+psycopg://user@host/db"
            )
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        # Checked here so a typo is "Invalid configuration", not a traceback from logging.
        if value.upper() not in logging.getLevelNamesMapping():
            raise ValueError(f"unknown log level {value!r} (use DEBUG, INFO, WARNING or ERROR)")
        return value

    @field_validator("telegram_admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return [int(part) for part in value.replace(";", ",").split(",") if part.strip()]
        return value

    @field_validator("zalo_admin_ids", mode="before")
    @classmethod
    def _split_zalo_ids(cls, value: object) -> object:
        # Zalo user ids are long digit strings: kept as text, never as numbers.
        if isinstance(value, str):
            return [part.strip() for part in value.replace(";", ",").split(",") if part.strip()]
        return value

    @property
    def zalo_oa_configured(self) -> bool:
        """True when every setting the Official Account channel needs is present."""
        held = (self.zalo_app_secret, self.zalo_oa_secret_key, self.zalo_refresh_token)
        return bool(self.zalo_app_id) and all(s is not None for s in held)

    @property
    def tz(self) -> ZoneInfo:
        """The portal's time zone as a ZoneInfo."""
        return ZoneInfo(self.timezone)

    @property
    def secrets(self) -> list[str]:
        """Every secret value that is set, for the log filter to blank out."""
        held = (
            self.telegram_bot_token,
            self.telegram_webhook_secret,
            self.zalo_bot_token,
            self.zalo_bot_webhook_secret,
            self.zalo_app_secret,
            self.zalo_oa_secret_key,
            self.zalo_refresh_token,
        )
        return [s.get_secret_value() for s in held if s is not None and s.get_secret_value()]


def unknown_env_lines(path: Path = Path(".env")) -> list[str]:
    """Warnings for names in a .env file that are not settings (a typo is otherwise ignored)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return []
    known = [name.upper() for name in Settings.model_fields]
    out = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        name = line.split("=", 1)[0].strip().removeprefix("export ").strip().upper()
        if name in known:
            continue
        close = difflib.get_close_matches(name, known, n=1)
        hint = f"; did you mean {close[0]}?" if close else ""
        out.append(f"{path}:{number}: unknown setting {name} is ignored{hint}")
    return out
