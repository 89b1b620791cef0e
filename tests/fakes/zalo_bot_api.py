"""A fake Zalo Bot Platform API over real HTTP on 127.0.0.1, strict about methods and fields.

    with FakeZaloBot() as fake:
        client = ZaloBotClient(token=fake.token, api_url=fake.url)
        fake.push_text("chat-1", "tin mới")          # the next getUpdates answers it
        await client.send_message("chat-1", "Xin chào")
        assert fake.texts_to("chat-1") == ["Xin chào"]

Paths are `/bot<TOKEN>/<method>` (another token: 401). Every call is checked against the
documented methods and their fields (unknown method: 404; unknown or missing field, wrong
type: 400). Answers are `{"ok": true, "result": ...}` or `{"ok": false, "error_code": N,
"description": ...}` with the HTTP status N. Rules:
- getUpdates (`timeout` seconds, a string or number) answers ONE update object, or 408
  after the timeout; 409 while a webhook is set. There is no offset: an update can come
  twice (`redeliver()`), so clients de-duplicate by message_id.
- setWebhook needs `url` (https, or http on 127.0.0.1) and `secret_token` of 8-256
  characters; `deliver()` then POSTs updates there with X-Bot-Api-Secret-Token.
- sendMessage: `chat_id` must be a chat that wrote to the bot (else 400 "chat not found"),
  not one that blocked it (403); `text` 1-2000 characters; limits per second overall and
  per chat (429 with parameters.retry_after, not recorded).
- `fail_next(method, code, description)` makes the next calls of a method fail on demand.
"""

from __future__ import annotations

import asyncio
import itertools
import queue
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from tests.fakes.httpserver import FakeHTTPServer, Request, Response

DEFAULT_TOKEN = "1234567890:fake-zalo-bot-token_AbC"
MAX_TEXT = 2000
# method -> {field: (types, required)}; the documented fields of each method.
METHODS: dict[str, dict[str, tuple[tuple[type, ...], bool]]] = {
    "getMe": {},
    "getUpdates": {"timeout": ((str, int), False)},
    "setWebhook": {"url": ((str,), True), "secret_token": ((str,), True)},
    "deleteWebhook": {},
    "getWebhookInfo": {},
    "sendMessage": {"chat_id": ((str,), True), "text": ((str,), True)},
    "sendPhoto": {"chat_id": ((str,), True), "photo": ((str,), True), "caption": ((str,), False)},
    "sendSticker": {"chat_id": ((str,), True), "sticker": ((str,), True)},
    "sendChatAction": {"chat_id": ((str,), True), "action": ((str,), True)},
}
CHAT_ACTIONS = {"typing", "upload_photo"}
POLL_NAP = 0.01  # seconds between looks at the update queue during a long poll


@dataclass(frozen=True)
class Limits:
    """Messages a second overall and to one chat (the fake's enforced pace)."""

    global_per_second: float = 30.0
    chat_per_second: float = 5.0


@dataclass(frozen=True)
class Sent:
    """One accepted sendMessage."""

    chat_id: str
    text: str
    message_id: str
    at: float


