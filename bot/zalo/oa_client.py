"""Zalo Official Account Open API: `message/cs` text sends, and OAuth v4 token refresh.

Zalo answers HTTP 200 with `{"error": 0, "message": "Success", "data": {"message_id": ...}}`
or a negative `error`: -216 invalid / -220 expired token, -230 outside the 7-day interaction
window, -213 not a follower, -32 rate limited, -211 out of quota, -201 bad parameters.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx

from bot.zalo.results import Kind, Result, reason_of, transport_failure

CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 15.0
WRITE_TIMEOUT = 10.0
POOL_TIMEOUT = 10.0
MAX_TEXT = 2000
MAX_BUTTONS = 5
MAX_BUTTON_TITLE = 100
MAX_BUTTON_PAYLOAD = 1000
RATE_LIMIT_BACKOFF = 5.0  # seconds after -32; Zalo gives no retry_after
SEND_PATH = "/v3.0/oa/message/cs"
TOKEN_PATH = "/v4/oa/access_token"

TOKEN_CODES = (-216, -220)
UNREACHABLE_CODES = {-230: "outside the 7-day interaction window", -213: "not following the OA"}
RATE_LIMITED = -32
OUT_OF_QUOTA = -211


def classify(status: int, payload: dict[str, Any]) -> Result:
    """Map one message/cs answer to a result."""
    if status >= 500:
        return Result(Kind.TEMPORARY, reason=f"HTTP {status}")
    try:
        code = int(payload.get("error", -1))
    except (TypeError, ValueError):
        code = -1
    message = str(payload.get("message") or f"HTTP {status}")[:300]
    if status == 200 and code == 0:
        data = payload.get("data") or {}
        return Result(Kind.SENT, message_id=str(data.get("message_id", "")), code=0)
    if code in TOKEN_CODES:
        return Result(Kind.TOKEN, reason=message, code=code)
    if code in UNREACHABLE_CODES:
        why = f"zalo {code}: {UNREACHABLE_CODES[code]}"
        return Result(Kind.GONE, reason=why, code=code)
    if code == RATE_LIMITED:
        return Result(Kind.RETRY_AFTER, reason=message, retry_after=RATE_LIMIT_BACKOFF, code=code)
    if code == OUT_OF_QUOTA:
        return Result(Kind.QUOTA, reason=f"zalo {code}: out of quota", code=code)
    return Result(Kind.PERMANENT, reason=f"zalo {code}: {message}", code=code)


def _decode(response: httpx.Response) -> dict[str, Any]:
    try:
        payload = response.json()
    except (ValueError, json.JSONDecodeError):
        return {"error": -1, "message": f"HTTP {response.status_code} (not JSON)"}
    return payload if isinstance(payload, dict) else {"error": -1, "message": "not an object"}


def _timeout() -> httpx.Timeout:
    return httpx.Timeout(
        connect=CONNECT_TIMEOUT, read=READ_TIMEOUT, write=WRITE_TIMEOUT, pool=POOL_TIMEOUT
    )


@dataclass(frozen=True)
class OAButton:
    """A button whose press comes back to the webhook as the user's message `payload`."""

    title: str
    payload: str


def message_body(user_id: str, text: str, buttons: list[OAButton] | None = None) -> dict[str, Any]:
    """The message/cs JSON body; buttons use `oa.query.hide` (the press returns as text)."""
    message: dict[str, Any] = {"text": text}
    if buttons:
        message["attachment"] = {
            "type": "template",
            "payload": {
                "buttons": [
                    {"title": b.title, "type": "oa.query.hide", "payload": b.payload}
                    for b in buttons
                ]
            },
        }
    return {"recipient": {"user_id": user_id}, "message": message}


class ZaloOAClient:
    """Sends consultation (cs) messages with the access token given per call."""

    def __init__(
        self,
        *,
        api_url: str = "https://openapi.zalo.me",
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._url = api_url.rstrip("/") + SEND_PATH
        self._http = httpx.AsyncClient(timeout=_timeout(), transport=transport)

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def send_text(
        self,
        access_token: str,
        user_id: str,
        text: str,
        buttons: list[OAButton] | None = None,
    ) -> Result:
        """One text message (at most MAX_TEXT characters: split before)."""
        body = message_body(user_id, text, buttons)
        try:
            response = await self._http.post(
                self._url, json=body, headers={"access_token": access_token}
            )
        except httpx.HTTPError as exc:
            return transport_failure(exc)
        return classify(response.status_code, _decode(response))


@dataclass(frozen=True)
class Issued:
    """A new token pair from OAuth v4."""

    access_token: str
    refresh_token: str
    expires_in: int  # seconds


class RefreshRefused(Exception):
    """Zalo refused the refresh (spent or expired refresh token, wrong app or secret): alarm."""


class RefreshUnavailable(Exception):
    """The refresh did not happen (network, 5xx): try again later with the same token."""


def refresh_tokens(
    http: httpx.Client, *, oauth_url: str, app_id: str, app_secret: str, refresh_token: str
) -> Issued:
    """Trade a refresh token for a new pair (form body; the app secret in `secret_key`)."""
    try:
        response = http.post(
            oauth_url.rstrip("/") + TOKEN_PATH,
            data={"refresh_token": refresh_token, "app_id": app_id, "grant_type": "refresh_token"},
            headers={"secret_key": app_secret},
        )
    except httpx.HTTPError as exc:
        raise RefreshUnavailable(reason_of(exc)) from None
    if response.status_code >= 500:
        raise RefreshUnavailable(f"HTTP {response.status_code}")
    payload = _decode(response)
    if payload.get("access_token") and payload.get("refresh_token"):
        try:
            expires_in = int(str(payload.get("expires_in", "0")))  # Zalo sends a string
        except ValueError:
            expires_in = 0
        return Issued(str(payload["access_token"]), str(payload["refresh_token"]), expires_in)
    error = payload.get("error")
    detail = payload.get("error_description") or payload.get("error_name") or payload.get("message")
    raise RefreshRefused(f"zalo oauth {error}: {str(detail or 'no token in the answer')[:200]}")
