"""Sliding-window send limiter (pure: the caller passes the clock reading `now` in seconds).

One limiter is one account's budget. Replies to people (priority) and pushes share it:
while a person waits (a command being worked on, a reply waiting for its turn), pushes step
aside (at most YIELD_SHARE of the time); a reply waits only for the account's global window
and for pauses a 429 imposed, never behind queued pushes.
"""

from __future__ import annotations

import contextlib
import math
from collections import deque
from collections.abc import Callable, Iterator

# Spread windows a little wider than Telegram's so clock skew and network jitter between
# our send and the server's receive never squeeze N+1 requests into the server's window.
WINDOW_MARGIN = 0.03
GROUP_WINDOW = 60.0
GROUP_PER_WINDOW = 20
PRIVATE_INTERVAL = 1.0
YIELD_SECONDS = 0.02  # how long a push steps aside, then looks again, while a person waits
# Pushes step aside for people at most this share of the time, and at most YIELD_CREDIT
# seconds at a stretch, so a stream of commands slows a fan-out but never stops it.
YIELD_SHARE = 0.5
YIELD_CREDIT = 0.5
# Places in the global window pushes keep free while people are answered. With one, the
# second reply within a second (the first took it) waited for a push to leave the window:
# up to 1/rate, 33 ms at Telegram's 30/s. Two cost a fan-out 2 of its 30 places a second.
REPLY_PLACES = 2
# Idle chats are forgotten every PRUNE_SECONDS or PRUNE_SENDS sends, whichever comes first
# (by the count alone, a 10k-chat fan-out at 100/s kept up to 4,096 windows: 2.5 MB).
PRUNE_SECONDS = 5.0
PRUNE_SENDS = 4096


class Event:
    """One send: counted from `at`; while `open` (no answer yet) it counts as happening now."""

    __slots__ = ("at", "open")

    def __init__(self, at: float, *, open_: bool) -> None:
        self.at = at
        self.open = open_


class SlidingWindow:
    """At most `capacity` events in any window of `length` seconds.

    A send reaches the server somewhere between its start and its answer, so an open send
    counts as "now" and a finished one at its answer time: the server can then never see
    more than `capacity` arrivals in one window, whatever the network or event-loop delays.
    """

    def __init__(self, capacity: int, length: float) -> None:
        self.capacity = capacity
        self.length = length
        self.events: deque[Event] = deque()

    def _times(self, now: float) -> list[float]:
        cutoff = now - self.length
        if any(not e.open and e.at <= cutoff for e in self.events):
            self.events = deque(e for e in self.events if e.open or e.at > cutoff)
        return sorted(now if e.open else e.at for e in self.events)

    def wait(self, now: float, spare: int = 0) -> float:
        """Seconds until one more event fits (0 when it fits now), leaving `spare` places."""
        capacity = max(1, self.capacity - spare)
        times = self._times(now)
        if len(times) < capacity:
            return 0.0
        return max(0.0, times[-capacity] + self.length - now)

    def count(self, now: float) -> int:
        """How many recorded events still count."""
        return len(self._times(now))

    def add(self, now: float, *, open_: bool = False) -> Event:
        """Record an event at `now` (open: its send has not been answered yet)."""
        event = Event(now, open_=open_)
        self.events.append(event)
        return event

    def idle(self, now: float) -> bool:
        """True when no recorded event still counts."""
        return all(not e.open and e.at <= now - self.length for e in self.events)


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
        self._pruned_at, self._adds = 0.0, 0
        self._people = 0  # people waiting for an answer now
        self._credit, self._credit_at = YIELD_CREDIT, -math.inf  # seconds pushes may yield
        # Replies sent within the global window: while there are any, pushes leave places
        # free, so the next reply never waits for a window full of pushes (bunched up, they
        # held replies up to 0.3 s: bench_bot, commands during a fan-out).
        self._replies = SlidingWindow(self._global.capacity, self._global.length)

    def _window(self, chat: str, group: bool) -> SlidingWindow:
        window = self._chats.get(chat)
        if window is None:
            if group:
                window = SlidingWindow(*self._group)
            else:
                window = SlidingWindow(1, self._private_interval)
            self._chats[chat] = window
        return window

    def wait(self, chat: str, *, group: bool, now: float, priority: bool = False) -> float:
        """Seconds to wait before a send to `chat` is allowed (0 when allowed now).

        `priority` (a reply to a person): only the global window and 429 pauses apply; a
        push also yields while any reply is waiting.
        """
        spare = 0 if priority else self._spare(now)
        waits = [
            self._paused_all - now,
            self._paused_chat.get(chat, 0.0) - now,
            self._global.wait(now, spare),
        ]
        if not priority:
            waits.append(self._window(chat, group).wait(now))
            if self.yielding(now):
                waits.append(YIELD_SECONDS)
        return max(0.0, *waits)

    def _spare(self, now: float) -> int:
        """Places pushes leave free in the global window while people are being answered:
        REPLY_PLACES, so the next replies never wait for a push to leave a full window."""
        if self._people or (self._replies.events and self._replies.count(now)):
            return REPLY_PLACES
        return 0

    def yielding(self, now: float) -> bool:
        """True while pushes step aside for a person (within their share of the time)."""
        self._account(now)
        return bool(self._people) and self._credit > 0

    def person_waiting(self, now: float) -> None:
        """Someone waits for an answer from now on (pushes step aside until it is sent)."""
        self._account(now)
        self._people += 1

    def person_answered(self, now: float) -> None:
        """One waiting person has had the answer."""
        self._account(now)
        self._people = max(0, self._people - 1)

    @contextlib.contextmanager
    def answering(self, clock: Callable[[], float]) -> Iterator[None]:
        """A person waits for the length of the block (`clock` reads the time)."""
        self.person_waiting(clock())
        try:
            yield
        finally:
            self.person_answered(clock())

    def _account(self, now: float) -> None:
        """Spend the yield credit for the time pushes stood aside; earn YIELD_SHARE of the rest."""
        elapsed = max(0.0, now - self._credit_at)
        self._credit_at = now
        spent = elapsed if self._people and self._credit > 0 else 0.0
        self._credit = min(YIELD_CREDIT, self._credit + elapsed * YIELD_SHARE - spent)

    def try_acquire(self, chat: str, *, group: bool, now: float) -> float:
        """Record a send to `chat` and return 0 if allowed now, else the seconds to wait."""
        delay = self.wait(chat, group=group, now=now)
        if delay > 0:
            return delay
        self.begin(chat, group=group, now=now, open_=False)
        return 0.0

    def remember(self, chat: str, *, group: bool, at: float) -> None:
        """Count a send another process made at `at` (a restart inherits its budget)."""
        self._global.add(at)
        self._window(chat, group).add(at)

    def begin(
        self, chat: str, *, group: bool, now: float, open_: bool = True, reply: bool = False
    ) -> tuple[Event, Event]:
        """Count a send that starts now (call only when `wait` said 0); `finish` it later.

        `reply`: an answer to a person; pushes keep places free for the next ones."""
        if reply:
            self._replies.add(now)
        events = (
            self._global.add(now, open_=open_),
            self._window(chat, group).add(now, open_=open_),
        )
        self._adds += 1
        if self._adds >= PRUNE_SENDS or now - self._pruned_at >= PRUNE_SECONDS:
            self._pruned_at, self._adds = now, 0
            self._prune(now)
        return events

    @staticmethod
    def finish(ticket: tuple[Event, Event], *, now: float) -> None:
        """The send was answered at `now`: from here on it counts at that time."""
        for event in ticket:
            event.at, event.open = now, False

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
