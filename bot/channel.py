"""A chat platform as the service sees it: one `Channel`, built by one registration function.

    registration(ctx: ChannelContext) -> Channel | None     (None: not configured here)

A channel has an inbound half (platform update -> `bot.commands.Request`, `Reply` -> the
platform's answer; it starts and stops it) and an outbound half, its `Sender`
(jobs.delivery.outbound), which the dispatcher uses for alerts, digests and broadcasts. The
service owns the one HTTP server and mounts each channel's `routes()` on it (a webhook checks
its own secret). bot.channels holds the one visible list of registrations.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, TextIO

from sqlalchemy.engine import Engine
from starlette.routing import BaseRoute

from bot.commands import Services
from bot.settings import Settings
from jobs.delivery.outbound import Sender


class ChannelError(Exception):
    """A channel could not start; `exit_code` and a message for the terminal (no secrets)."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass
class ChannelContext:
    """What the composition root hands every registration."""

    settings: Settings
    engine: Engine
    # A fresh Services per channel (each its own inbound flood limiter); False: no limit.
    services: Callable[[bool], Services]
    stop: asyncio.Event  # set it to end the service (e.g. the console's end of input)
    stdin: TextIO | None = None
    stdout: TextIO | None = None
    exit_code: int = 0  # what the service returns; a channel that ends it may set it


class Channel(Protocol):
    """One platform, inbound and outbound."""

    @property
    def platform(self) -> str:
        """The `Chat.platform` value of this channel's chats."""
        ...

    def sender(self) -> Sender | None:
        """The outbound half for the dispatcher (None: this channel receives only)."""
        ...

    def routes(self) -> list[BaseRoute]:
        """HTTP routes to mount on the service's server (webhooks); may be empty."""
        ...

    async def start(self) -> None:
        """Begin receiving (raise ChannelError to refuse with a clear message)."""
        ...

    async def stop(self) -> None:
        """Stop receiving and release what start() took (safe after a failed start)."""
        ...


Registration = Callable[[ChannelContext], Channel | None]