class _Window:
    """Sliding one-second windows: how many sends fit, overall and per chat."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.all: deque[float] = deque()
        self.chats: dict[str, deque[float]] = defaultdict(deque)

    def admit(self, chat_id: str, limits: Limits) -> float:
        """0 when the send may go now, else the seconds to wait."""
        now = self.clock()
        for q in (self.all, self.chats[chat_id]):
            while q and now - q[0] >= 1.0:
                q.popleft()
        for q, cap in (
            (self.all, limits.global_per_second),
            (self.chats[chat_id], limits.chat_per_second),
        ):
            if len(q) >= cap:
                return max(0.001, 1.0 - (now - q[0]))
        self.all.append(now)
        self.chats[chat_id].append(now)
        return 0.0


class FakeZaloBot:
    """The fake server; see the module docstring."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        limits: Limits | None = None,
        clock: Callable[[], float] = time.monotonic,
        wrap_webhook: bool = False,
    ) -> None:
        self.token = token
        self.limits = limits or Limits()
        self.server = FakeHTTPServer()
        self.sent: list[Sent] = []
        self.rejected: list[tuple[str, int, str]] = []  # (method, code, description)
        self.known_chats: set[str] = set()
        self.blocked: set[str] = set()
        self.webhook: dict[str, str] | None = None
        self.wrap_webhook = wrap_webhook  # webhook bodies as {"ok": true, "result": update}
        self._updates: queue.Queue[dict[str, Any]] = queue.Queue()
        self._delivered: list[dict[str, Any]] = []
        self._faults: dict[str, deque[tuple[int, str]]] = defaultdict(deque)
        self._window = _Window(clock)
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._sent_cond = threading.Condition(self._lock)

    # -- life cycle ----------------------------------------------------------------------
    @property
    def url(self) -> str:
        """The API root (ZALO_BOT_API_URL)."""
        return self.server.url("").rstrip("/")

    def start(self) -> FakeZaloBot:
        """Start serving."""
        self.server.start()
        for method in METHODS:
            self.server.route_fn(f"/bot{self.token}/{method}", self._handler(method))
        return self

    def stop(self) -> None:
        """Stop serving."""
        self.server.stop()

    def __enter__(self) -> FakeZaloBot:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- test controls -------------------------------------------------------------------
    def update(
        self,
        chat_id: str,
        text: str,
        *,
        user_id: str | None = None,
        chat_type: str = "PRIVATE",
        message_id: str | None = None,
    ) -> dict[str, Any]:
        """A message.text.received update in the documented shape (the chat becomes known)."""
        self.known_chats.add(chat_id)
        return {
            "event_name": "message.text.received",
            "message": {
                "message_id": message_id or f"msg-{next(self._ids)}",
                "from": {"id": user_id or chat_id, "display_name": "Cán bộ", "is_bot": False},
                "chat": {"id": chat_id, "chat_type": chat_type},
                "date": int(time.time() * 1000),
                "text": text,
            },
        }

    def push_text(self, chat_id: str, text: str, **kw: Any) -> dict[str, Any]:
        """Queue an update for getUpdates."""
        upd = self.update(chat_id, text, **kw)
        self._updates.put(upd)
        return upd

    def redeliver(self, upd: dict[str, Any]) -> None:
        """Queue an update again (getUpdates has no offset: this happens)."""
        self._updates.put(upd)

    def deliver(self, upd: dict[str, Any]) -> httpx.Response:
        """POST an update to the webhook, as Zalo does (blocking)."""
        assert self.webhook is not None, "no webhook set"
        body = {"ok": True, "result": upd} if self.wrap_webhook else upd
        headers = {"X-Bot-Api-Secret-Token": self.webhook["secret_token"]}
        return httpx.post(self.webhook["url"], json=body, headers=headers, timeout=10)

    def fail_next(self, method: str, code: int, description: str = "", times: int = 1) -> None:
        """The next `times` calls of `method` answer error `code`."""
        for _ in range(times):
            self._faults[method].append((code, description or f"error {code}"))

    def block(self, chat_id: str) -> None:
        """The user blocked the bot: sends answer 403."""
        self.blocked.add(chat_id)

    def texts_to(self, chat_id: str) -> list[str]:
        """Texts accepted for a chat, in order."""
        with self._lock:
            return [s.text for s in self.sent if s.chat_id == chat_id]

    def wait_for_sent(self, count: int, timeout: float = 10.0) -> bool:
        """Block until `count` messages were accepted."""
        with self._sent_cond:
            return self._sent_cond.wait_for(lambda: len(self.sent) >= count, timeout)

    # -- the API ---------------------------------------------------------------------------
    def _handler(self, method: str) -> Callable[[Request], Any]:
        async def handle(req: Request) -> Response:
            try:
                params = self._params(req)
                self._check(method, params)
                fault = self._faults[method].popleft() if self._faults[method] else None
                if fault is not None:
                    raise ApiError(*fault)
                result = await self._run(method, params)
            except ApiError as err:
                self.rejected.append((method, err.code, err.description))
                payload: dict[str, Any] = {"ok": False, "error_code": err.code,
                                           "description": err.description}  # fmt: skip
                if err.retry_after:
                    payload["parameters"] = {"retry_after": err.retry_after}
                return Response.json(payload, status=err.code)
            return Response.json({"ok": True, "result": result})

        return handle

    @staticmethod
    def _params(req: Request) -> dict[str, Any]:
        if req.method not in ("GET", "POST"):
            raise ApiError(405, "Method Not Allowed")
        if not req.body:
            return dict(req.query)
        if "json" not in req.headers.get("content-type", ""):
            raise ApiError(400, "Bad Request: body must be JSON")
        try:
            params = req.json()
        except ValueError:
            raise ApiError(400, "Bad Request: malformed JSON") from None
        if not isinstance(params, dict):
            raise ApiError(400, "Bad Request: body must be an object")
        return params

    @staticmethod
    def _check(method: str, params: dict[str, Any]) -> None:
        fields = METHODS[method]
        for name, value in params.items():
            if name not in fields:
                raise ApiError(400, f"Bad Request: unknown parameter {name}")
            if not isinstance(value, fields[name][0]) or isinstance(value, bool):
                raise ApiError(400, f"Bad Request: wrong type of {name}")
        for name, (_types, required) in fields.items():
            if required and params.get(name) in (None, ""):
                raise ApiError(400, f"Bad Request: {name} is empty")

    async def _run(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            bot_id = self.token.split(":")[0]
            return {"id": bot_id, "account_name": "bot.fake", "account_type": "BASIC"}
        if method == "getUpdates":
            return await self._get_updates(params)
        if method == "setWebhook":
            return self._set_webhook(params)
        if method == "deleteWebhook":
            self.webhook = None
            return {"url": "", "updated_at": int(time.time() * 1000)}
        if method == "getWebhookInfo":
            hook = self.webhook or {}
            return {"url": hook.get("url", ""), "updated_at": int(time.time() * 1000)}
        if method == "sendChatAction":
            if params["action"] not in CHAT_ACTIONS:
                raise ApiError(400, "Bad Request: unknown action")
            self._recipient(params["chat_id"])
            return {}
        if method == "sendMessage":
            return self._send(params)
        raise ApiError(400, f"Bad Request: {method} is not supported by the fake")

    async def _get_updates(self, params: dict[str, Any]) -> dict[str, Any]:
        if self.webhook is not None:
            raise ApiError(409, "Conflict: a webhook is set")
        try:
            hold = min(float(params.get("timeout", 30)), 60.0)
        except ValueError:
            raise ApiError(400, "Bad Request: timeout must be a number") from None
        deadline = time.monotonic() + hold
        while True:  # short naps on the server's loop: a stopped server never hangs a thread
            try:
                upd = self._updates.get_nowait()
            except queue.Empty:
                if time.monotonic() >= deadline:
                    raise ApiError(408, "Request timeout") from None
                await asyncio.sleep(POLL_NAP)
                continue
            self._delivered.append(upd)
            return upd

    def _set_webhook(self, params: dict[str, Any]) -> dict[str, Any]:
        url, secret = params["url"], params["secret_token"]
        parts = urlsplit(url)
        if not (
            parts.scheme == "https" or (parts.scheme == "http" and parts.hostname == "127.0.0.1")
        ):
            raise ApiError(400, "Bad Request: url must be https")
        if not 8 <= len(secret) <= 256:
            raise ApiError(400, "Bad Request: secret_token must have 8-256 characters")
        self.webhook = {"url": url, "secret_token": secret}
        return {"url": url, "updated_at": int(time.time() * 1000)}

    def _recipient(self, chat_id: str) -> None:
        if chat_id in self.blocked:
            raise ApiError(403, "Forbidden: the user blocked the bot")
        if chat_id not in self.known_chats:
            raise ApiError(400, "Bad Request: chat not found")

    def _send(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id, text = params["chat_id"], params["text"]
        self._recipient(chat_id)
        if not 1 <= len(text) <= MAX_TEXT:
            raise ApiError(400, f"Bad Request: text must have 1-{MAX_TEXT} characters")
        with self._sent_cond:
            wait = self._window.admit(chat_id, self.limits)
            if wait:
                raise ApiError(429, "Too Many Requests", retry_after=max(1, round(wait)))
            sent = Sent(chat_id, text, f"zm-{next(self._ids)}", time.monotonic())
            self.sent.append(sent)
            self._sent_cond.notify_all()
        return {"message_id": sent.message_id, "date": int(time.time() * 1000)}


class ApiError(Exception):
    """An error answer of the fake."""

    def __init__(self, code: int, description: str, retry_after: int = 0) -> None:
        super().__init__(description)
        self.code, self.description, self.retry_after = code, description, retry_after
