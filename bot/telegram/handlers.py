"""Telegram handlers: translate an update into a Request, run the command logic, send the reply."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import traceback
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta

from telegram import CallbackQuery, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, RetryAfter
from telegram.ext import ContextTypes

from bot.commands import Request, Services, handle, press
from bot.i18n import pick_language, t
from bot.logs import redact
from bot.memory import in_command_thread
from bot.telegram.budget import SharedBudget
from bot.telegram.format import TgMessage, to_messages
from jobs.delivery.reply import Reply

log = logging.getLogger(__name__)
PLATFORM = "telegram"
# A reply waits out a short per-chat flood limit; a longer one is logged instead.
MAX_REPLY_WAIT_SECONDS = 5.0


class ChatTurns:
    """One update at a time per chat, so answers keep the order of questions (e.g. /lang then
    /help); different chats still run in parallel. Locks vanish when no update holds them."""

    def __init__(self) -> None:
        self._locks: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()

    def of(self, chat_id: int) -> asyncio.Lock:
        """The lock of one chat."""
        lock = self._locks.get(chat_id)
        if lock is None:
            lock = self._locks[chat_id] = asyncio.Lock()
        return lock


@dataclass
class BotDeps:
    """What the handlers need, kept in `application.bot_data["deps"]`."""

    services: Services
    admin_ids: frozenset[int] = field(default_factory=frozenset)
    turns: ChatTurns = field(default_factory=ChatTurns)


def _deps(context: ContextTypes.DEFAULT_TYPE) -> BotDeps:
    deps = context.bot_data["deps"]
    assert isinstance(deps, BotDeps)
    return deps


def to_request(update: Update, text: str, admin_ids: frozenset[int]) -> Request:
    """The channel-neutral request for an update (message or button press)."""
    chat, user = update.effective_chat, update.effective_user
    assert chat is not None
    return Request(
        platform=PLATFORM,
        chat_id=str(chat.id),
        text=text,
        chat_kind=chat.type,
        user_id=str(user.id) if user else None,
        language_code=user.language_code if user else None,
        is_admin=bool(user and user.id in admin_ids),
        chat_title=chat.effective_name or "",  # private chats: the name admins approve
    )


async def _retrying(call: Callable[[], Awaitable[object]]) -> None:
    """Run a Bot API call; on 429 wait the time Telegram asks (if short) and try once more."""
    try:
        await call()
    except RetryAfter as exc:
        wait = exc.retry_after
        seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
        if seconds > MAX_REPLY_WAIT_SECONDS:
            raise
        await asyncio.sleep(seconds)  # the protocol: Telegram says how long to wait
        await call()


async def send(context: ContextTypes.DEFAULT_TYPE, chat_id: int, reply: Reply) -> None:
    """Send a reply as one or more HTML messages."""
    for msg in to_messages(reply):
        await _retrying(
            lambda msg=msg: context.bot.send_message(  # type: ignore[misc]
                chat_id,
                msg.text,
                parse_mode=ParseMode.HTML,
                reply_markup=msg.reply_markup,
                link_preview_options=_preview(msg),
            )
        )


def _people_first(context: ContextTypes.DEFAULT_TYPE) -> contextlib.AbstractContextManager[None]:
    """Pushes step aside while this person's answer is worked out and sent (shared budget)."""
    budget = context.bot.rate_limiter
    return budget.answering() if isinstance(budget, SharedBudget) else contextlib.nullcontext()


def _preview(msg: TgMessage) -> LinkPreviewOptions:
    return LinkPreviewOptions(is_disabled=not msg.preview)


def _for_another_bot(text: str, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """True for "/cmd@OtherBot": in a group, a command addressed to someone else."""
    first = text.split(maxsplit=1)[0] if text.startswith("/") else ""
    _cmd, at, name = first.partition("@")
    return bool(at) and name.lower() != (context.bot.username or "").lower()


async def on_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A text message: a command or a plain-text search."""
    message, deps = update.effective_message, _deps(context)
    if message is None or message.text is None or _for_another_bot(message.text, context):
        return
    req = to_request(update, message.text, deps.admin_ids)
    async with deps.turns.of(message.chat_id):
        with _people_first(context):
            reply = await in_command_thread(handle, deps.services, req)
            if reply is not None and reply.lines:
                await send(context, message.chat_id, reply)


async def on_page_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A paging button: the new page replaces the list; an expired one answers below it."""
    query, deps = update.callback_query, _deps(context)
    if query is None:
        return
    if query.data is None or query.message is None:
        await query.answer()  # nothing to page here, but the button must stop spinning
        return
    req = to_request(update, query.data, deps.admin_ids)
    async with deps.turns.of(query.message.chat.id):
        with _people_first(context):
            pressed = await in_command_thread(press, deps.services, req)
            await query.answer()
            if pressed is not None and not (
                pressed.replace and await _replace(query, pressed.reply)
            ):
                await send(context, query.message.chat.id, pressed.reply)


async def _replace(query: CallbackQuery, reply: Reply) -> bool:
    """Edit the button's message into `reply`; False when it cannot be (then send anew)."""
    msgs = to_messages(reply)
    if len(msgs) != 1:
        return False
    try:
        await query.edit_message_text(
            msgs[0].text,
            parse_mode=ParseMode.HTML,
            reply_markup=msgs[0].reply_markup,
            link_preview_options=_preview(msgs[0]),
        )
    except BadRequest as exc:  # e.g. the message is too old to edit
        if "not modified" in exc.message.lower():
            return True  # it already shows this page (a double tap): no copy below it
        log.info("could not edit a paged list: %s", exc.message)
        return False
    return True


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log a handler's failure (tokens are redacted by the log filter) and answer politely."""
    # The traceback is rendered and redacted here: the log filter only sees the message.
    trace = "".join(traceback.format_exception(context.error)) if context.error else ""
    log.error("telegram handler failed: %s", redact(trace.rstrip()))
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    user = update.effective_user
    text = t(pick_language(None, user.language_code if user else None), "error")
    try:
        await context.bot.send_message(update.effective_chat.id, text)
    except Exception as exc:  # the apology itself failed: nothing more to do than log it
        log.warning("could not send the apology: %r", exc)
