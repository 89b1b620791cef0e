"""Incoming updates for the fake Bot API: realistic Update JSON, getUpdates, webhook delivery.

All methods of UpdateQueue run on the fake server's event loop (the fake schedules pushes
from test threads onto it).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.fakes.telegram_html import utf16_len
from tests.fakes.telegram_params import ApiError

FIRST_UPDATE_ID = 700_000_001
MAX_LIMIT = 100
WEBHOOK_TIMEOUT = 5.0  # seconds Telegram-like wait for the bot's webhook to answer
WEBHOOK_RETRY_FIRST = 0.05  # seconds; doubled after each failure up to WEBHOOK_RETRY_MAX
WEBHOOK_RETRY_MAX = 1.0
COMMAND_RE = re.compile(r"/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,64})?(?=\s|$)")
CONFLICT_WEBHOOK = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
CONFLICT_POLL = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)


def user_json(user_id: int, first_name: str, language_code: str | None) -> dict[str, Any]:
    """A human User object."""
    user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
    if language_code:
        user["language_code"] = language_code
    return user


def chat_json(chat_id: int | str, chat_type: str, first_name: str) -> dict[str, Any]:
    """A Chat object: private chats carry the user's name, groups a title."""
    if chat_type == "private":
        return {"id": chat_id, "type": "private", "first_name": first_name}
    return {"id": chat_id, "type": chat_type, "title": f"Group {chat_id}"}


def command_entities(text: str) -> list[dict[str, Any]]:
    """The bot_command entity Telegram adds when a message starts with a command."""
    m = COMMAND_RE.match(text)
    if not m:
        return []
    return [{"type": "bot_command", "offset": 0, "length": utf16_len(m.group(0))}]


@dataclass
class WebhookState:
    """What setWebhook configured, and how delivery went."""

    url: str = ""
    secret: str | None = None
    max_connections: int = 40
    allowed_updates: list[str] | None = None
    last_error_date: int | None = None
    last_error_message: str | None = None
    deliveries: list[tuple[int, int | str]] = field(default_factory=list)  # (update_id, status)


class UpdateQueue:
    """Pending updates served by getUpdates (long polling) or POSTed to a webhook."""

    def __init__(self, on_change: Callable[[], None] = lambda: None) -> None:
        self.on_change = on_change  # lets test threads wait for queue changes without sleeping
        self.polls_waiting = 0
        self.pending: list[dict[str, Any]] = []
        self.next_id = FIRST_UPDATE_ID
        self.webhook = WebhookState()
        self._changed = asyncio.Event()
        self._poll_generation = 0
        self._webhook_task: asyncio.Task[None] | None = None
        self._client: httpx.AsyncClient | None = None

    def _notify(self) -> None:
        old, self._changed = self._changed, asyncio.Event()
        old.set()
        self.on_change()

    def push(self, update: dict[str, Any]) -> dict[str, Any]:
        """Give the update its id and queue it; wakes a waiting getUpdates or the webhook."""
        update = {"update_id": self.next_id, **update}
        self.next_id += 1
        self.pending.append(update)
        self._notify()
        return update

    def _confirm(self, offset: int) -> None:
        if offset < 0:
            self.pending = self.pending[offset:]
        elif offset:
            self.pending = [u for u in self.pending if u["update_id"] >= offset]

    async def get_updates(self, offset: int, limit: int, wait: float) -> list[dict[str, Any]]:
        """Telegram's getUpdates: confirm below offset, then wait up to `wait` s for updates."""
        if self.webhook.url:
            raise ApiError(409, CONFLICT_WEBHOOK)
        self._confirm(offset)
        self._poll_generation += 1
        generation = self._poll_generation
        self._notify()  # an older poll still waiting gets 409, as on Telegram
        limit = min(max(limit, 1), MAX_LIMIT)
        deadline = time.monotonic() + max(wait, 0.0)
        while True:
            if generation != self._poll_generation:
                raise ApiError(409, CONFLICT_POLL)
            if self.webhook.url:
                raise ApiError(409, CONFLICT_WEBHOOK)
            if self.pending:
                return self.pending[:limit]
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return []
            self.polls_waiting += 1
            self.on_change()
            try:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), remaining)
            finally:
                self.polls_waiting -= 1

    def set_webhook(self, state: WebhookState, drop_pending: bool) -> None:
        """Switch to webhook delivery (state.url non-empty) or back to getUpdates."""
        state.deliveries = self.webhook.deliveries
        self.webhook = state
        if drop_pending:
            self.pending.clear()
        self._notify()
        if state.url and (self._webhook_task is None or self._webhook_task.done()):
            self._webhook_task = asyncio.get_running_loop().create_task(self._deliver_loop())

    async def _deliver_loop(self) -> None:
        self._client = self._client or httpx.AsyncClient(timeout=WEBHOOK_TIMEOUT)
        backoff = WEBHOOK_RETRY_FIRST
        while self.webhook.url:
            if not self.pending:
                await self._changed.wait()
                continue
            update = self.pending[0]
            status = await self._post(update)
            if isinstance(status, int) and 200 <= status < 300:
                if self.pending and self.pending[0] is update:
                    self.pending.pop(0)
                self.on_change()
                backoff = WEBHOOK_RETRY_FIRST
                continue
            self.webhook.last_error_date = int(time.time())
            self.webhook.last_error_message = (
                f"Wrong response from the webhook: {status}" if isinstance(status, int) else status
            )
            self.on_change()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), backoff)
            backoff = min(backoff * 2, WEBHOOK_RETRY_MAX)

    async def _post(self, update: dict[str, Any]) -> int | str:
        assert self._client is not None
        headers = {"Content-Type": "application/json"}
        if self.webhook.secret:
            headers["X-Telegram-Bot-Api-Secret-Token"] = self.webhook.secret
        try:
            resp = await self._client.post(self.webhook.url, json=update, headers=headers)
            result: int | str = resp.status_code
        except httpx.HTTPError as exc:
            result = f"Connection failed: {type(exc).__name__}"
        self.webhook.deliveries.append((update["update_id"], result))
        return result

    def webhook_info(self) -> dict[str, Any]:
        """getWebhookInfo's WebhookInfo object."""
        hook = self.webhook
        info: dict[str, Any] = {
            "url": hook.url,
            "has_custom_certificate": False,
            "pending_update_count": len(self.pending),
        }
        if hook.url:
            info["max_connections"] = hook.max_connections
            if hook.allowed_updates is not None:
                info["allowed_updates"] = hook.allowed_updates
        if hook.last_error_date is not None:
            info["last_error_date"] = hook.last_error_date
            info["last_error_message"] = hook.last_error_message
        return info

    async def close(self) -> None:
        """Stop webhook delivery and close its HTTP client."""
        self.webhook.url = ""
        self._notify()
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._webhook_task
        if self._client is not None:
            await self._client.aclose()
