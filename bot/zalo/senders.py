"""Outbound halves of both Zalo surfaces: a Reply in, Zalo messages out, one Result back.

Pace (the fake enforces the same numbers; Zalo publishes no per-chat figure for bots):
the Bot Platform is paced like Telegram's bots, the OA by its ~4,000 requests a minute.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy.engine import Engine

from bot.zalo.alarms import Alarms
from bot.zalo.bot_client import ZaloBotClient
from bot.zalo.oa_client import UNREACHABLE_CODES, OAButton, ZaloOAClient
from bot.zalo.render import ChoiceMemory, Rendered, render
from bot.zalo.results import Kind, Result
from bot.zalo.tokens import ConfigurationAlarm, TokenKeeper
from jobs.delivery.reply import Reply
from storage import reach
from storage.db import session_scope
from storage.types import utcnow

log = logging.getLogger(__name__)

BOT_PLATFORM = "zalo_bot"
OA_PLATFORM = "zalo"
BOT_GLOBAL_RATE = 20.0  # messages a second over all chats
BOT_CHAT_RATE = 1.0  # messages a second to one chat (short bursts are answered 429)
OA_GLOBAL_RATE = 60.0  # 4,000 a minute is 66/s: keep under it
OA_CHAT_RATE = 5.0
QUOTA_HOLD_SECONDS = 3600.0  # after -211, look again this much later (Zalo gives no reset time)
QUOTA_ALARM = "zalo-quota"
TOKEN_ALARM = "zalo-token"
UNREACHABLE_REASONS = tuple(f"zalo {code}" for code in UNREACHABLE_CODES)


@dataclass(frozen=True)
class Payload:
    """One Zalo message: its text, the OA buttons and the choices a typed number picks."""

    text: str
    buttons: tuple[OAButton, ...] = ()
    choices: tuple[str, ...] = ()


def payloads(rendered: Rendered) -> list[Payload]:
    """Split messages; buttons and choices belong to the last one (the reader's next step)."""
    out = [Payload(text) for text in rendered.texts]
    if out:
        out[-1] = Payload(out[-1].text, tuple(rendered.buttons), tuple(rendered.choices))
    return out


class _Delivers(Protocol):
    async def deliver(self, external_id: str, payload: Payload) -> Result: ...


async def _each(sender: _Delivers, external_id: str, parts: list[Payload]) -> Result:
    result = Result(Kind.PERMANENT, reason="empty reply")
    for part in parts:
        result = await sender.deliver(external_id, part)
        if not result.ok:
            return result
    return result


class ZaloBotSender:
    """Sends replies through the Bot Platform's sendMessage (plain text, numbered choices)."""

    platform = BOT_PLATFORM
    global_rate = BOT_GLOBAL_RATE
    chat_rate = BOT_CHAT_RATE

    def __init__(self, client: ZaloBotClient, choices: ChoiceMemory | None = None) -> None:
        self.client = client
        self.choices = choices or ChoiceMemory()

    def payloads(self, reply: Reply, lang: str | None = None) -> list[Payload]:
        """The reply as messages of at most 2,000 characters, choices numbered."""
        return payloads(render(reply, lang, oa_buttons=False))

    async def deliver(self, external_id: str, payload: Payload) -> Result:
        """One sendMessage; the last part's choices are remembered for typed numbers."""
        result = await self.client.send_message(external_id, payload.text)
        if result.ok:
            self.choices.remember(external_id, list(payload.choices))
        return result

    async def send_reply(self, external_id: str, reply: Reply, lang: str) -> Result:
        """Every part of a reply in order; the first failure ends it and is the result."""
        return await _each(self, external_id, self.payloads(reply, lang))


class ZaloOASender:
    """Sends replies as OA consultation messages: token refresh, window, quota and alarms."""

    platform = OA_PLATFORM
    global_rate = OA_GLOBAL_RATE
    chat_rate = OA_CHAT_RATE

    def __init__(
        self,
        client: ZaloOAClient,
        keeper: TokenKeeper,
        *,
        engine: Engine,
        alarms: Alarms | None = None,
        choices: ChoiceMemory | None = None,
        clock: Callable[[], datetime] = utcnow,
        monotonic: Callable[[], float] = time.monotonic,
        quota_hold_seconds: float = QUOTA_HOLD_SECONDS,
    ) -> None:
        self.client, self.keeper, self.engine = client, keeper, engine
        self.alarms = alarms or Alarms()
        self.choices = choices or ChoiceMemory()
        self.clock, self.monotonic = clock, monotonic
        self.quota_hold_seconds = quota_hold_seconds
        self.quota_until = 0.0  # monotonic time before which the whole queue holds
        self.unreachable: dict[str, str] | None = None  # loaded on first use

    def reachable_again(self, external_id: str) -> None:
        """The user wrote: proactive messages may go again."""
        if self.unreachable is not None:
            self.unreachable.pop(external_id, None)

    def payloads(self, reply: Reply, lang: str | None = None) -> list[Payload]:
        """The reply as messages of at most 2,000 characters, OA buttons on the last one."""
        return payloads(render(reply, lang, oa_buttons=True))

    async def send_reply(self, external_id: str, reply: Reply, lang: str) -> Result:
        """Every part of a reply in order; the first failure ends it and is the result."""
        return await _each(self, external_id, self.payloads(reply, lang))

    async def deliver(self, external_id: str, payload: Payload) -> Result:
        """One message/cs: held while the quota is out or the user unreachable; the token is
        refreshed (and the message sent once more) when Zalo refuses it."""
        held = self._held(external_id)
        if held is None:
            held = await self._short_circuit(external_id)
        if held is not None:
            return held
        try:
            token = await self.keeper.access_token()
        except ConfigurationAlarm as exc:
            return self._token_alarm(exc)
        buttons = list(payload.buttons) or None
        result = await self.client.send_text(token, external_id, payload.text, buttons)
        if result.kind is Kind.TOKEN:  # expired or removed: refresh, then once more
            try:
                token = await self.keeper.refresh(stale=token)
            except ConfigurationAlarm as exc:
                return self._token_alarm(exc)
            result = await self.client.send_text(token, external_id, payload.text, buttons)
        if not result.ok:
            return await self._failed(external_id, result)
        self.alarms.clear(TOKEN_ALARM)
        self.alarms.clear(QUOTA_ALARM)  # told once per outage, however long it lasts
        self.choices.remember(external_id, list(payload.choices))
        return result

    def _token_alarm(self, exc: ConfigurationAlarm) -> Result:
        self.alarms.raise_(TOKEN_ALARM, f"Zalo OA stopped: {exc}")
        return Result(Kind.CONFIG, reason=str(exc))

    def _held(self, external_id: str) -> Result | None:
        left = self.quota_until - self.monotonic()
        if left > 0:
            return Result(Kind.QUOTA, reason="zalo -211: out of quota (held)", retry_after=left)
        return None  # the alarm stays raised until a message goes out again

    async def _short_circuit(self, external_id: str) -> Result | None:
        if self.unreachable is None:
            self.unreachable = await asyncio.to_thread(self._load_unreachable)
        reason = self.unreachable.get(external_id)
        return Result(Kind.GONE, reason=reason) if reason is not None else None

    def _load_unreachable(self) -> dict[str, str]:
        with session_scope(self.engine) as session:
            return reach.unreachable_chats(session, platform=OA_PLATFORM)

    async def _failed(self, external_id: str, result: Result) -> Result:
        if result.kind is Kind.QUOTA:
            self.quota_until = self.monotonic() + self.quota_hold_seconds
            self.alarms.raise_(
                QUOTA_ALARM,
                "Zalo OA: out of quota (-211); Zalo sends are held and resume by themselves.",
            )
            return Result(Kind.QUOTA, reason=result.reason, retry_after=self.quota_hold_seconds)
        if result.kind is Kind.GONE:
            if self.unreachable is not None:
                self.unreachable[external_id] = result.reason
            await asyncio.to_thread(self._mark, external_id, result.reason)
        return result

    def _mark(self, external_id: str, reason: str) -> None:
        with session_scope(self.engine) as session:
            reach.mark_unreachable(
                session,
                platform=OA_PLATFORM,
                external_id=external_id,
                reason=reason,
                now=self.clock(),
            )
