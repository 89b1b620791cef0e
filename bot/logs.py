"""Logging set-up that never prints secrets (a Bot API URL carries the bot token)."""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime

# "bot123456:AA..." inside a Bot API URL, and access_token/secret values in query strings.
_SECRET_PATTERNS = [
    re.compile(r"bot\d+:[A-Za-z0-9_-]+"),
    re.compile(r"(?i)((?:access_token|secret_key|refresh_token|token)=)[^&\s\"']+"),
]
_TRACEBACKS = logging.Formatter()  # renders exc_info the way every handler's formatter would


def redact(text: str) -> str:
    """The text with bot tokens and token-like query values replaced."""
    text = _SECRET_PATTERNS[0].sub("bot<redacted>", text)
    return _SECRET_PATTERNS[1].sub(r"\1<redacted>", text)


class RedactingFilter(logging.Filter):
    """Rewrites every record's final message, traceback and stack through `redact`."""

    def __init__(self, extra_secrets: list[str] | None = None) -> None:
        super().__init__()
        self._extra = [s for s in (extra_secrets or []) if s]

    def _clean(self, text: str) -> str:
        text = redact(text)
        for secret in self._extra:
            text = text.replace(secret, "<redacted>")
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = self._clean(record.getMessage()), None
        # log.exception's traceback is rendered after filters run, from exc_text when it is set:
        # an exception quoting a Bot API URL would otherwise print the token.
        if record.exc_info and not record.exc_text:
            record.exc_text = _TRACEBACKS.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._clean(record.exc_text)
        if record.stack_info:
            record.stack_info = self._clean(record.stack_info)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, exc_info."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exc_info"] = record.exc_text
        if record.stack_info:
            entry["stack_info"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def setup_logging(level: str = "INFO", secrets: list[str] | None = None, fmt: str = "text") -> None:
    """Root handler with redaction (text, or JSON lines); httpx's per-request INFO lines are
    silenced."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    handler.addFilter(RedactingFilter(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("httpx", "httpcore", "apscheduler.executors.default", "alembic.runtime.plugins"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
