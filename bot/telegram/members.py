"""getChatMember for the command logic, which runs in worker threads, on the bot's own loop."""

from __future__ import annotations

import asyncio

from telegram import Bot

from bot.commands.groupadmin import AskPlatform

ASK_TIMEOUT_SECONDS = 10.0
ADMIN_STATUSES = frozenset({"creator", "administrator"})


def member_asker(bot: Bot, loop: asyncio.AbstractEventLoop) -> AskPlatform:
    """A blocking "is this user an administrator of this chat?" for bot.commands.groupadmin."""

    def ask(chat_id: str, user_id: str) -> bool:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:  # called on an event loop: waiting here would deadlock it
            raise RuntimeError("member_asker must be called from a worker thread")
        call = bot.get_chat_member(int(chat_id), int(user_id))
        member = asyncio.run_coroutine_threadsafe(call, loop).result(ASK_TIMEOUT_SECONDS)
        return member.status in ADMIN_STATUSES

    return ask
