"""The Telegram channel: python-telegram-bot's Application, long polling or webhook, /healthz."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import BotCommand, Update
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    BaseHandler,
    CallbackQueryHandler,
    MessageHandler,
    filters,
)
from telegram.request import HTTPXRequest

from bot.i18n import COMMANDS, LANGS
from bot.settings import Settings
from bot.telegram.handlers import BotDeps, on_error, on_message, on_page_button
from bot.telegram.hooks import message_editor
from bot.telegram.menus import admin_user_ids, on_admins_changed, set_admin_menu
from bot.web import WEBHOOK_PATH, WebServer, bind, make_app

log = logging.getLogger(__name__)

# Opt in to python-telegram-bot's coming behaviour (RetryAfter.retry_after as a timedelta)
# so every 429 does not also raise a deprecation warning.
os.environ.setdefault("PTB_TIMEDELTA", "1")

ALLOWED_UPDATES = ["message", "callback_query"]
CONCURRENT_UPDATES = 8  # a slow search in one chat must not hold up the others
API_POOL_SIZE = 64  # connections for API calls (replies in flight at once)
POLL_TIMEOUT_SECONDS = 10  # long-poll wait per getUpdates

AnyHandler = BaseHandler[Any, Any, Any]


def handlers() -> list[AnyHandler]:
    """Every handler: text and commands (routed by bot.commands.router's tables), and every
    button (paging, "unsub:"; bot.commands.press answers an unknown one as expired)."""
    return [
        MessageHandler(filters.TEXT & filters.UpdateType.MESSAGE, on_message),
        CallbackQueryHandler(on_page_button),
    ]


def build_application(
    settings: Settings,
    deps: BotDeps,
    requests: tuple[HTTPXRequest, HTTPXRequest] | None = None,
) -> Application[Any, Any, Any, Any, Any, Any]:
    """The PTB Application against TELEGRAM_API_URL (a self-hosted or test server alike).

    `requests` (API calls, getUpdates) lets the caller close them even when start-up fails.
    """
    if settings.telegram_bot_token is None:
        raise ValueError("TELEGRAM_BOT_TOKEN is not set")
    root = str(settings.telegram_api_url).rstrip("/")
    calls, polls = requests or (HTTPXRequest(API_POOL_SIZE), HTTPXRequest(1))
    app = (
        ApplicationBuilder()
        .token(settings.telegram_bot_token.get_secret_value())
        .base_url(f"{root}/bot")
        .base_file_url(f"{root}/file/bot")
        .request(calls)
        .get_updates_request(polls)
        .concurrent_updates(CONCURRENT_UPDATES)
        .build()
    )
    app.bot_data["deps"] = deps
    app.add_handlers(handlers())
    app.add_error_handler(on_error)
    return app


async def set_commands(app: Application[Any, Any, Any, Any, Any, Any]) -> bool:
    """Publish the command menu in Vietnamese (also the default) and English; never fatal."""
    try:
        for lang in ("", *LANGS):
            menu = [BotCommand(name, desc[lang or "vi"]) for name, _ex, desc in COMMANDS]
            await app.bot.set_my_commands(menu, language_code=lang or None)
    except TelegramError as exc:
        log.warning("setMyCommands failed (the bot works without a menu): %s", exc)
        return False
    return True


class TelegramChannel:
    """Start and stop the bot: long polling by default, webhook when TELEGRAM_WEBHOOK_URL is set."""

    def __init__(
        self,
        settings: Settings,
        deps: BotDeps,
        *,
        health: Callable[[], Awaitable[bool]],
        sock: socket.socket | None = None,
    ) -> None:
        self.settings = settings
        self.webhook = settings.telegram_webhook_url is not None
        secret = settings.telegram_webhook_secret
        if self.webhook and secret is None:
            raise ValueError("webhook mode needs TELEGRAM_WEBHOOK_SECRET")
        self._secret = secret.get_secret_value() if secret else None
        # Checks and the port first: a refusal must leave no HTTP clients behind.
        sock = sock or bind(settings.listen_host, settings.listen_port)
        self._requests = (HTTPXRequest(API_POOL_SIZE), HTTPXRequest(1))
        self.app = build_application(settings, deps, self._requests)
        web = make_app(health=health, secret=self._secret, sink=self._accept)
        self.web = WebServer(web, sock)

    async def _accept(self, data: dict[str, Any]) -> None:
        try:
            update = Update.de_json(data, self.app.bot)
        except Exception as exc:  # a malformed update is dropped; Telegram must not retry it
            log.warning("webhook: unreadable update dropped: %r", exc)
            return
        await self.app.update_queue.put(update)

    async def start(self) -> None:
        """Initialise, publish commands, serve HTTP, then receive updates."""
        await self.app.initialize()
        await set_commands(self.app)
        services = self.app.bot_data["deps"].services
        ids = self.settings.telegram_admin_ids
        for user in await asyncio.to_thread(admin_user_ids, services.engine, ids):
            await set_admin_menu(self.app.bot, user, admin=True)
        services.on_admins_changed = on_admins_changed(self.app.bot)
        services.edit_message = message_editor(self.app.bot)
        await self.web.start()
        if self.webhook:
            if self.settings.telegram_webhook_url.path != WEBHOOK_PATH:  # type: ignore[union-attr]
                log.warning("TELEGRAM_WEBHOOK_URL should reach this server's %s", WEBHOOK_PATH)
            await self.app.bot.set_webhook(
                str(self.settings.telegram_webhook_url),
                secret_token=self._secret,
                allowed_updates=ALLOWED_UPDATES,
            )
            log.info("Telegram webhook mode; listening on port %s%s", self.web.port, WEBHOOK_PATH)
        else:
            assert self.app.updater is not None
            await self.app.updater.start_polling(
                timeout=POLL_TIMEOUT_SECONDS, allowed_updates=ALLOWED_UPDATES
            )
            log.info("Telegram long polling; /healthz on port %s", self.web.port)
        await self.app.start()

    async def stop(self) -> None:
        """Stop receiving, finish handlers, close HTTP clients and the web server."""
        try:
            if self.app.updater is not None and self.app.updater.running:
                await self.app.updater.stop()
            if self.app.running:
                await self.app.stop()
        finally:
            await self.web.stop()
            await self.app.shutdown()
            for request in self._requests:  # shutdown() skips them if start-up failed
                await request.shutdown()
