"""Telegram's sending limits for the fake Bot API, enforced over sliding windows.

A send is refused when accepting it would put more than the allowed number of accepted
messages into any window of the rule's length ending now (half-open: (now - window, now]).
Refused sends do not count. Windows are measured on the fake's own clock when requests arrive.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import deque
from collections.abc import Hashable, Iterable
from dataclasses import dataclass


@dataclass
class Limits:
    """Telegram's documented limits; change fields on `fake.limits` to tune a test."""

    enabled: bool = True
    global_per_second: int = 30  # across all chats
    private_per_second: int = 1  # one private chat
    private_burst: int = 1  # >1 allows that many at once, then on average private_per_second
    group_per_minute: int = 20  # one group or channel (negative or @username chat ids)
    slack: float = 0.0  # seconds taken off every window, for clients pacing on their own clock


@dataclass(frozen=True)
class Rule:
    """At most `count` accepted sends in any window of `window` seconds."""

    count: int
    window: float


def retry_after(times: deque[float], rule: Rule, now: float) -> int | None:
    """Whole seconds until one more send fits `rule`, or None if it fits now."""
    while times and times[0] <= now - rule.window:
        times.popleft()
    if len(times) < rule.count:
        return None
    frees_at = times[len(times) - rule.count] + rule.window
    return max(1, math.ceil(frees_at - now))


class RateLimiter:
    """Sliding-window counters: one global, one per chat."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self._global: deque[float] = deque()
        self._chats: dict[Hashable, deque[float]] = {}

    def rules(self, is_group: bool) -> tuple[Rule, Rule]:
        """(global rule, per-chat rule) for a private chat or a group."""
        lim = self.limits
        glob = Rule(lim.global_per_second, 1.0 - lim.slack)
        if is_group:
            return glob, Rule(lim.group_per_minute, 60.0 - lim.slack)
        burst = max(1, lim.private_burst)
        return glob, Rule(burst, burst / lim.private_per_second - lim.slack)

    def check(self, chat: Hashable, is_group: bool, now: float) -> int | None:
        """retry_after in seconds if a send to `chat` now would break a limit, else None."""
        if not self.limits.enabled:
            return None
        glob, per_chat = self.rules(is_group)
        waits = [
            retry_after(self._global, glob, now),
            retry_after(self._chats.setdefault(chat, deque()), per_chat, now),
        ]
        known = [w for w in waits if w is not None]
        return max(known) if known else None

    def accept(self, chat: Hashable, now: float) -> None:
        """Count an accepted send."""
        self._global.append(now)
        self._chats.setdefault(chat, deque()).append(now)

    def reset(self) -> None:
        """Forget every counted send."""
        self._global.clear()
        self._chats.clear()


def max_in_window(times: Iterable[float], window: float = 1.0) -> int:
    """The most timestamps found in any half-open window (t - window, t]."""
    ordered = sorted(times)
    best = 0
    for i, t in enumerate(ordered):
        # count of timestamps in (t - window, t]: indices after the last one <= t - window
        start = bisect_right(ordered, t - window)
        best = max(best, i + 1 - start)
    return best
