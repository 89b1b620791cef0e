"""What one Zalo call came to, in the delivery core's terms (a closed set of kinds).

Result
├── SENT          accepted: message_id
├── RETRY_AFTER   rate limited (-32, HTTP 429): wait `retry_after` seconds
├── QUOTA         out of quota (-211): hold the Zalo queue until the quota resets
├── TEMPORARY     not delivered, safe to send again (5xx, connection refused)
├── AMBIGUOUS     the request left and no answer came: it may have arrived
├── GONE          this recipient cannot be reached (blocked, -213, -230): with the reason
├── TOKEN         the access token is invalid or expired (-216, -220): refresh, retry once
├── PERMANENT     this message was refused (bad parameters): resending cannot help
└── CONFIG        the channel is misconfigured (bad bot token, refresh failed for good)
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import httpx

from bot.logs import redact


class Kind(StrEnum):
    """The kinds above."""

    SENT = "sent"
    RETRY_AFTER = "retry_after"
    QUOTA = "quota"
    TEMPORARY = "temporary"
    AMBIGUOUS = "ambiguous"
    GONE = "gone"
    TOKEN = "token"
    PERMANENT = "permanent"
    CONFIG = "config"


@dataclass(frozen=True)
class Result:
    """One call's outcome; `code` is Zalo's error code when it gave one."""

    kind: Kind
    message_id: str = ""
    reason: str = ""
    retry_after: float = 0.0
    code: int | None = None

    @property
    def ok(self) -> bool:
        """True when the message went out."""
        return self.kind is Kind.SENT


def reason_of(exc: BaseException) -> str:
    """An exception as a short reason that can never carry a token."""
    return redact(f"{type(exc).__name__}: {exc}")[:300]


def transport_failure(exc: httpx.HTTPError) -> Result:
    """A failed exchange: before the request left it is safe to resend, after it is not."""
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        return Result(Kind.TEMPORARY, reason=reason_of(exc))
    return Result(Kind.AMBIGUOUS, reason=reason_of(exc))
