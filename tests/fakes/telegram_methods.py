"""The Bot API methods the fake implements, over checked parameters; state is kept here.

Runs on the fake server's loop; the `lock` (a threading.Condition) guards what test threads read.
Methods without an implementation answer `true` after their parameters were checked.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Hashable
from typing import Any

from tests.fakes.telegram_html import HtmlError, Parsed, check_text
from tests.fakes.telegram_limits import Limits, RateLimiter
from tests.fakes.telegram_params import ApiError, bad
from tests.fakes.telegram_records import SentMessage, check_inline_keyboard, is_message_method
from tests.fakes.telegram_updates import UpdateQueue, WebhookState

CALLBACK_TEXT_MAX = 200
COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
LANG_RE = re.compile(r"[a-z]{2}")
SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")
CHAT_ACTIONS = {
    "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
    "upload_document", "choose_sticker", "find_location", "record_video_note",
    "upload_video_note",
}  # fmt: skip
CHANNEL_ID = -1_001_000_000_001  # id reported for a chat addressed by @username
LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]"}
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"


class BotState:
    """Chats, messages, commands, callback queries and updates of one fake bot."""

    def __init__(self, token: str, username: str, clock: Callable[[], float]) -> None:
        self.bot_id = int(token.split(":", 1)[0])
        self.username = username
        self.clock = clock
        self.lock = threading.Condition()
        self.limits = Limits()
        self.limiter = RateLimiter(self.limits)
        self.updates = UpdateQueue(self._notify)
        self.allow_tg_links = False
        self.known_chats: set[int | str] | None = None
        self.blocked: set[int | str] = set()
        self.sent: list[SentMessage] = []
        self.edits: list[dict[str, Any]] = []
        self.callback_answers: list[dict[str, Any]] = []
        self.chat_actions: list[tuple[int | str, str]] = []
        self.deleted: list[tuple[int | str, int]] = []
        self.commands: dict[tuple[str, str], list[dict[str, str]]] = {}
        self.count_429 = 0
        self.chat_admins: dict[int | str, set[int]] = {}  # getChatMember: owner, else member
        self.member_checks: list[tuple[int | str, int]] = []
        self.messages: dict[tuple[Hashable, int], dict[str, Any]] = {}
        self.open_queries: dict[str, tuple[int | str, int]] = {}
        self._next_message_id: dict[Hashable, int] = {}

    def _notify(self) -> None:
        with self.lock:
            self.lock.notify_all()

    def me(self) -> dict[str, Any]:
        """getMe's User."""
        return {
            "id": self.bot_id, "is_bot": True, "first_name": "Fake Portal Bot",
            "username": self.username, "can_join_groups": True,
            "can_read_all_group_messages": False, "supports_inline_queries": False,
        }  # fmt: skip

    def new_message_id(self, chat_id: int | str) -> int:
        """Message ids count up per chat, shared by the bot's and the users' messages."""
        with self.lock:
            self._next_message_id[chat_id] = self._next_message_id.get(chat_id, 0) + 1
            return self._next_message_id[chat_id]

    def chat(self, params: dict[str, Any]) -> int | str:
        """The target chat of a call, checked like Telegram (unknown -> 400, blocked -> 403)."""
        chat_id = params.get("chat_id")
        if chat_id is None:
            raise bad("chat_id is empty")
        if isinstance(chat_id, str) and not chat_id.startswith("@"):
            raise bad("chat not found")
        if self.known_chats is not None and chat_id not in self.known_chats:
            raise bad("chat not found")
        if chat_id in self.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return chat_id

    def chat_json(self, chat_id: int | str) -> dict[str, Any]:
        """The Chat object for a chat id (negative ids and @names are groups/channels)."""
        if isinstance(chat_id, str):
            name = chat_id[1:]
            return {"id": CHANNEL_ID, "type": "channel", "title": name, "username": name}
        if chat_id < 0:
            kind = "supergroup" if chat_id < -1_000_000_000_000 else "group"
            return {"id": chat_id, "type": kind, "title": f"Group {chat_id}"}
        return {"id": chat_id, "type": "private", "first_name": f"User {chat_id}"}

    def _text(self, params: dict[str, Any], key: str = "text") -> Parsed:
        try:
            links = self.allow_tg_links
            return check_text(params[key], params.get("parse_mode"), allow_tg_links=links)
        except HtmlError as exc:
            raise ApiError(400, str(exc)) from exc

    def _markup(self, params: dict[str, Any]) -> dict[str, Any] | None:
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            check_inline_keyboard(markup)
        return markup if isinstance(markup, dict) else None

    def send(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        """sendMessage and the other send* methods: checks, limits, then record."""
        parsed = self._text(params) if method == "sendMessage" else None
        markup = self._markup(params)
        chat_id = self.chat(params)
        self._check_reply(chat_id, params.get("reply_parameters"))
        now = self.clock()
        is_group = isinstance(chat_id, str) or chat_id < 0
        with self.lock:
            wait = self.limiter.check(chat_id, is_group, now)
            if wait is not None:
                self.count_429 += 1
                raise ApiError(429, f"Too Many Requests: retry after {wait}", retry_after=wait)
            self.limiter.accept(chat_id, now)
        message_id = self.new_message_id(chat_id)
        message: dict[str, Any] = {
            "message_id": message_id, "from": self.me(), "chat": self.chat_json(chat_id),
            "date": int(time.time()),
        }  # fmt: skip
        if parsed is not None:
            message["text"] = parsed.text
            if parsed.entities:
                message["entities"] = [e.to_json() for e in parsed.entities]
        if markup is not None and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        if params.get("link_preview_options") is not None:
            message["link_preview_options"] = params["link_preview_options"]
        record = SentMessage(
            method=method,
            chat_id=chat_id,
            message_id=message_id,
            text=params.get("text"),
            parse_mode=params.get("parse_mode"),
            plain_text=parsed.text if parsed else None,
            entities=tuple(e.to_json() for e in parsed.entities) if parsed else (),
            reply_markup=markup,
            link_preview_options=params.get("link_preview_options"),
            disable_web_page_preview=params.get("disable_web_page_preview"),
            at=now,
            params=params,
        )
        with self.lock:
            self.messages[(chat_id, message_id)] = message
            self.sent.append(record)
            self.lock.notify_all()
        return message

    def _check_reply(self, chat_id: int | str, reply: dict[str, Any] | None) -> None:
        if not reply or reply.get("allow_sending_without_reply"):
            return
        target = reply.get("chat_id", chat_id)
        with self.lock:
            if (target, reply["message_id"]) not in self.messages:
                raise bad("message to be replied not found")

    def delete(self, params: dict[str, Any]) -> bool:
        """deleteMessage of a message the fake knows (sent by the bot or pushed by a user)."""
        chat_id = self.chat(params)
        with self.lock:
            if self.messages.pop((chat_id, params["message_id"]), None) is None:
                raise bad("message to delete not found")
            self.deleted.append((chat_id, params["message_id"]))
            self.lock.notify_all()
        return True

    def edit(self, method: str, params: dict[str, Any]) -> dict[str, Any] | bool:
        """editMessageText / editMessageReplyMarkup of a message the bot sent."""
        if params.get("inline_message_id"):
            return True  # inline messages are not tracked; Telegram answers True for them
        chat_id = self.chat(params)
        if params.get("message_id") is None:
            raise bad("message identifier is not specified")
        parsed = self._text(params) if method == "editMessageText" else None
        markup = self._markup(params)
        with self.lock:
            old = self.messages.get((chat_id, params["message_id"]))
            if old is None:
                raise bad("message to edit not found")
            new = dict(old)
            if parsed is not None:
                new["text"] = parsed.text
                new["entities"] = [e.to_json() for e in parsed.entities]
                if not new["entities"]:
                    del new["entities"]
            new.pop("reply_markup", None)
            if markup is not None and "inline_keyboard" in markup:
                new["reply_markup"] = markup
            if {**new, "edit_date": 0} == {**old, "edit_date": 0}:
                raise bad(NOT_MODIFIED)
            new["edit_date"] = int(time.time())
            self.messages[(chat_id, params["message_id"])] = new
            self.edits.append({"method": method, "at": self.clock(), **params})
            self.lock.notify_all()
        return new

    def answer_callback(self, params: dict[str, Any]) -> bool:
        """answerCallbackQuery: only for a query the fake issued, once."""
        with self.lock:
            if self.open_queries.pop(params["callback_query_id"], None) is None:
                raise bad(QUERY_TOO_OLD)
        if len(params.get("text") or "") > CALLBACK_TEXT_MAX:
            raise bad("MESSAGE_TOO_LONG")
        with self.lock:
            self.callback_answers.append(params)
            self.lock.notify_all()
        return True

    def set_commands(self, params: dict[str, Any]) -> bool:
        """setMyCommands with Telegram's rules for names, descriptions and language codes."""
        commands = params["commands"]
        if len(commands) > 100:
            raise bad("BOT_COMMANDS_TOO_MUCH")
        for cmd in commands:
            if not COMMAND_RE.fullmatch(cmd["command"]):
                raise bad("BOT_COMMAND_INVALID")
            if not 1 <= len(cmd["description"].strip()) <= 256:
                raise bad("BOT_COMMAND_DESCRIPTION_INVALID")
        with self.lock:
            self.commands[self._commands_key(params)] = [
                {"command": c["command"], "description": c["description"]} for c in commands
            ]
        return True

    def _commands_key(self, params: dict[str, Any]) -> tuple[str, str]:
        lang = params.get("language_code") or ""
        if lang and not LANG_RE.fullmatch(lang):
            raise bad("invalid language code specified")
        scope = params.get("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True), lang

    def chat_member(self, params: dict[str, Any]) -> dict[str, Any]:
        """getChatMember: the owner for ids in chat_admins, a plain member otherwise."""
        chat_id, user_id = self.chat(params), int(params["user_id"])
        with self.lock:
            self.member_checks.append((chat_id, user_id))
            admin = user_id in self.chat_admins.get(chat_id, set())
        user = {"id": user_id, "is_bot": False, "first_name": f"User {user_id}"}
        if admin:
            return {"status": "creator", "user": user, "is_anonymous": False}
        return {"status": "member", "user": user}

    def set_webhook(self, params: dict[str, Any]) -> bool:
        """setWebhook: https (or http on 127.0.0.1 for tests), secret of [A-Za-z0-9_-]{1,256}."""
        url = params.get("url") or ""
        if url:
            scheme, _, rest = url.partition("://")
            host = rest.split("/", 1)[0].rsplit(":", 1)[0] if rest else ""
            if not host or not (scheme == "https" or (scheme == "http" and host in LOCAL_HOSTS)):
                raise bad("bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None and not SECRET_RE.fullmatch(secret):
            raise bad("bad webhook: secret token contains unallowed characters")
        max_conn = params.get("max_connections", 40)
        if not 1 <= max_conn <= 100:
            raise bad("bad webhook: max_connections must be between 1 and 100")
        state = WebhookState(url, secret, max_conn, params.get("allowed_updates"))
        self.updates.set_webhook(state, bool(params.get("drop_pending_updates")))
        return True

    async def call(self, method: str, params: dict[str, Any]) -> Any:
        """Run one checked call; return its result or raise ApiError."""
        if is_message_method(method):
            return self.send(method, params)
        if method in {"editMessageText", "editMessageReplyMarkup"}:
            return self.edit(method, params)
        if method == "deleteMessage":
            return self.delete(params)
        if method == "getMe":
            return self.me()
        if method == "getChatMember":
            return self.chat_member(params)
        if method == "getUpdates":
            return await self.updates.get_updates(
                params.get("offset", 0), params.get("limit", 100), params.get("timeout", 0)
            )
        if method == "answerCallbackQuery":
            return self.answer_callback(params)
        if method == "setMyCommands":
            return self.set_commands(params)
        if method == "getMyCommands":
            return self.commands.get(self._commands_key(params), [])
        if method == "deleteMyCommands":
            self.commands.pop(self._commands_key(params), None)
            return True
        if method == "setWebhook":
            return self.set_webhook(params)
        if method == "deleteWebhook":
            self.updates.set_webhook(WebhookState(), bool(params.get("drop_pending_updates")))
            return True
        if method == "getWebhookInfo":
            return self.updates.webhook_info()
        if method == "sendChatAction":
            chat_id = self.chat(params)
            if params["action"] not in CHAT_ACTIONS:
                raise bad("wrong parameter action in request")
            with self.lock:
                self.chat_actions.append((chat_id, params["action"]))
            return True
        if "chat_id" in params:
            self.chat(params)
        return True
