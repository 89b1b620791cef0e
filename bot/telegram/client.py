"""A small Bot API client for sending, mapping every answer to one delivery outcome."""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx

from bot.logs import redact
from jobs.delivery.outbound import (
    Ambiguous,
    ConfigurationError,
    Outcome,
    PermanentFailure,
    RecipientGone,
    RetryAfter,
    Sent,
    TemporaryFailure,
)

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 20.0
WRITE_TIMEOUT = 10.0
POOL_TIMEOUT = 10.0
DEFAULT_RETRY_AFTER = 5.0
# Connections kept to the Bot API. httpcore checks every pooled connection (two system calls
# each) twice per request: with 20 that was a quarter of the event loop during a 100/s
# fan-out (py-spy, bench_bot). 8 carry 30/s even at a 0.25 s round trip; more requests wait
# for a free connection (POOL_TIMEOUT), counted as sending by the limiter meanwhile.
MAX_CONNECTIONS = 8
# 400 descriptions that mean the chat itself is unreachable for good.
_GONE_400 = (
    "chat not found",
    "user is deactivated",
    "bot was kicked",
    "not enough rights to send text",
    "group chat was upgraded",
    "peer_id_invalid",
    "bot is not a member",
)


def classify(status: int, payload: dict[str, Any]) -> Outcome:
    """Map one Bot API answer (status and decoded JSON) to an outcome."""
    description = str(payload.get("description") or f"HTTP {status}")
    if status == 200 and payload.get("ok"):
        result = payload.get("result") or {}
        return Sent(message_id=str(result.get("message_id", "")))
    if status == 429:
        params = payload.get("parameters") or {}
        seconds = float(params.get("retry_after") or DEFAULT_RETRY_AFTER)
        # Bot API answers carry no scope; a self-hosted/fake server may say "global" in text.
        scope = "global" if "global" in description.lower() else "chat"
        return RetryAfter(seconds=seconds, scope=scope, reason=description)
    if status == 403:
        return RecipientGone(reason=description)
    if status == 400:
        lowered = description.lower()
        if any(marker in lowered for marker in _GONE_400):
            return RecipientGone(reason=description)
        return PermanentFailure(reason=description)
    if status in (401, 404):  # the token is wrong or revoked: no message can go out
        return ConfigurationError(reason=description)
    if status >= 500 or status in (408, 409):
        return TemporaryFailure(reason=description)
    return PermanentFailure(reason=description)


def _chat_id(external_id: str) -> int | str:
    """Numeric chat ids go as JSON integers; "@channel" names stay strings."""
    digits = external_id[1:] if external_id.startswith("-") else external_id
    return int(external_id) if digits.isdigit() else external_id


def _reason(exc: BaseException) -> str:
    """An exception as a short reason that can never carry the token."""
    return redact(f"{type(exc).__name__}: {exc}")[:300]


class TelegramClient:
    """Sends messages through `<api_url>/bot<token>/sendMessage`; never logs the URL."""

    def __init__(
        self,
        *,
        api_url: str,
        token: str,
        timeout: httpx.Timeout | None = None,
        max_connections: int = MAX_CONNECTIONS,
    ) -> None:
        self._path = f"/bot{token}/sendMessage"
        timeout = timeout or httpx.Timeout(
            connect=CONNECT_TIMEOUT, read=READ_TIMEOUT, write=WRITE_TIMEOUT, pool=POOL_TIMEOUT
        )
        limits = httpx.Limits(
            max_connections=max_connections, max_keepalive_connections=max_connections
        )
        self._http = httpx.AsyncClient(base_url=api_url.rstrip("/"), timeout=timeout, limits=limits)

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def __aenter__(self) -> TelegramClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def send_message(
        self,
        chat_id: str,
        text: str,
        *,
        reply_markup: dict[str, Any] | None = None,
    ) -> Outcome:
        """Send one HTML message, link previews off, and classify what happened."""
        body: dict[str, Any] = {
            "chat_id": _chat_id(chat_id),
            "text": text,
            "parse_mode": "HTML",
            "link_preview_options": {"is_disabled": True},
        }
        if reply_markup:
            body["reply_markup"] = reply_markup
        try:
            response = await self._http.post(self._path, json=body)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            return TemporaryFailure(reason=_reason(exc))  # nothing reached the server
        except (httpx.WriteError, httpx.WriteTimeout) as exc:
            return TemporaryFailure(reason=_reason(exc))  # an incomplete request is never executed
        except (httpx.ReadTimeout, httpx.ReadError, httpx.RemoteProtocolError) as exc:
            return Ambiguous(reason=_reason(exc))
        except httpx.HTTPError as exc:
            return Ambiguous(reason=_reason(exc))
        try:
            payload = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            payload = {}
        if not isinstance(payload, dict):
            payload = {}
        outcome = classify(response.status_code, payload)
        if not isinstance(outcome, Sent):
            log.info("sendMessage to chat %s: %s", chat_id, redact(repr(outcome)))
        return outcome
