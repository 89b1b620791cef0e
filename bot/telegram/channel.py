"""The Telegram channel: python-telegram-bot's Application (long polling, or a webhook mounted on
the service's HTTP server) and the TelegramSender for pushes."""

from __future__ import annotations

import hmac
import logging
import os
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
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

from bot.channel import ChannelContext, ChannelError
from bot.i18n import CANNOT_START, COMMANDS, INVALID_CONFIGURATION, LANGS
from bot.logs import redact
from bot.settings import Settings
from bot.telegram.budget import SharedBudget
from bot.telegram.client import TelegramClient
from bot.telegram.handlers import PLATFORM, BotDeps, on_error, on_message, on_page_button
from bot.telegram.sender import TelegramSender, limits, pacer_for
from bot.web import read_json_body
from jobs.delivery.pacing import RateLimiter

log = logging.getLogger(__name__)

# Opt in to python-telegram-bot's coming behaviour (RetryAfter.retry_after as a timedelta)
# so every 429 does not also raise a deprecation warning.
os.environ.setdefault("PTB_TIMEDELTA", "1")

ALLOWED_UPDATES = ["message", "callback_query"]
CONCURRENT_UPDATES = 8  # a slow search in one chat must not hold up the others
API_POOL_SIZE = 64  # connections for API calls (replies in flight at once)
POLL_TIMEOUT_SECONDS = 10  # long-poll wait per getUpdates
WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"

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
    pacer: RateLimiter | None = None,
) -> Application[Any, Any, Any, Any, Any, Any]:
    """The PTB Application against TELEGRAM_API_URL (a self-hosted or test server alike).

    `requests` (API calls, getUpdates) lets the caller close them even when start-up fails.
    """
    if settings.telegram_bot_token is None:
        raise ValueError("TELEGRAM_BOT_TOKEN is not set")
    root = str(settings.telegram_api_url).rstrip("/")
    calls, polls = requests or (HTTPXRequest(API_POOL_SIZE), HTTPXRequest(1))
    builder = ApplicationBuilder()
    if pacer is not None:  # replies spend from the account's one budget, ahead of pushes
        builder = builder.rate_limiter(SharedBudget(pacer))
    app = (
        builder.token(settings.telegram_bot_token.get_secret_value())
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
    """One bot account: long polling by default, webhook when TELEGRAM_WEBHOOK_URL is set."""

    platform = PLATFORM

    def __init__(self, settings: Settings, deps: BotDeps) -> None:
        self.settings = settings
        self.webhook = settings.telegram_webhook_url is not None
        secret = settings.telegram_webhook_secret
        if self.webhook and secret is None:
            raise ValueError("webhook mode needs TELEGRAM_WEBHOOK_SECRET")
        if settings.telegram_bot_token is None:
            raise ValueError("TELEGRAM_BOT_TOKEN is not set")
        self._secret = secret.get_secret_value() if secret else None
        self._requests = (HTTPXRequest(API_POOL_SIZE), HTTPXRequest(1))
        self.pacer = pacer_for(limits(settings.telegram_global_rate))
        self.app = build_application(settings, deps, self._requests, self.pacer)
        self._sender: TelegramSender | None = None

    def sender(self) -> TelegramSender:
        """Pushes (alerts, digests, broadcasts) through our own Bot API client."""
        if self._sender is None:
            assert self.settings.telegram_bot_token is not None
            client = TelegramClient(
                api_url=str(self.settings.telegram_api_url),
                token=self.settings.telegram_bot_token.get_secret_value(),
            )
            rate = self.settings.telegram_global_rate
            self._sender = TelegramSender(client, global_rate=rate, pacer=self.pacer)
        return self._sender

    def routes(self) -> list[BaseRoute]:
        """POST /telegram/webhook: refused (403) unless webhook mode and the secret header."""
        return [Route(WEBHOOK_PATH, self._webhook, methods=["POST"])]

    async def _webhook(self, request: Request) -> Response:
        given = request.headers.get(SECRET_HEADER, "")
        secret = self._secret
        if (
            not self.webhook
            or not secret
            or not hmac.compare_digest(given.encode(), secret.encode())
        ):
            log.warning("webhook call refused: wrong or missing secret header")
            return Response(status_code=403)
        data = await read_json_body(request)
        if isinstance(data, Response):
            return data
        await self._accept(data)
        return Response(status_code=200)

    async def _accept(self, data: dict[str, Any]) -> None:
        try:
            update = Update.de_json(data, self.app.bot)
        except Exception as exc:  # a malformed update is dropped; Telegram must not retry it
            log.warning("webhook: unreadable update dropped: %r", exc)
            return
        await self.app.update_queue.put(update)

    async def start(self) -> None:
        """Initialise, publish commands, then receive updates (the HTTP server already runs);
        a refused token or unreachable API is a ChannelError that never quotes the token."""
        try:
            await self._start()
        except (TelegramError, OSError) as exc:
            assert self.settings.telegram_bot_token is not None
            token = self.settings.telegram_bot_token.get_secret_value()
            why = redact(str(exc).replace(token, "<token>"))  # PTB quotes a rejected token
            raise ChannelError(CANNOT_START.format(why=why)) from exc

    async def _start(self) -> None:
        await self.app.initialize()
        await set_commands(self.app)
        if self.webhook:
            if self.settings.telegram_webhook_url.path != WEBHOOK_PATH:  # type: ignore[union-attr]
                log.warning("TELEGRAM_WEBHOOK_URL should reach this server's %s", WEBHOOK_PATH)
            await self.app.bot.set_webhook(
                str(self.settings.telegram_webhook_url),
                secret_token=self._secret,
                allowed_updates=ALLOWED_UPDATES,
            )
            log.info("Telegram webhook mode on %s", WEBHOOK_PATH)
        else:
            assert self.app.updater is not None
            await self.app.updater.start_polling(
                timeout=POLL_TIMEOUT_SECONDS, allowed_updates=ALLOWED_UPDATES
            )
            log.info("Telegram long polling")
        await self.app.start()

    async def stop(self) -> None:
        """Stop receiving, finish handlers, close HTTP clients."""
        try:
            if self.app.updater is not None and self.app.updater.running:
                await self.app.updater.stop()
            if self.app.running:
                await self.app.stop()
        finally:
            await self.app.shutdown()
            for request in self._requests:  # shutdown() skips them if start-up failed
                await request.shutdown()


def register(ctx: ChannelContext) -> TelegramChannel | None:
    """The Telegram channel when TELEGRAM_BOT_TOKEN is set."""
    settings = ctx.settings
    if settings.telegram_bot_token is None:
        return None
    deps = BotDeps(ctx.services(True), frozenset(settings.telegram_admin_ids))
    try:
        return TelegramChannel(settings, deps)
    except ValueError as exc:
        raise ChannelError(INVALID_CONFIGURATION.format(why=exc), exit_code=2) from exc
