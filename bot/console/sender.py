"""The console's outbound half: alerts, digests and broadcasts printed in the terminal."""

from __future__ import annotations

import sys
import threading
from typing import Any, TextIO

from bot.console.chat import PLATFORM, Screen, buttons_of, render
from jobs.delivery.outbound import Limits, Outcome, Recipient, Sent
from jobs.delivery.reply import Reply

# One reader at a terminal: no platform limit to respect, only keep the screen readable.
CONSOLE_LIMITS = Limits(global_rate=1000.0, chat_interval=0.0, group_per_minute=1_000_000)


class ConsoleSender:
    """A `jobs.delivery.outbound.Sender` that prints each message as plain text, its buttons
    as numbered choices the chat loop answers (":1")."""

    platform = PLATFORM
    limits = CONSOLE_LIMITS

    def __init__(self, out: TextIO | None = None, screen: Screen | None = None) -> None:
        self.out = out or sys.stdout
        self.screen = screen or Screen()
        self._count = 0
        self._lock = threading.Lock()

    def render(self, reply: Reply) -> list[Any]:
        """One payload: the plain text and the buttons it numbers."""
        text = render(reply)
        return [(text, buttons_of(reply))] if text.strip() else []

    async def send(self, recipient: Recipient, payload: Any) -> Outcome:
        """Print it; the numbered buttons become the ones ":n" presses."""
        text, buttons = payload
        with self._lock:
            print(text, file=self.out, end="\n\n", flush=True)
            if buttons:
                self.screen.buttons = buttons
            self._count += 1
            return Sent(message_id=str(self._count))

    async def aclose(self) -> None:
        """Nothing to release."""
