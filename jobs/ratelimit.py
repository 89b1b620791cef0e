"""Sliding-window send limiter (pure: the caller passes the clock reading `now` in seconds)."""

from __future__ import annotations

import math
from collections import deque

# Spread windows a little wider than Telegram's so clock skew and network jitter between
# our send and the server's receive never squeeze N+1 requests into the server's window.
WINDOW_MARGIN = 0.03
GROUP_WINDOW = 60.0
GROUP_PER_WINDOW = 20
PRIVATE_INTERVAL = 1.0
_PRUNE_EVERY = 4096


class SlidingWindow:
    """At most `capacity` events in any window of `length` seconds."""

    def __init__(self, capacity: int, length: float) -> None:
        self.capacity = capacity
        self.length = length
        self.events: deque[float] = deque()

    def wait(self, now: float) -> float:
        """Seconds until one more event fits (0 when it fits now)."""
        while self.events and self.events[0] <= now - self.length:
            self.events.popleft()
        if len(self.events) < self.capacity:
            return 0.0
        return self.events[-self.capacity] + self.length - now

    def add(self, now: float) -> None:
        """Record an event at `now`."""
        self.events.append(now)

    def idle(self, now: float) -> bool:
        """True when no recorded event still counts."""
        return not self.events or self.events[-1] <= now - self.length


class RateLimiter:
    """Global N/s, one per second per private chat, 20 per minute per group, in any window."""

    def __init__(
        self,
        *,
        global_rate: float,
        private_interval: float = PRIVATE_INTERVAL,
        group_per_minute: int = GROUP_PER_WINDOW,
        margin: float = WINDOW_MARGIN,
    ) -> None:
        if global_rate <= 0:
            raise ValueError("global_rate must be positive")
        if global_rate >= 1:
            self._global = SlidingWindow(math.floor(global_rate), 1.0 + margin)
        else:
            self._global = SlidingWindow(1, 1.0 / global_rate + margin)
        self._private_interval = private_interval + margin
        self._group = (group_per_minute, GROUP_WINDOW + margin)
        self._chats: dict[str, SlidingWindow] = {}
        self._paused_chat: dict[str, float] = {}
        self._paused_all = 0.0
        self._adds = 0

    def _window(self, chat: str, group: bool) -> SlidingWindow:
        window = self._chats.get(chat)
        if window is None:
            if group:
                window = SlidingWindow(*self._group)
            else:
                window = SlidingWindow(1, self._private_interval)
            self._chats[chat] = window
        return window

    def wait(self, chat: str, *, group: bool, now: float) -> float:
        """Seconds to wait before a send to `chat` is allowed (0 when allowed now)."""
        waits = [
            self._paused_all - now,
            self._paused_chat.get(chat, 0.0) - now,
            self._global.wait(now),
            self._window(chat, group).wait(now),
        ]
        return max(0.0, *waits)

    def try_acquire(self, chat: str, *, group: bool, now: float) -> float:
        """Record a send to `chat` and return 0 if allowed now, else the seconds to wait."""
        delay = self.wait(chat, group=group, now=now)
        if delay > 0:
            return delay
        self._global.add(now)
        self._window(chat, group).add(now)
        self._adds += 1
        if self._adds % _PRUNE_EVERY == 0:
            self._prune(now)
        return 0.0

    def pause_chat(self, chat: str, until: float) -> None:
        """No send to `chat` before `until` (a 429 for that chat)."""
        self._paused_chat[chat] = max(until, self._paused_chat.get(chat, 0.0))

    def pause_all(self, until: float) -> None:
        """No send at all before `until` (a global flood 429)."""
        self._paused_all = max(until, self._paused_all)

    def _prune(self, now: float) -> None:
        """Forget idle chats so a fan-out to many chats keeps memory flat."""
        self._chats = {k: w for k, w in self._chats.items() if not w.idle(now)}
        self._paused_chat = {k: t for k, t in self._paused_chat.items() if t > now}

    def tracked_chats(self) -> int:
        """How many chats the limiter currently remembers (for tests of pruning)."""
        return len(self._chats)
