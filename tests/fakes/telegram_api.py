"""A fake Telegram Bot API over real HTTP on 127.0.0.1, checked against the Bot API 10.1 facts.

    with FakeTelegram() as fake:
        bot = telegram.Bot(fake.token, base_url=fake.base_url)   # ".../bot" + token + /method
        await bot.send_message(42, "<b>Xin chào</b>", parse_mode="HTML")
        fake.wait_for_messages(1); assert fake.messages_to(42)[0].plain_text == "Xin chào"

Every call: token (malformed -> 404, unknown -> 401), method (unknown -> 404), parameters
(required, types, nested objects; see telegram_params), then the method's own rules
(telegram_methods), Telegram's sending limits (telegram_limits) and injected faults.
Methods the fake does not implement answer {"ok":true,"result":true} after those checks.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from tests.fakes.telegram_http import Request, Response, ThreadedHttpServer
from tests.fakes.telegram_limits import Limits, max_in_window
from tests.fakes.telegram_methods import BotState, SentMessage
from tests.fakes.telegram_params import ApiError, check_call, decode_params, methods_by_lower
from tests.fakes.telegram_updates import chat_json, command_entities, user_json

DEFAULT_TOKEN = "123456:TEST-fake-token-for-the-portal-bot"
TOKEN_RE = re.compile(r"\d{1,20}:[A-Za-z0-9_-]{1,64}")
PATH_RE = re.compile(r"/bot([^/]*)/([A-Za-z0-9_]+)/?")
DEFAULT_WAIT = 5.0  # seconds the wait_* helpers wait by default
SERVER_ERRORS = {500: b'{"ok":false,"error_code":500,"description":"Internal Server Error"}'}
BAD_GATEWAY_HTML = b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"

__all__ = ["DEFAULT_TOKEN", "FakeTelegram", "Limits", "SentMessage"]


@dataclass
class _Fault:
    kind: str  # "fail" | "delay" | "drop"
    method: str | None  # None: any method
    status: int = 500
    seconds: float = 0.0
    after_record: bool = False


def _json(status: int, payload: dict[str, Any]) -> Response:
    return Response(status, json.dumps(payload, ensure_ascii=False).encode("utf-8"))


class FakeTelegram:
    """The fake Bot API server; see the module docstring and the attributes below."""

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
        self._faults: deque[_Fault] = deque()
        self._fault_lock = threading.Lock()
        self._server = ThreadedHttpServer(self._handle)

    # ----- lifecycle -----------------------------------------------------------------------
    def start(self) -> FakeTelegram:
        """Listen on 127.0.0.1:<random port>."""
        self._server.start()
        return self

    def stop(self) -> None:
        """Stop webhook delivery, close every connection, stop the thread."""
        if self._server.port and not self._server.loop.is_closed():
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

    # ----- configuration and recorded state ---------------------------------------------------
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

    @property
    def sent(self) -> list[SentMessage]:
        """Every accepted message, in order (a copy)."""
        with self.state.lock:
            return list(self.state.sent)

    def messages_to(self, chat_id: int | str) -> list[SentMessage]:
        """Accepted messages to one chat, in order."""
        return [m for m in self.sent if m.chat_id == chat_id]

    def message(self, chat_id: int | str, message_id: int) -> dict[str, Any] | None:
        """A message as Telegram holds it now (after edits; None if unknown or deleted)."""
        with self.state.lock:
            return self.state.messages.get((chat_id, message_id))

    def texts_to(self, chat_id: int | str) -> list[str]:
        """Plain texts (after HTML parsing) sent to one chat."""
        return [m.plain_text or m.text or "" for m in self.messages_to(chat_id)]

    @property
    def edits(self) -> list[dict[str, Any]]:
        """Accepted editMessageText/editMessageReplyMarkup calls (their parameters)."""
        with self.state.lock:
            return list(self.state.edits)

    @property
    def callback_answers(self) -> list[dict[str, Any]]:
        """Accepted answerCallbackQuery calls (their parameters)."""
        with self.state.lock:
            return list(self.state.callback_answers)

    @property
    def commands(self) -> dict[tuple[str, str], list[dict[str, str]]]:
        """setMyCommands results: (scope JSON, language code) -> commands."""
        with self.state.lock:
            return dict(self.state.commands)

    def commands_for(self, language_code: str = "") -> list[dict[str, str]]:
        """The default-scope command list for a language ("" = all languages)."""
        return self.commands.get(('{"type": "default"}', language_code), [])

    @property
    def chat_actions(self) -> list[tuple[int | str, str]]:
        """Accepted sendChatAction calls as (chat_id, action)."""
        with self.state.lock:
            return list(self.state.chat_actions)

    @property
    def count_429(self) -> int:
        """How many sends were refused with 429."""
        return self.state.count_429

    def max_per_window(self, window: float = 1.0, chat_id: int | str | None = None) -> int:
        """Most accepted messages in any window of `window` seconds (all chats, or one)."""
        sent = self.sent if chat_id is None else self.messages_to(chat_id)
        return max_in_window((m.at for m in sent), window)

    def max_per_chat_window(self, window: float = 1.0) -> int:
        """Most accepted messages to any single chat in any window of `window` seconds."""
        by_chat: dict[int | str, list[float]] = {}
        for m in self.sent:
            by_chat.setdefault(m.chat_id, []).append(m.at)
        return max((max_in_window(times, window) for times in by_chat.values()), default=0)

    @property
    def deleted(self) -> list[tuple[int | str, int]]:
        """Accepted deleteMessage calls as (chat_id, message_id)."""
        with self.state.lock:
            return list(self.state.deleted)

    def clear(self) -> None:
        """Forget recorded messages, calls and rate-limit history (e.g. after a warm-up)."""
        with self.state.lock:
            self.state.sent.clear()
            self.state.edits.clear()
            self.state.callback_answers.clear()
            self.state.chat_actions.clear()
            self.state.deleted.clear()
            self.state.limiter.reset()
            self.state.count_429 = 0
            self.calls.clear()

    def reset_limits(self) -> None:
        """Forget past sends for rate limiting (recorded messages stay)."""
        with self.state.lock:
            self.state.limiter.reset()

    # ----- waiting without sleeps ---------------------------------------------------------------
    def wait_until(self, predicate: Callable[[], bool], timeout: float = DEFAULT_WAIT) -> None:
        """Block until predicate() is true (re-checked on every recorded event) or time out."""
        with self.state.lock:
            if not self.state.lock.wait_for(predicate, timeout):
                raise TimeoutError(f"condition not met within {timeout} s")

    def wait_for_messages(
        self, n: int, timeout: float = DEFAULT_WAIT, chat_id: int | str | None = None
    ) -> list[SentMessage]:
        """Block until at least n messages were accepted (to chat_id, if given); return them."""

        def done() -> bool:
            sent = self.state.sent
            if chat_id is None:
                return len(sent) >= n
            return sum(1 for m in sent if m.chat_id == chat_id) >= n

        try:
            self.wait_until(done, timeout)
        except TimeoutError:
            got = len(self.sent if chat_id is None else self.messages_to(chat_id))
            raise TimeoutError(f"{got} of {n} messages sent within {timeout} s") from None
        return self.sent if chat_id is None else self.messages_to(chat_id)

    async def wait_for_messages_async(
        self,
        n: int,
        timeout: float = DEFAULT_WAIT,  # noqa: ASYNC109 - same signature as the sync variant
        chat_id: int | str | None = None,
    ) -> list[SentMessage]:
        """wait_for_messages for async tests (waits in a worker thread, the loop keeps running)."""
        return await asyncio.to_thread(self.wait_for_messages, n, timeout, chat_id)

    async def wait_until_async(
        self,
        predicate: Callable[[], bool],
        timeout: float = DEFAULT_WAIT,  # noqa: ASYNC109 - same signature as the sync variant
    ) -> None:
        """wait_until for async tests."""
        await asyncio.to_thread(self.wait_until, predicate, timeout)

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
            "date": int(time.time()),
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
    ) -> str:
        """Queue an Update with a button press on a message; returns the callback query id."""
        with self.state.lock:
            shown = self.state.messages.get((chat_id, message_id))
            query_id = f"{self.state.bot_id}{len(self.state.open_queries) + time.time_ns()}"
            self.state.open_queries[query_id] = (chat_id, message_id)
        message = shown or {
            "message_id": message_id,
            "chat": self.state.chat_json(chat_id),
            "date": int(time.time()),
            "text": "",
        }
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
        self._add_faults(n, _Fault("fail", method, status=status))

    def delay_next(self, n: int, seconds: float, *, method: str | None = "sendMessage") -> None:
        """The next n calls are handled (a message IS recorded), then answered `seconds` late."""
        self._add_faults(n, _Fault("delay", method, seconds=seconds))

    def drop_next(
        self, n: int = 1, *, after_record: bool = False, method: str | None = "sendMessage"
    ) -> None:
        """The next n calls get their connection closed unanswered (recorded if after_record)."""
        self._add_faults(n, _Fault("drop", method, after_record=after_record))

    def _add_faults(self, n: int, fault: _Fault) -> None:
        with self._fault_lock:
            self._faults.extend([fault] * n)

    def _take_fault(self, method: str) -> _Fault | None:
        with self._fault_lock:
            for fault in self._faults:
                if fault.method is None or fault.method == method:
                    self._faults.remove(fault)
                    return fault
        return None

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
        fault: _Fault | None = None
        try:
            params = check_call(method, decode_params(request))
            fault = self._take_fault(method)
            if fault and fault.kind == "fail":
                return self._record(method, self._server_error(fault.status))
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

    def _server_error(self, status: int) -> Response:
        if status == 502:
            return Response(502, BAD_GATEWAY_HTML, content_type="text/html")
        body = SERVER_ERRORS.get(status)
        desc = {"ok": False, "error_code": status, "description": "Internal Server Error"}
        return Response(status, body or json.dumps(desc).encode())

    def _record(self, method: str, response: Response) -> Response:
        with self.state.lock:
            self.calls.append((method, 0 if response.drop else response.status))
            self.state.lock.notify_all()
        return response
