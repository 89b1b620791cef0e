"""Settings load from the environment and refuse bad values with a clear message."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.settings import Settings


@pytest.fixture(autouse=True)
def _no_dotenv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run where no developer's .env can leak into the defaults."""
    monkeypatch.chdir(tmp_path)


def test_defaults_are_the_embedded_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    s = Settings()
    assert s.database_url.startswith("sqlite:///")
    assert s.timezone == "Asia/Ho_Chi_Minh"
    assert s.telegram_bot_token is None
    assert str(s.telegram_api_url).startswith("https://api.telegram.org")


def test_admin_ids_accept_a_comma_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_ADMIN_IDS", "12, 34;56")
    assert Settings().telegram_admin_ids == [12, 34, 56]


@pytest.mark.parametrize(
    ("name", "value", "needle"),
    [
        ("TIMEZONE", "Mars/Olympus", "unknown time zone"),
        ("POLL_INTERVAL_SECONDS", "5", "poll_interval_seconds"),
        ("TELEGRAM_API_URL", "not a url", "telegram_api_url"),
        ("LOG_LEVEL", "verbose", "unknown log level"),
    ],
)
def test_bad_values_are_refused_by_name(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, needle: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as err:
        Settings()
    assert needle in str(err.value)


def test_token_is_secret_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456:SECRETSECRET")
    s = Settings()
    assert "SECRETSECRET" not in repr(s)
    assert s.telegram_bot_token is not None
    assert s.telegram_bot_token.get_secret_value() == "123456:SECRETSECRET"


def test_secrets_lists_the_token_and_the_webhook_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    # PTB logs setWebhook's parameters (secret_token included) at DEBUG: both must be redacted.
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:abc")
    monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", "hook-secret")
    assert Settings().secrets == ["123:abc", "hook-secret"]
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN")
    monkeypatch.delenv("TELEGRAM_WEBHOOK_SECRET")
    assert Settings().secrets == []
