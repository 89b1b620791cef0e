"""Logging set-up that never prints secrets (a Bot API URL carries the bot token)."""

from __future__ import annotations

import logging
import re

# "bot123456:AA..." inside a Bot API URL, and access_token/secret values in query strings.
_SECRET_PATTERNS = [
    re.compile(r"bot\d+:[A-Za-z0-9_-]+"),
    re.compile(r"(?i)((?:access_token|secret_key|refresh_token|token)=)[^&\s\"']+"),
]


def redact(text: str) -> str:
    """The text with bot tokens and token-like query values replaced."""
    text = _SECRET_PATTERNS[0].sub("bot<redacted>", text)
    return _SECRET_PATTERNS[1].sub(r"\1<redacted>", text)


class RedactingFilter(logging.Filter):
    """Rewrites every record's final message through `redact`."""

    def __init__(self, extra_secrets: list[str] | None = None) -> None:
        super().__init__()
        self._extra = [s for s in (extra_secrets or []) if s]

    def filter(self, record: logging.LogRecord) -> bool:
        message = redact(record.getMessage())
        for secret in self._extra:
            message = message.replace(secret, "<redacted>")
        record.msg, record.args = message, None
        return True


def setup_logging(level: str = "INFO", secrets: list[str] | None = None) -> None:
    """Root handler with redaction; httpx's per-request INFO lines are silenced."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("httpx", "httpcore", "apscheduler.executors.default", "alembic.runtime.plugins"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
