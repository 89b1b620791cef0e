"""The OA access token: read from the database, refreshed before expiry or when Zalo refuses it.

The refresh runs in a worker thread holding the database refresh lock (storage.zalo_tokens)
for the whole exchange, so a second refresher (thread, task or replica) waits, then finds
the new pair and uses it instead of spending the refresh token again.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

import httpx
from sqlalchemy.engine import Engine

from bot.zalo.oa_client import RefreshRefused, refresh_tokens
from storage import zalo_tokens
from storage.db import session_scope
from storage.types import utcnow

log = logging.getLogger(__name__)

REFRESH_MARGIN_SECONDS = 600.0  # refresh this long before the access token expires
REFRESH_HTTP_TIMEOUT = 15.0


class ConfigurationAlarm(Exception):
    """The OA channel cannot get a token until an admin fixes its configuration."""


class TokenKeeper:
    """Hands out a valid OA access token; see the module docstring."""

    def __init__(
        self,
        engine: Engine,
        *,
        app_id: str,
        app_secret: str,
        oauth_url: str,
        first_refresh_token: str | None = None,
        clock: Callable[[], datetime] = utcnow,
        margin_seconds: float = REFRESH_MARGIN_SECONDS,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.engine, self.app_id, self.clock = engine, app_id, clock
        self._secret, self._oauth_url, self._first = app_secret, oauth_url, first_refresh_token
        self.margin = margin_seconds
        self._transport = transport
        self._mutex = threading.Lock()  # one refresher per process; the database lock does the rest
        self.refreshes = 0  # exchanges this process made (for tests and /stats)
        self._cached: zalo_tokens.TokenPair | None = None  # saves a query per message

    def seed(self) -> None:
        """Store ZALO_REFRESH_TOKEN unless the database already knows it."""
        if not self._first:
            return
        with session_scope(self.engine) as session:
            if zalo_tokens.seed(
                session, app_id=self.app_id, refresh_token=self._first, now=self.clock()
            ):
                log.info("Zalo OA: stored the configured refresh token")

    def alarm(self) -> str | None:
        """Why the channel cannot send (a refresh failed for good), or None."""
        with session_scope(self.engine) as session:
            pair = zalo_tokens.live(session, app_id=self.app_id)
        if pair is None:
            return "no Zalo OA refresh token: set ZALO_REFRESH_TOKEN"
        return pair.failure

    def current_sync(self) -> str:
        """A valid access token (blocking)."""
        cached = self._cached
        if cached is not None and cached.fresh(self.clock(), self.margin):
            assert cached.access_token is not None
            return cached.access_token
        with session_scope(self.engine) as session:
            pair = zalo_tokens.live(session, app_id=self.app_id)
        if pair is not None and pair.failure is None and pair.fresh(self.clock(), self.margin):
            assert pair.access_token is not None
            self._cached = pair
            return pair.access_token
        return self.refresh_sync(stale=pair.access_token if pair is not None else None)

    def refresh_sync(self, *, stale: str | None) -> str:
        """A new access token unless someone already replaced `stale` (blocking)."""
        refused: str | None = None
        self._cached = None
        with self._mutex, zalo_tokens.refresh_lock(self.engine, app_id=self.app_id) as txn:
            pair = txn.current()
            if pair is None:
                raise ConfigurationAlarm("no Zalo OA refresh token: set ZALO_REFRESH_TOKEN")
            if pair.failure:
                raise ConfigurationAlarm(pair.failure)
            now = self.clock()
            if pair.access_token and pair.access_token != stale and pair.fresh(now, self.margin):
                self._cached = pair
                return pair.access_token  # another refresher got there first
            try:
                with httpx.Client(timeout=REFRESH_HTTP_TIMEOUT, transport=self._transport) as http:
                    issued = refresh_tokens(
                        http,
                        oauth_url=self._oauth_url,
                        app_id=self.app_id,
                        app_secret=self._secret,
                        refresh_token=pair.refresh_token,
                    )
            except RefreshRefused as exc:
                refused = str(exc)
                txn.fail(token_id=pair.id, reason=refused)  # committed when the lock ends
            else:
                new = txn.rotate(
                    old_id=pair.id,
                    access_token=issued.access_token,
                    refresh_token=issued.refresh_token,
                    expires_at=now + timedelta(seconds=issued.expires_in),
                    now=now,
                )
                self.refreshes += 1
        if refused is not None:
            log.error("Zalo OA token refresh refused for good: %s", refused)
            raise ConfigurationAlarm(refused)
        assert new.access_token is not None
        self._cached = new
        log.info("Zalo OA: access token refreshed (valid until %s)", new.expires_at)
        return new.access_token

    async def access_token(self) -> str:
        """A valid access token."""
        return await asyncio.to_thread(self.current_sync)

    async def refresh(self, *, stale: str | None) -> str:
        """A token other than `stale` (after Zalo answered -216 or -220)."""
        return await asyncio.to_thread(self.refresh_sync, stale=stale)
