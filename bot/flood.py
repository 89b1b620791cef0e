"""Per-chat command rate limit: a token bucket; a flood gets one polite answer, then silence."""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass
from enum import Enum

# A person types a few commands in a row, then reads: allow a burst, then one every 2 s.
DEFAULT_BURST = 6
DEFAULT_PER_SECOND = 0.5
MAX_TRACKED_CHATS = 50_000  # bounds memory; the oldest idle chat is forgotten first


class Verdict(Enum):
    """ALLOW: do the work. WARN: answer politely once. DROP: ignore (still flooding)."""

    ALLOW = "allow"
    WARN = "warn"
    DROP = "drop"


@dataclass
class _Bucket:
    tokens: float
    at: float
    warned: bool = False


@dataclass(frozen=True)
class Decision:
    """The verdict, and how long until the next command would be allowed."""

    verdict: Verdict
    retry_after: float = 0.0

    @property
    def wait_seconds(self) -> int:
        """`retry_after` rounded up to whole seconds (at least 1)."""
        return max(1, math.ceil(self.retry_after))


class RateLimiter:
    """Token buckets keyed by chat; `now` is a monotonic time in seconds, passed in."""

    def __init__(
        self,
        *,
        burst: int = DEFAULT_BURST,
        per_second: float = DEFAULT_PER_SECOND,
        max_chats: int = MAX_TRACKED_CHATS,
    ) -> None:
        if burst < 1 or per_second <= 0:
            raise ValueError("burst must be >= 1 and per_second > 0")
        self.burst, self.per_second, self.max_chats = burst, per_second, max_chats
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def check(self, key: str, now: float) -> Decision:
        """Take one token for `key` if there is one."""
        bucket = self._buckets.pop(key, None)
        if bucket is None:
            bucket = _Bucket(tokens=float(self.burst), at=now)
        elapsed = max(0.0, now - bucket.at)
        bucket.tokens = min(float(self.burst), bucket.tokens + elapsed * self.per_second)
        bucket.at = now
        self._buckets[key] = bucket
        while len(self._buckets) > self.max_chats:
            self._buckets.popitem(last=False)
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            bucket.warned = False
            return Decision(Verdict.ALLOW)
        retry = (1.0 - bucket.tokens) / self.per_second
        if bucket.warned:
            return Decision(Verdict.DROP, retry)
        bucket.warned = True
        return Decision(Verdict.WARN, retry)
