"""Who may change a group's settings: its administrators, asked of the platform, cached briefly."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

CACHE_SECONDS = 60.0  # a demoted admin keeps the right this long at most
MAX_CACHED = 10_000

# (chat id, user id) -> True for an administrator or the owner; raises when it cannot tell.
AskPlatform = Callable[[str, str], bool]


class GroupAdmins:
    """Answers "is this user an administrator of this group?", remembering answers briefly."""

    def __init__(
        self,
        ask: AskPlatform,
        *,
        ttl: float = CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ask, self._ttl, self._clock = ask, ttl, clock
        self._cache: dict[tuple[str, str], tuple[float, bool]] = {}
        self._lock = threading.Lock()

    def is_admin(self, chat_id: str, user_id: str) -> bool:
        """True for an administrator; False for a member or when the platform cannot say."""
        key, now = (chat_id, user_id), self._clock()
        with self._lock:
            cached = self._cache.get(key)
        if cached is not None and cached[0] > now:
            return cached[1]
        try:
            answer = bool(self._ask(chat_id, user_id))
        except Exception as exc:  # unknown: refuse now, ask again next time
            log.warning("group admin check for chat %s failed: %r", chat_id, exc)
            return False
        with self._lock:
            if len(self._cache) >= MAX_CACHED:
                self._cache.clear()
            self._cache[key] = (now + self._ttl, answer)
        return answer
