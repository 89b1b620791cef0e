"""A fake Telegram Bot API over real HTTP on 127.0.0.1, checked against the Bot API 10.1 facts.

    with FakeTelegram() as fake:                       # or fake.start() ... fake.stop()
        bot = telegram.Bot(fake.token, base_url=fake.base_url)   # PTB adds <token>/<method>
        # ApplicationBuilder().token(fake.token).base_url(fake.base_url); TELEGRAM_API_URL=fake.url
        await bot.send_message(42, "<b>Xin chào</b>", parse_mode="HTML")
        await fake.wait_for_messages_async(1)          # or fake.wait_for_messages(1) in sync code
        assert fake.messages_to(42)[0].plain_text == "Xin chào"

Each call is checked in order: token (malformed -> 404, unknown -> 401 Unauthorized), method
(unknown -> 404 Not Found; names case-insensitive), parameters from the query string, JSON,
form or multipart body (required -> 400 "<field> is empty", types, JSON-serialized objects
against the spec's types), injected faults, then the method's own rules:
- sendMessage (and other send*/copy/forward): HTML per telegram_html, 1-4096 UTF-16 units,
  inline keyboards (callback_data 1-64 bytes -> BUTTON_DATA_INVALID), reply_parameters,
  chat checks (known_chats -> 400 "chat not found", block() -> 403), Telegram's limits
  (telegram_limits; 429 with retry_after, not recorded), then recorded in `sent`;
- editMessageText/editMessageReplyMarkup ("not found", "not modified"), deleteMessage,
  answerCallbackQuery (only ids from push_callback, once), setMyCommands/getMyCommands/
  deleteMyCommands (command [a-z0-9_]{1,32}, description 1-256, 2-letter language_code),
  getMe, getUpdates (offset/limit/timeout long poll; a newer poll ends an older one with 409;
  409 while a webhook is set), setWebhook (https, or http on 127.0.0.1; secret_token
  [A-Za-z0-9_-]{1,256}; updates then POSTed one at a time with X-Telegram-Bot-Api-Secret-Token),
  deleteWebhook, getWebhookInfo, sendChatAction (known actions);
- every other spec method answers {"ok":true,"result":true} once its parameters pass (so a
  method returning an object, e.g. getChat, is not faithfully faked).
Faults (fail_next/delay_next/drop_next) apply to the next calls of one method (sendMessage by
default; method=None for any), in the order they were asked for. Readers and waits: Recorded.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

import httpx

from tests.fakes.telegram_faults import Fault, FaultQueue, server_error
from tests.fakes.telegram_http import Request, Response, ThreadedHttpServer
from tests.fakes.telegram_limits import Limits
from tests.fakes.telegram_methods import BotState
from tests.fakes.telegram_params import ApiError, check_call, decode_params, methods_by_lower
from tests.fakes.telegram_records import DEFAULT_WAIT, Recorded, SentMessage
from tests.fakes.telegram_updates import chat_json, command_entities, user_json

DEFAULT_TOKEN = "123456:TEST-fake-token-for-the-portal-bot"
TOKEN_RE = re.compile(r"\d{1,20}:[A-Za-z0-9_-]{1,64}")
CLIENT_TIMEOUT = 10.0  # seconds, for call_api
PATH_RE = re.compile(r"/bot([^/]*)/([A-Za-z0-9_]+)/?")

__all__ = ["DEFAULT_TOKEN", "FakeTelegram", "Limits", "SentMessage"]


def _json(status: int, payload: dict[str, Any]) -> Response:
    return Response(status, json.dumps(payload, ensure_ascii=False).encode("utf-8"))


class FakeTelegram(Recorded):
    """The fake Bot API server; see the module docstring, Recorded (readers) and below."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        username: str = "fake_portal_bot",
        limits: Limits | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not TOKEN_RE.fullmatch(token):
            raise ValueError("a bot token looks like 123456:ABC...")
        self.token = token
        self.tokens = {token}  # tokens the fake accepts; others get 401
        self.state = BotState(token, username, clock)
        if limits is not None:
            self.state.limits = self.state.limiter.limits = limits
        self.calls: list[tuple[str, int]] = []  # (method, HTTP status) of every call
        self.faults = FaultQueue()
        self._client: httpx.Client | None = None
        self._queries = 0  # callback queries issued
        self._server = ThreadedHttpServer(self._handle)

    # ----- lifecycle -----------------------------------------------------------------------
    def start(self) -> FakeTelegram:
        """Listen on 127.0.0.1:<random port>."""
        self._server.start()
        return self

    def call_api(self, method: str, **params: Any) -> httpx.Response:
        """One raw Bot API call with a JSON body over a keep-alive client (for tests)."""
        if self._client is None:
            self._client = httpx.Client(timeout=CLIENT_TIMEOUT)
        return self._client.post(f"{self.base_url}{self.token}/{method}", json=params)

    def stop(self) -> None:
        """Stop webhook delivery, close every connection, stop the thread."""
        if self._client is not None:
            self._client.close()
            self._client = None
        loop = self._server.loop
        if self._server.port and loop is not None and not loop.is_closed():
            try:
                self._server.run(self.state.updates.close(), DEFAULT_WAIT)
            finally:
                self._server.stop()

    def __enter__(self) -> FakeTelegram:
        return self.start()

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The Bot API root, like https://api.telegram.org (TELEGRAM_API_URL)."""
        return self._server.url

    @property
    def base_url(self) -> str:
        """For python-telegram-bot: Bot(token, base_url=fake.base_url)."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        """For python-telegram-bot: Bot(token, base_file_url=fake.base_file_url)."""
        return f"{self.url}/file/bot"

    @property
    def errors(self) -> list[str]:
        """Tracebacks of crashes inside the fake (a test can assert there are none)."""
        return self._server.errors

    # ----- configuration ------------------------------------------------------------------
    @property
    def limits(self) -> Limits:
        """Telegram's sending limits as enforced now; mutate fields to tune a test."""
        return self.state.limits

    @property
    def known_chats(self) -> set[int | str] | None:
        """Chats that exist (None: every chat exists); others get 400 "chat not found"."""
        return self.state.known_chats

    @known_chats.setter
    def known_chats(self, chats: set[int | str] | None) -> None:
        self.state.known_chats = None if chats is None else set(chats)

    # ----- updates from users ---------------------------------------------------------------
    def push_message(
        self,
        chat_id: int,
        text: str,
        *,
        user_id: int | None = None,
        language_code: str | None = "vi",
        chat_type: str | None = None,
        first_name: str = "Cán bộ",
        date: int | None = None,
    ) -> dict[str, Any]:
        """Queue an Update with a user's text message (bot_command entity for "/cmd")."""
        user = user_json(
            user_id if user_id is not None else abs(chat_id), first_name, language_code
        )
        kind = chat_type or ("private" if chat_id > 0 else "supergroup")
        message: dict[str, Any] = {
            "message_id": self.state.new_message_id(chat_id),
            "from": user,
            "chat": chat_json(chat_id, kind, first_name),
            "date": int(time.time()) if date is None else date,
            "text": text,
        }
        if entities := command_entities(text):
            message["entities"] = entities
        with self.state.lock:  # so the bot can reply to it, edit checks find it, etc.
            self.state.messages[(chat_id, message["message_id"])] = message
        return self._push({"message": message})

    def push_callback(
        self,
        chat_id: int,
        message_id: int,
        data: str,
        *,
        user_id: int | None = None,
        language_code: str | None = "vi",
        first_name: str = "Cán bộ",
        inaccessible: bool = False,
    ) -> str:
        """Queue an Update with a button press on a message; returns the callback query id.

        The query carries the message as the bot left it; an unknown message, or one made
        `inaccessible` (Telegram: older than 48 h), comes as an InaccessibleMessage (date 0).
        """
        with self.state.lock:
            shown = self.state.messages.get((chat_id, message_id))
            self._queries += 1
            query_id = f"{self.state.bot_id}{self._queries:08d}"
            self.state.open_queries[query_id] = (chat_id, message_id)
        if shown is None or inaccessible:
            shown = {"chat": self.state.chat_json(chat_id), "message_id": message_id, "date": 0}
        message = shown
        uid = user_id if user_id is not None else abs(chat_id)
        query = {
            "id": query_id,
            "from": user_json(uid, first_name, language_code),
            "message": message,
            "chat_instance": str(abs(chat_id) * 7919),
            "data": data,
        }
        self._push({"callback_query": query})
        return query_id

    def _push(self, update: dict[str, Any]) -> dict[str, Any]:
        return self._server.run(self._push_on_loop(update), DEFAULT_WAIT)

    async def _push_on_loop(self, update: dict[str, Any]) -> dict[str, Any]:
        return self.state.updates.push(update)

    @property
    def pending_updates(self) -> int:
        """Updates not yet confirmed by getUpdates or delivered to the webhook."""
        return len(self.state.updates.pending)

    @property
    def polls_waiting(self) -> int:
        """getUpdates calls waiting for an update right now (wait_until(lambda: ... == 1))."""
        return self.state.updates.polls_waiting

    @property
    def webhook_deliveries(self) -> list[tuple[int, int | str]]:
        """Webhook POSTs so far: (update_id, HTTP status or connection error text)."""
        return list(self.state.updates.webhook.deliveries)

    # ----- fault injection ----------------------------------------------------------------------
    def block(self, chat_id: int | str) -> None:
        """The user blocked the bot: calls to this chat get 403."""
        self.state.blocked.add(chat_id)

    def unblock(self, chat_id: int | str) -> None:
        """The user unblocked the bot."""
        self.state.blocked.discard(chat_id)

    def fail_next(
        self, n: int = 1, status: int = 500, *, method: str | None = "sendMessage"
    ) -> None:
        """The next n calls of `method` (None: any) answer 500 (JSON) or 502 (nginx HTML)."""
        self.faults.add(n, Fault("fail", method, status=status))

    def delay_next(self, n: int, seconds: float, *, method: str | None = "sendMessage") -> None:
        """The next n calls are handled (a message IS recorded), then answered `seconds` late."""
        self.faults.add(n, Fault("delay", method, seconds=seconds))

    def drop_next(
        self, n: int = 1, *, after_record: bool = False, method: str | None = "sendMessage"
    ) -> None:
        """The next n calls get their connection closed unanswered (recorded if after_record)."""
        self.faults.add(n, Fault("drop", method, after_record=after_record))

    # ----- HTTP ---------------------------------------------------------------------------------
    async def _handle(self, request: Request) -> Response:
        m = PATH_RE.fullmatch(request.path)
        if request.method not in {"GET", "POST"} or not m or not TOKEN_RE.fullmatch(m.group(1)):
            return _json(404, {"ok": False, "error_code": 404, "description": "Not Found"})
        if m.group(1) not in self.tokens:
            return _json(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
        method = methods_by_lower().get(m.group(2).lower())
        if method is None:
            return _json(404, {"ok": False, "error_code": 404, "description": "Not Found"})
        fault: Fault | None = None
        try:
            params = check_call(method, decode_params(request))
            fault = self.faults.take(method)
            if fault and fault.kind == "fail":
                return self._record(method, server_error(fault.status))
            if fault and fault.kind == "drop" and not fault.after_record:
                return self._record(method, Response(drop=True))
            result = await self.state.call(method, params)
            response = _json(200, {"ok": True, "result": result})
        except ApiError as exc:
            response = _json(exc.status, exc.payload())
        if fault and fault.kind == "drop":
            return self._record(method, Response(drop=True))
        if fault and fault.kind == "delay":
            await asyncio.sleep(fault.seconds)
        return self._record(method, response)

    def _record(self, method: str, response: Response) -> Response:
        with self.state.lock:
            self.calls.append((method, 0 if response.drop else response.status))
            self.state.lock.notify_all()
        return response
