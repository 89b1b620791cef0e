"""Telegram's outbound half: renders a neutral Reply as HTML messages and sends each one."""

from __future__ import annotations

from typing import Any

from bot.telegram.client import TelegramClient
from bot.telegram.format import to_messages
from jobs.delivery.outbound import Limits, Outcome, Recipient
from jobs.delivery.pacing import RateLimiter
from jobs.delivery.reply import Reply

PLATFORM = "telegram"
# Telegram's documented limits: ~30 messages/s per bot (we default lower, see settings),
# one per second per private chat, 20 per minute per group.
CHAT_INTERVAL_SECONDS = 1.0
GROUP_PER_MINUTE = 20


def limits(global_rate: float) -> Limits:
    """Telegram's limits for an account allowed `global_rate` messages per second."""
    return Limits(
        global_rate=global_rate,
        chat_interval=CHAT_INTERVAL_SECONDS,
        group_per_minute=GROUP_PER_MINUTE,
    )


def pacer_for(account: Limits) -> RateLimiter:
    """The one limiter of a bot account (pushes and replies)."""
    return RateLimiter(
        global_rate=account.global_rate,
        private_interval=account.chat_interval,
        group_per_minute=account.group_per_minute,
    )


Payload = tuple[str, dict[str, Any] | None]  # HTML text, inline keyboard as a dict


def render(reply: Reply) -> list[Payload]:
    """HTML text and keyboard dict per message (4096 visible characters each)."""
    out: list[Payload] = []
    for message in to_messages(reply):
        markup = message.reply_markup.to_dict() if message.reply_markup else None
        out.append((message.text, markup))
    return out


class TelegramSender:
    """A `jobs.delivery.outbound.Sender` for one bot account; `pacer` is the account's one
    budget, shared with the replies python-telegram-bot sends (bot.telegram.budget)."""

    platform = PLATFORM

    def __init__(
        self, client: TelegramClient, *, global_rate: float, pacer: RateLimiter | None = None
    ) -> None:
        self.client = client
        self.limits = limits(global_rate)
        self.pacer = pacer or pacer_for(self.limits)

    def render(self, reply: Reply) -> list[Any]:
        """HTML text and keyboard dict per message (4096 visible characters each)."""
        return list(render(reply))

    async def send(self, recipient: Recipient, payload: Any) -> Outcome:
        """One sendMessage."""
        text, markup = payload
        return await self.client.send_message(recipient.external_id, text, reply_markup=markup)

    async def aclose(self) -> None:
        """Close the Bot API connection pool."""
        await self.client.aclose()
