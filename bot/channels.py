"""Every chat platform the service can run, in one visible list (the composition root reads it).

A platform is a plug-in: one folder under bot/ with a `register(ctx) -> Channel | None`
function (bot.channel), and one line here. A registration that reads only the settings and
imports its channel when configured keeps an unused platform out of memory (bot.zalo).
"""

from __future__ import annotations

from bot import zalo
from bot.channel import Registration
from bot.console import channel as console
from bot.telegram import channel as telegram

# Each returns its channel when configured (token, credentials), else None.
CHANNELS: list[Registration] = [
    telegram.register,
    zalo.register_bot,
    zalo.register_oa,
]

# Started when none of CHANNELS is configured: the bot answers in this terminal.
FALLBACK: Registration = console.register
