"""Zalo channels: bot accounts (Zalo Bot Platform) and Official Accounts (OA Open API).

Registration reads the settings only: the channels' modules (clients, webhooks, token
store) are imported when one is configured, so a service without Zalo never loads them.
"""

from __future__ import annotations

from bot.channel import Channel, ChannelContext


def register_bot(ctx: ChannelContext) -> Channel | None:
    """The Zalo bot account when ZALO_BOT_TOKEN is set."""
    if ctx.settings.zalo_bot_token is None:
        return None
    from bot.zalo.channel import build_bot

    return build_bot(ctx)


def register_oa(ctx: ChannelContext) -> Channel | None:
    """The Official Account when its four settings are set."""
    if not ctx.settings.zalo_oa_configured:
        return None
    from bot.zalo.channel import build_oa

    return build_oa(ctx)
