"""Hooks the command logic and the admins' watch call from worker threads (Services fields)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from telegram import Bot
from telegram.error import BadRequest

log = logging.getLogger(__name__)
EDIT_TIMEOUT_SECONDS = 10.0


def message_editor(bot: Bot) -> Callable[[str, str, str, str], None]:
    """Services.edit_message for Telegram: editMessageText, waited for from a worker thread."""
    loop = asyncio.get_running_loop()

    def edit(platform: str, chat_id: str, message_id: str, text: str) -> None:
        if platform != "telegram" or not message_id.isdecimal():
            return
        call = bot.edit_message_text(text, chat_id=int(chat_id), message_id=int(message_id))
        try:
            asyncio.run_coroutine_threadsafe(call, loop).result(EDIT_TIMEOUT_SECONDS)
        except BadRequest as exc:
            if "not modified" not in exc.message.lower():
                raise

    return edit
