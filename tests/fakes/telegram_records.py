"""What the fake Bot API recorded, and how tests read it and wait for it without sleeping."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tests.fakes.telegram_limits import max_in_window
from tests.fakes.telegram_params import bad

if TYPE_CHECKING:
    from tests.fakes.telegram_methods import BotState

CALLBACK_DATA_MAX = 64  # bytes
TEXT_BUTTONS = "Text buttons are unallowed in the inline keyboard"
DEFAULT_WAIT = 5.0  # seconds the wait_* helpers wait by default
# send* methods that post no message to a chat (actions, drafts, gifts, join requests)
NOT_MESSAGES = {
    "sendChatAction", "sendMessageDraft", "sendRichMessageDraft", "sendGift",
    "sendChatJoinRequestWebApp",
}  # fmt: skip


def is_message_method(method: str) -> bool:
    """Methods that post a message, so Telegram's sending limits apply."""
    if method in NOT_MESSAGES:
        return False
    return method.startswith("send") or method in {
        "copyMessage", "copyMessages", "forwardMessage", "forwardMessages",
    }  # fmt: skip


@dataclass(frozen=True)
class SentMessage:
    """One accepted message as the bot sent it (text as given, plus Telegram's parse of it)."""

    method: str
    chat_id: int | str
    message_id: int
    text: str | None
    parse_mode: str | None
    plain_text: str | None
    entities: tuple[dict[str, Any], ...]
    reply_markup: dict[str, Any] | None
    link_preview_options: dict[str, Any] | None
    disable_web_page_preview: bool | None
    at: float  # the fake's monotonic clock when accepted
    params: dict[str, Any] = field(repr=False)

    @property
    def previews_disabled(self) -> bool:
        """True when the bot asked for no link preview (either way of asking)."""
        if self.link_preview_options and self.link_preview_options.get("is_disabled"):
            return True
        return bool(self.disable_web_page_preview)

    def buttons(self) -> list[dict[str, Any]]:
        """Every inline keyboard button, row by row."""
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [button for row in rows for button in row]


def check_inline_keyboard(markup: dict[str, Any]) -> None:
    """Telegram's rules for inline buttons beyond the field types."""
    for row in markup.get("inline_keyboard", []):
        for button in row:
            actions = set(button) - {"text", "icon_custom_emoji_id", "style"}
            if len(actions) != 1:
                raise bad(f"can't parse inline keyboard button: {TEXT_BUTTONS}")
            data = button.get("callback_data")
            if data is not None and not 1 <= len(data.encode("utf-8")) <= CALLBACK_DATA_MAX:
                raise bad("BUTTON_DATA_INVALID")
            url = button.get("url")
            if url is not None and not re.match(r"(https?|tg)://\S+$", url):
                raise bad("BUTTON_URL_INVALID")


class Recorded:
    """Read-side of FakeTelegram: everything here is safe to call from any thread."""

    state: BotState
    calls: list[tuple[str, int]]

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
        """Block until predicate() holds (re-checked whenever the fake answers or queues)."""
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
