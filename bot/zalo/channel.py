"""Both Zalo surfaces as channels of the delivery core: registration, routes, start/stop, and
their outbound halves (a Result from bot.zalo.results becomes the core's Outcome).

    build_bot(ctx)  ZALO_BOT_TOKEN set: webhook (ZALO_BOT_WEBHOOK_URL + _SECRET) or getUpdates
    build_oa(ctx)   ZALO_APP_ID, ZALO_APP_SECRET, ZALO_OA_SECRET_KEY, ZALO_REFRESH_TOKEN set
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.routing import BaseRoute

from bot.channel import ChannelContext, ChannelError
from bot.zalo.alarms import Alarms
from bot.zalo.bot_client import ZaloBotClient, ZaloBotError
from bot.zalo.inbound import Inbound
from bot.zalo.oa_client import ZaloOAClient
from bot.zalo.polling import poll_updates
from bot.zalo.render import ChoiceMemory
from bot.zalo.results import Kind, Result
from bot.zalo.senders import (
    BOT_CHAT_RATE,
    BOT_GLOBAL_RATE,
    BOT_PLATFORM,
    OA_CHAT_RATE,
    OA_GLOBAL_RATE,
    OA_PLATFORM,
    ZaloBotSender,
    ZaloOASender,
)
from bot.zalo.tokens import TokenKeeper
from bot.zalo.webhooks import EventQueue, bot_webhook_route, oa_webhook_route
from jobs.delivery.outbound import (
    Ambiguous,
    ConfigurationError,
    Limits,
    Outcome,
    PermanentFailure,
    Recipient,
    RecipientGone,
    RetryAfter,
    Sent,
    TemporaryFailure,
)
from jobs.delivery.pacing import RateLimiter
from jobs.delivery.reply import Reply
from storage import reach
from storage.db import session_scope
from storage.types import utcnow

log = logging.getLogger(__name__)


def to_outcome(result: Result, *, window_gone: bool) -> Outcome:
    """The core's outcome for a Zalo result. On the OA (`window_gone`) a user Zalo cannot
    reach now stays registered: the row fails with the reason and later alerts keep queuing."""
    kind, reason = result.kind, result.reason
    if kind is Kind.SENT:
        return Sent(message_id=result.message_id)
    if kind is Kind.RETRY_AFTER:
        scope = "global" if window_gone else "chat"  # the OA's -32 is per account
        return RetryAfter(seconds=result.retry_after, scope=scope, reason=reason)
    if kind is Kind.QUOTA:
        return RetryAfter(seconds=result.retry_after, scope="global", reason=reason)
    if kind is Kind.TEMPORARY:
        return TemporaryFailure(reason)
    if kind is Kind.AMBIGUOUS:
        return Ambiguous(reason)
    if kind is Kind.GONE:
        return PermanentFailure(reason) if window_gone else RecipientGone(reason)
    if kind in (Kind.CONFIG, Kind.TOKEN):
        return ConfigurationError(reason)
    return PermanentFailure(reason)


def pacer_for(limits: Limits) -> RateLimiter:
    """The one limiter of an account: the dispatcher's pushes and the channel's replies."""
    return RateLimiter(global_rate=limits.global_rate, private_interval=limits.chat_interval)


class _PushSender:
    """One Zalo surface as the core's `jobs.delivery.outbound.Sender`: the surfaces differ
    only in their name, limits and what a user Zalo cannot reach means (`window_gone`)."""

    platform: str
    limits: Limits
    window_gone: bool

    def __init__(self, sender: ZaloBotSender | ZaloOASender) -> None:
        self.inner = sender
        self.pacer = pacer_for(self.limits)

    def render(self, reply: Reply) -> list[Any]:
        """Messages of at most 2,000 characters; choices numbered (OA: its buttons too)."""
        return list(self.inner.payloads(reply))

    async def send(self, recipient: Recipient, payload: Any) -> Outcome:
        """One send (on the OA: token refresh, quota hold and the 7-day window inside)."""
        result = await self.inner.deliver(recipient.external_id, payload)
        return to_outcome(result, window_gone=self.window_gone)

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self.inner.client.aclose()


class BotPushSender(_PushSender):
    """The Bot Platform's sender: sendMessage."""

    platform = BOT_PLATFORM
    limits = Limits(global_rate=BOT_GLOBAL_RATE, chat_interval=1 / BOT_CHAT_RATE)
    window_gone = False

    def __init__(self, sender: ZaloBotSender) -> None:
        super().__init__(sender)
        self.inner: ZaloBotSender = sender


class OAPushSender(_PushSender):
    """The Official Account's sender: message/cs."""

    platform = OA_PLATFORM
    limits = Limits(global_rate=OA_GLOBAL_RATE, chat_interval=1 / OA_CHAT_RATE)
    window_gone = True

    def __init__(self, sender: ZaloOASender) -> None:
        super().__init__(sender)
        self.inner: ZaloOASender = sender


