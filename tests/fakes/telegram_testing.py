"""Helpers for tests that drive the fake Bot API: a clock to move by hand, error text."""

from __future__ import annotations

from typing import Any

import httpx


class ManualClock:
    """The fake's clock for limit tests: time moves only when the test says so."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


def description(resp: httpx.Response) -> str:
    """The Bot API error description of an answer."""
    return str(resp.json()["description"])


def keyboard(data: str, text: str = "Trang sau ›") -> dict[str, Any]:
    """An inline keyboard with one callback button."""
    return {"inline_keyboard": [[{"text": text, "callback_data": data}]]}
