"""Webhook checks: the OA's X-ZEvent-Signature and the bot platform's secret header.

OA: `X-ZEvent-Signature: mac=<hex sha256(app_id + raw body + timestamp + OA secret key)>`,
plain SHA-256 (not HMAC) over the raw body bytes, `timestamp` being the event's own field
(epoch milliseconds as a string). Compared in constant time; old events are refused.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

SIGNATURE_HEADER = "X-ZEvent-Signature"
BOT_SECRET_HEADER = "X-Bot-Api-Secret-Token"
MAX_EVENT_AGE_SECONDS = 600.0  # older signed events are replays (or came far too late)
MAX_CLOCK_SKEW_SECONDS = 120.0  # events "from the future" beyond this are refused too


def oa_mac(app_id: str, body: bytes, timestamp: str, oa_secret_key: str) -> str:
    """The hex digest Zalo puts after "mac=" for this body."""
    signed = app_id.encode() + body + timestamp.encode() + oa_secret_key.encode()
    return hashlib.sha256(signed).hexdigest()


class Verdict(StrEnum):
    """What the check decided."""

    OK = "ok"
    MISSING = "missing signature"
    MALFORMED = "malformed body"
    FORGED = "wrong signature"
    STALE = "stale timestamp"


@dataclass(frozen=True)
class Checked:
    """The verdict, and the decoded event when the body was JSON."""

    verdict: Verdict
    event: dict[str, Any] | None = None


def check_oa_event(
    *, header: str | None, body: bytes, app_id: str, oa_secret_key: str, now_ms: int
) -> Checked:
    """Verify one OA webhook request (raw body bytes, header value, the clock in epoch ms)."""
    if not header:
        return Checked(Verdict.MISSING)
    given = header.strip()
    given = given[4:] if given.lower().startswith("mac=") else given
    try:
        event = json.loads(body)
    except ValueError:
        return Checked(Verdict.MALFORMED)
    if not isinstance(event, dict):
        return Checked(Verdict.MALFORMED)
    timestamp = str(event.get("timestamp", ""))
    expected = oa_mac(app_id, body, timestamp, oa_secret_key)
    if not hmac.compare_digest(given.lower().encode(), expected.encode()):
        return Checked(Verdict.FORGED, event)
    if str(event.get("app_id", app_id)) != app_id or not timestamp.isdecimal():
        return Checked(Verdict.FORGED, event)
    age = (now_ms - int(timestamp)) / 1000
    if age > MAX_EVENT_AGE_SECONDS or age < -MAX_CLOCK_SKEW_SECONDS:
        return Checked(Verdict.STALE, event)
    return Checked(Verdict.OK, event)


def bot_secret_ok(given: str | None, secret: str | None) -> bool:
    """The bot platform's X-Bot-Api-Secret-Token, compared in constant time."""
    if not secret or given is None:
        return False
    return hmac.compare_digest(given.encode(), secret.encode())


def unwrap_bot_update(payload: Any) -> dict[str, Any] | None:
    """The update from a webhook body: either the update itself or {"ok": true, "result": ...}."""
    if not isinstance(payload, dict):
        return None
    if "result" in payload and "event_name" not in payload:
        inner = payload.get("result")
        return inner if isinstance(inner, dict) and payload.get("ok", True) else None
    return payload