class ZaloBotChannel:
    """A Zalo bot account: webhook when ZALO_BOT_WEBHOOK_URL is set, else getUpdates."""

    platform = BOT_PLATFORM

    def __init__(self, ctx: ChannelContext) -> None:
        s = ctx.settings
        assert s.zalo_bot_token is not None
        self.settings = s
        self.webhook_url = str(s.zalo_bot_webhook_url) if s.zalo_bot_webhook_url else None
        secret = s.zalo_bot_webhook_secret.get_secret_value() if s.zalo_bot_webhook_secret else ""
        if self.webhook_url and not 8 <= len(secret) <= 256:
            raise ChannelError(
                "Invalid configuration: ZALO_BOT_WEBHOOK_SECRET needs 8-256 characters", 2
            )
        self.secret = secret
        self.client = ZaloBotClient(
            token=s.zalo_bot_token.get_secret_value(), api_url=str(s.zalo_bot_api_url)
        )
        choices = ChoiceMemory()
        self.zalo = ZaloBotSender(self.client, choices)
        self._sender = BotPushSender(self.zalo)
        admins = frozenset(s.zalo_admin_ids)
        self.inbound = Inbound(
            ctx.services(True),
            self.zalo,
            choices=choices,
            admin_ids=admins,
            pacer=self._sender.pacer,
        )
        self.queue = EventQueue(self.inbound.take)
        self._stop = asyncio.Event()
        self._poller: asyncio.Task[None] | None = None

    def sender(self) -> BotPushSender:
        """Pushes through sendMessage."""
        return self._sender

    def routes(self) -> list[BaseRoute]:
        """POST /zalo-bot/webhook (refused without the secret, and in polling mode)."""
        secret = self.secret if self.webhook_url else ""
        return [bot_webhook_route(secret=secret, queue=self.queue, platform=self.platform)]

    async def start(self) -> None:
        """Check the token, then set the webhook or start long polling."""
        try:
            me = await self.client.get_me()
            if self.webhook_url:
                await self.client.set_webhook(self.webhook_url, self.secret)
            else:
                await self.client.delete_webhook()
        except ZaloBotError as exc:
            raise ChannelError(f"Không khởi động được bot Zalo / cannot start: {exc}") from exc
        self.queue.start()
        if not self.webhook_url:
            self._poller = asyncio.create_task(
                poll_updates(self.client, self.queue.put, self._stop, platform=self.platform),
                name="zalo-bot-poll",
            )
        log.info(
            "Zalo bot %s: %s",
            me.get("account_name", "?"),
            "webhook" if self.webhook_url else "long polling",
        )

    async def stop(self) -> None:
        """Stop polling and the workers."""
        self._stop.set()
        if self._poller is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._poller, 5)
        await self.queue.stop()
        await self.client.aclose()


class ZaloOAChannel:
    """An Official Account: its webhook on /zalo/webhook, its sender with the token keeper."""

    platform = OA_PLATFORM

    def __init__(self, ctx: ChannelContext, alarms: Alarms) -> None:
        s = ctx.settings
        assert s.zalo_app_id and s.zalo_app_secret and s.zalo_oa_secret_key
        self.settings, self.alarms_ = s, alarms
        self.keeper = TokenKeeper(
            ctx.engine,
            app_id=s.zalo_app_id,
            app_secret=s.zalo_app_secret.get_secret_value(),
            oauth_url=str(s.zalo_oauth_url),
            first_refresh_token=(
                s.zalo_refresh_token.get_secret_value() if s.zalo_refresh_token else None
            ),
        )
        self.client = ZaloOAClient(api_url=str(s.zalo_api_url))
        choices = ChoiceMemory()
        self.zalo = ZaloOASender(
            self.client, self.keeper, engine=ctx.engine, alarms=alarms, choices=choices
        )
        self._sender = OAPushSender(self.zalo)
        self.inbound = Inbound(
            ctx.services(True),
            self.zalo,
            choices=choices,
            admin_ids=frozenset(s.zalo_admin_ids),
            on_reachable=self.zalo.reachable_again,
            pacer=self._sender.pacer,
        )
        self.queue = EventQueue(self.inbound.take)

    def sender(self) -> OAPushSender:
        """Pushes through message/cs."""
        return self._sender

    def routes(self) -> list[BaseRoute]:
        """POST /zalo/webhook (X-ZEvent-Signature checked)."""
        assert self.settings.zalo_app_id and self.settings.zalo_oa_secret_key
        return [
            oa_webhook_route(
                app_id=self.settings.zalo_app_id,
                oa_secret_key=self.settings.zalo_oa_secret_key.get_secret_value(),
                queue=self.queue,
                platform=self.platform,
            )
        ]

    async def start(self) -> None:
        """Store the configured refresh token (once) and take events in."""
        await asyncio.to_thread(self.keeper.seed)
        alarm = await asyncio.to_thread(self.keeper.alarm)
        if alarm:
            self.alarms_.raise_("zalo-token", f"Zalo OA stopped: {alarm}")
        self.queue.start()
        log.info("Zalo OA: webhook on /zalo/webhook")

    def alarms(self) -> dict[str, str]:
        """Raised alarms (token refused for good, quota) for /healthz."""
        return dict(self.alarms_.active)

    async def stop(self) -> None:
        """Stop the workers."""
        await self.queue.stop()
        await self.client.aclose()


def _admin_notice(ctx: ChannelContext) -> Callable[[str], Awaitable[None]]:
    """An alarm goes to every admin chat on every platform, through the delivery queue."""
    s = ctx.settings
    admins = [("telegram", str(i)) for i in s.telegram_admin_ids]
    admins += [(p, z) for p in (OA_PLATFORM, BOT_PLATFORM) for z in s.zalo_admin_ids]

    def queue(text: str) -> None:
        with session_scope(ctx.engine) as session:
            reach.notice_admins(session, text=text, admins=admins, now=utcnow())

    async def notify(text: str) -> None:
        await asyncio.to_thread(queue, text)

    return notify


def build_bot(ctx: ChannelContext) -> ZaloBotChannel:
    """The Zalo bot account (bot.zalo.register_bot decides whether it is configured)."""
    return ZaloBotChannel(ctx)


def build_oa(ctx: ChannelContext) -> ZaloOAChannel:
    """The Official Account (bot.zalo.register_oa decides whether it is configured)."""
    return ZaloOAChannel(ctx, Alarms(notify=_admin_notice(ctx)))
