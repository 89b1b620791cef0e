"""A small httpx client of the Zalo Bot Platform (`<api>/bot<TOKEN>/<method>`); never logs URLs.

Answers are `{"ok": true, "result": ...}` or `{"ok": false, "error_code": N, "description":
"..."}`. `getUpdates` long-polls and answers one update (not a list, no offset): 408 means
"nothing came", not a failure. Calls other than sendMessage raise ZaloBotError.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from bot.zalo.results import Kind, Result, reason_of, transport_failure

CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 15.0
WRITE_TIMEOUT = 10.0
POOL_TIMEOUT = 10.0
POLL_TIMEOUT = 30  # seconds the server may hold a getUpdates call
POLL_GRACE = 10.0  # on top of POLL_TIMEOUT before the client gives up
DEFAULT_RETRY_AFTER = 1.0
MAX_TEXT = 2000
_GONE_MARKERS = ("blocked", "not found", "not a member", "left", "kicked", "deactivated")


class ZaloBotError(Exception):
    """A Bot Platform call other than sendMessage failed; `code` is error_code or the status."""

    def __init__(self, code: int, description: str) -> None:
        super().__init__(f"Zalo Bot API error {code}: {description}")
        self.code, self.description = code, description


def classify(status: int, payload: dict[str, Any]) -> Result:
    """Map one sendMessage answer to a result."""
    code = int(payload.get("error_code") or status)
    description = str(payload.get("description") or f"HTTP {status}")
    if status == 200 and payload.get("ok"):
        result = payload.get("result") or {}
        return Result(Kind.SENT, message_id=str(result.get("message_id", "")))
    if code == 429:
        params = payload.get("parameters") or {}
        seconds = float(params.get("retry_after") or DEFAULT_RETRY_AFTER)
        return Result(Kind.RETRY_AFTER, reason=description, retry_after=seconds, code=code)
    if code == 403 or (code == 400 and any(m in description.lower() for m in _GONE_MARKERS)):
        return Result(Kind.GONE, reason=description, code=code)
    if code in (401, 404):  # the token is wrong: every send will fail the same way
        return Result(Kind.CONFIG, reason=description, code=code)
    if code >= 500 or code == 408:
        return Result(Kind.TEMPORARY, reason=description, code=code)
    return Result(Kind.PERMANENT, reason=description, code=code)


def _decode(response: httpx.Response) -> dict[str, Any]:
    try:
        payload = response.json()
    except (ValueError, json.JSONDecodeError):
        return {"ok": False, "description": f"HTTP {response.status_code} (not JSON)"}
    return payload if isinstance(payload, dict) else {"ok": False, "description": "not an object"}


class ZaloBotClient:
    """The Bot Platform methods this service uses; one pooled httpx client."""

    def __init__(
        self,
        *,
        token: str,
        api_url: str = "https://bot-api.zaloplatforms.com",
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._base = f"{api_url.rstrip('/')}/bot{token}/"
        timeout = httpx.Timeout(
            connect=CONNECT_TIMEOUT, read=READ_TIMEOUT, write=WRITE_TIMEOUT, pool=POOL_TIMEOUT
        )
        self._http = httpx.AsyncClient(timeout=timeout, transport=transport)

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def _post(
        self, method: str, body: dict[str, Any], limits: httpx.Timeout | None = None
    ) -> httpx.Response:
        kw: dict[str, Any] = {"json": body}
        if limits is not None:
            kw["timeout"] = limits
        return await self._http.post(self._base + method, **kw)

    async def call(self, method: str, body: dict[str, Any] | None = None) -> Any:
        """`result` of one call; raises ZaloBotError (never carrying the URL) on failure."""
        try:
            response = await self._post(method, body or {})
        except httpx.HTTPError as exc:
            raise ZaloBotError(0, reason_of(exc)) from None
        payload = _decode(response)
        if response.status_code != 200 or not payload.get("ok"):
            code = int(payload.get("error_code") or response.status_code)
            raise ZaloBotError(code, str(payload.get("description") or ""))
        return payload.get("result")

    async def get_me(self) -> dict[str, Any]:
        """The bot's own account."""
        return dict(await self.call("getMe"))

    async def get_updates(self, hold_seconds: int = POLL_TIMEOUT) -> dict[str, Any] | None:
        """One update, or None when the long poll ended with nothing (408)."""
        long = httpx.Timeout(
            connect=CONNECT_TIMEOUT,
            read=hold_seconds + POLL_GRACE,
            write=WRITE_TIMEOUT,
            pool=POOL_TIMEOUT,
        )
        try:
            response = await self._post("getUpdates", {"timeout": str(hold_seconds)}, long)
        except httpx.HTTPError as exc:
            raise ZaloBotError(0, reason_of(exc)) from None
        payload = _decode(response)
        code = int(payload.get("error_code") or response.status_code)
        if not payload.get("ok") and code == 408:
            return None
        if response.status_code != 200 or not payload.get("ok"):
            raise ZaloBotError(code, str(payload.get("description") or ""))
        result = payload.get("result")
        return result if isinstance(result, dict) and result else None

    async def set_webhook(self, url: str, secret_token: str) -> None:
        """Deliver updates to `url` with `secret_token` in X-Bot-Api-Secret-Token."""
        await self.call("setWebhook", {"url": url, "secret_token": secret_token})

    async def delete_webhook(self) -> None:
        """Back to getUpdates."""
        await self.call("deleteWebhook")

    async def get_webhook_info(self) -> dict[str, Any]:
        """The webhook Zalo holds for the bot."""
        return dict(await self.call("getWebhookInfo") or {})

    async def send_message(self, chat_id: str, text: str) -> Result:
        """Send one plain-text message (at most MAX_TEXT characters: split before)."""
        try:
            response = await self._post("sendMessage", {"chat_id": chat_id, "text": text})
        except httpx.HTTPError as exc:
            return transport_failure(exc)
        return classify(response.status_code, _decode(response))
