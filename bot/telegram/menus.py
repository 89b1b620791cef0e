"""Command menus: everyone's (default scope) and each admin's own (BotCommandScopeChat).

Admin commands are listed only in the menu of an admin's private chat with the bot; removing
an admin deletes that chat's menu so it falls back to the public one.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from collections.abc import Callable, Iterable

from sqlalchemy.engine import Engine
from telegram import Bot, BotCommand, BotCommandScopeChat
from telegram.error import TelegramError

from bot.i18n import ADMIN_COMMANDS, COMMANDS, LANGS
from storage.admins import stored_admins
from storage.db import session_scope

log = logging.getLogger(__name__)


def admin_menu(lang: str) -> list[BotCommand]:
    """The public commands and then the admin ones, described in `lang`."""
    every = [*COMMANDS, *ADMIN_COMMANDS]
    return [BotCommand(name, desc[lang]) for name, _ex, desc in every]


def admin_user_ids(engine: Engine, settings_ids: Iterable[int]) -> list[int]:
    """TELEGRAM_ADMIN_IDS and the admins added with /admin add (Telegram user ids)."""
    with session_scope(engine) as session:
        stored = [a.user_id for a in stored_admins(session, platform="telegram")]
    return sorted({*settings_ids, *(int(u) for u in stored if u.isdecimal())})


async def set_admin_menu(bot: Bot, user_id: int, *, admin: bool) -> bool:
    """Show (or remove) the admin commands in this admin's chat; never fatal."""
    scope = BotCommandScopeChat(chat_id=user_id)
    try:
        for lang in ("", *LANGS):
            code = lang or None
            if admin:
                await bot.set_my_commands(admin_menu(lang or "vi"), scope=scope, language_code=code)
            else:
                await bot.delete_my_commands(scope=scope, language_code=code)
    except TelegramError as exc:  # e.g. the admin never opened a chat with the bot
        log.warning("admin menu for %s not %s: %s", user_id, "set" if admin else "removed", exc)
        return False
    return True


def on_admins_changed(bot: Bot) -> Callable[[str, str, bool], None]:
    """A Services.on_admins_changed hook: refresh one admin's menu from a worker thread."""
    loop = asyncio.get_running_loop()
    pending: set[concurrent.futures.Future[bool]] = set()

    def changed(platform: str, user_id: str, added: bool) -> None:
        if platform != "telegram" or not user_id.isdecimal():
            return
        future = asyncio.run_coroutine_threadsafe(
            set_admin_menu(bot, int(user_id), admin=added), loop
        )
        pending.add(future)  # held until done, so it is not garbage-collected mid-call
        future.add_done_callback(pending.discard)

    return changed
