"""The console channel: the bot's commands in this terminal, alerts printed by its sender."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import threading
from typing import TextIO

from starlette.routing import BaseRoute

from bot.channel import ChannelContext
from bot.commands import Services
from bot.console.chat import PLATFORM, Screen, chat_loop
from bot.console.sender import ConsoleSender
from bot.i18n import NO_TOKEN_HELP

log = logging.getLogger(__name__)


def prompt_for(stdin: TextIO) -> str:
    """A "> " prompt for a person at a terminal; none when input is piped."""
    return "> " if stdin.isatty() else ""


class ConsoleChannel:
    """Reads commands from stdin in a thread; the end of input ends the service."""

    platform = PLATFORM

    def __init__(self, ctx: ChannelContext, services: Services) -> None:
        self.ctx = ctx
        self.services = services
        self.stdin = ctx.stdin or sys.stdin
        self.out = ctx.stdout or sys.stdout
        self.screen = Screen()
        self._sender = ConsoleSender(self.out, self.screen)

    def sender(self) -> ConsoleSender:
        """Prints alerts for console chats."""
        return self._sender

    def routes(self) -> list[BaseRoute]:
        """No webhook: input comes from the terminal."""
        return []

    async def start(self) -> None:
        """Say how to reach Telegram instead, then read the terminal in a daemon thread."""
        print(NO_TOKEN_HELP, file=self.out, flush=True)
        loop = asyncio.get_running_loop()

        def finish(code: int) -> None:
            self.ctx.exit_code = code
            self.ctx.stop.set()

        def read() -> None:
            code = 1
            try:
                code = chat_loop(
                    self.services,
                    self.stdin,
                    self.out,
                    prompt=prompt_for(self.stdin),
                    screen=self.screen,
                )
            except KeyboardInterrupt:
                code = 0
            except Exception:
                log.exception("the console chat failed")
            finally:
                with contextlib.suppress(RuntimeError):  # the loop closed first
                    loop.call_soon_threadsafe(finish, code)

        # A daemon thread: a blocking read of stdin must not keep a stopping process alive.
        threading.Thread(target=read, name="console", daemon=True).start()

    async def stop(self) -> None:
        """The reading thread is a daemon; nothing else to release."""


def register(ctx: ChannelContext) -> ConsoleChannel:
    """The console channel (the fallback when no other channel is configured)."""
    return ConsoleChannel(ctx, ctx.services(False))
