"""Inbound halves: a Zalo update or OA event -> the channel-neutral command logic -> a reply.

Both surfaces: an event is taken in once (storage.inbound; Zalo retries webhooks and the
bot's getUpdates has no offset), one at a time per chat. A typed number picks one of the
choices last offered; an OA button press comes back as its payload, the button's data.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from bot.commands import Request, Services, handle, is_paging, press
from bot.i18n import alert_words, pick_language, t
from bot.memory import in_command_thread
from bot.zalo.render import ChoiceMemory
from bot.zalo.results import Kind, Result
from jobs.delivery.alerts import UNSUB_PREFIX, AlertArticle, digest_replies
from jobs.delivery.pacing import RateLimiter
from jobs.delivery.reply import Inline, Reply, Text
from storage import chats, inbound, reach
from storage.db import session_scope
from storage.models import Article, Chat
from storage.types import utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Incoming:
    """One thing a Zalo user did, as both surfaces say it."""

    platform: str
    chat_id: str
    user_id: str
    event_id: str
    kind: str  # text | follow | unfollow
    text: str = ""
    chat_kind: str = "private"


def from_bot_update(update: dict[str, Any], platform: str) -> Incoming | None:
    """A Bot Platform update (message.text.received), or None for anything else."""
    message = update.get("message")
    if update.get("event_name") != "message.text.received" or not isinstance(message, dict):
        return None
    chat, sender = message.get("chat") or {}, message.get("from") or {}
    text, chat_id = message.get("text"), chat.get("id")
    if not isinstance(text, str) or not chat_id:
        return None
    kind = "group" if str(chat.get("chat_type", "")).upper() == "GROUP" else "private"
    msg_id = str(message.get("message_id") or "")
    user = str(sender.get("id") or chat_id)
    return Incoming(platform, str(chat_id), user, msg_id, "text", text, kind)


def from_oa_event(event: dict[str, Any], platform: str) -> Incoming | None:
    """An OA webhook event (user_send_text, follow, unfollow), or None for anything else."""
    name = event.get("event_name")
    stamp = str(event.get("timestamp", ""))
    if name == "user_send_text":
        sender, message = event.get("sender") or {}, event.get("message") or {}
        user, text = str(sender.get("id") or ""), message.get("text")
        if not user or not isinstance(text, str):
            return None
        event_id = str(message.get("msg_id") or f"text:{user}:{stamp}")
        return Incoming(platform, user, user, event_id, "text", text)
    if name in ("follow", "unfollow"):
        user = str((event.get("follower") or {}).get("id") or "")
        return Incoming(platform, user, user, f"{name}:{user}:{stamp}", name) if user else None
    return None


class Sender(Protocol):
    """What the inbound half needs of a sender (bot.zalo.senders)."""

    platform: str

    def payloads(self, reply: Reply, lang: str) -> list[Any]:
        """The reply as messages."""
        ...

    async def deliver(self, external_id: str, payload: Any) -> Result:
        """Send one message."""
        ...


MAX_REPLY_WAIT_SECONDS = 10.0  # a person is waiting: wait out a short rate limit, then send
MAX_REPLY_TRIES = 3


class Inbound:
    """Takes Incoming events in, runs the commands and sends the replies."""

    def __init__(
        self,
        services: Services,
        sender: Sender,
        *,
        choices: ChoiceMemory,
        admin_ids: frozenset[str] = frozenset(),
        on_reachable: Callable[[str], None] | None = None,
        clock: Callable[[], datetime] = utcnow,
        pacer: RateLimiter | None = None,
    ) -> None:
        self.services, self.sender, self.choices = services, sender, choices
        self.admin_ids, self.on_reachable, self.clock = admin_ids, on_reachable, clock
        self.pacer = pacer  # the account's one budget, shared with its pushes
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
        self.handled = 0

    def _turn(self, chat_id: str) -> asyncio.Lock:
        lock = self._locks.get(chat_id)
        if lock is None:
            lock = self._locks[chat_id] = asyncio.Lock()
        return lock

    async def take(self, inc: Incoming) -> None:
        """Handle one event, once; a failure is logged and answered with an apology."""
        async with self._turn(inc.chat_id):
            if not await asyncio.to_thread(self._first_time, inc):
                log.info("%s event %s seen before: ignored", inc.platform, inc.event_id[:40])
                return
            self.handled += 1
            with self._people_first():
                try:
                    await self._take(inc)
                except Exception:
                    log.exception("%s event failed for chat %s", inc.platform, inc.chat_id)
                    await self.reply(inc.chat_id, Reply.plain(t("vi", "error")), "vi")

    def _people_first(self) -> contextlib.AbstractContextManager[None]:
        """Pushes on this account step aside while a person's message is answered."""
        return self.pacer.answering(time.monotonic) if self.pacer else contextlib.nullcontext()

    def _first_time(self, inc: Incoming) -> bool:
        if not inc.event_id:
            return True
        with session_scope(self.services.engine) as session:
            return inbound.first_time(
                session, platform=inc.platform, event_id=inc.event_id, now=self.clock()
            )

    def _request(self, inc: Incoming, text: str) -> Request:
        return Request(
            platform=inc.platform,
            chat_id=inc.chat_id,
            text=text,
            chat_kind=inc.chat_kind,
            user_id=inc.user_id,
            is_admin=inc.user_id in self.admin_ids,
        )

    async def _take(self, inc: Incoming) -> None:
        if inc.kind == "unfollow":
            await asyncio.to_thread(self._unfollow, inc)
            return
        missed = await asyncio.to_thread(self._come_back, inc)
        if inc.kind == "follow":
            reply = await in_command_thread(handle, self.services, self._request(inc, "/start"))
        else:
            reply = await self._answer(inc)
        lang = await asyncio.to_thread(self._lang, inc)
        if reply is not None and reply.lines:
            await self.reply(inc.chat_id, reply, lang)
        for part in missed:
            await self.reply(inc.chat_id, part, lang)

    async def reply(self, chat_id: str, reply: Reply, lang: str) -> bool:
        """Send a reply part by part, from the account's one budget (ahead of pushes); a
        rate-limited part waits its turn and goes, never dropped. False when a part did not."""
        for payload in self.sender.payloads(reply, lang):
            for _try in range(MAX_REPLY_TRIES):
                result = await self._paced(chat_id, payload)
                wait = result.retry_after
                if result.kind is not Kind.RETRY_AFTER or wait > MAX_REPLY_WAIT_SECONDS:
                    break
                if self.pacer is not None:
                    self.pacer.pause_chat(chat_id, time.monotonic() + wait)
                else:
                    await asyncio.sleep(wait)  # the platform said how long
            if not result.ok:
                log.warning("%s reply to %s not sent: %s", self.sender.platform, chat_id,
                            result.reason)  # fmt: skip
                return False
        return True

    async def _paced(self, chat_id: str, payload: Any) -> Result:
        pacer = self.pacer
        if pacer is None:
            return await self.sender.deliver(chat_id, payload)
        await _turn(pacer, chat_id)
        ticket = pacer.begin(chat_id, group=False, now=time.monotonic(), reply=True)
        try:
            return await self.sender.deliver(chat_id, payload)
        finally:
            pacer.finish(ticket, now=time.monotonic())

    async def _answer(self, inc: Incoming) -> Reply | None:
        text = inc.text.strip()
        data = self.choices.pick(inc.chat_id, text)
        if data is None and (is_paging(text) or text.startswith(UNSUB_PREFIX)):
            data = text  # an OA button press: its payload comes back as the user's text
        if data is not None:
            pressed = await in_command_thread(press, self.services, self._request(inc, data))
            return pressed.reply if pressed is not None else None
        return await in_command_thread(handle, self.services, self._request(inc, text))

    def _unfollow(self, inc: Incoming) -> None:
        with session_scope(self.services.engine) as session:
            chat = chats.find_chat(session, platform=inc.platform, external_id=inc.chat_id)
            if chat is not None and chat.id is not None:
                chats.deactivate_chat(session, chat_id=chat.id, reason="zalo: unfollowed the OA")

    def _lang(self, inc: Incoming) -> str:
        with session_scope(self.services.engine) as session:
            chat = chats.find_chat(session, platform=inc.platform, external_id=inc.chat_id)
            return pick_language(chat.language if chat else None, None)

    def _come_back(self, inc: Incoming) -> list[Reply]:
        """Reactivate a chat Zalo could not reach (or that stopped); its missed alerts."""
        with session_scope(self.services.engine) as session:
            chat = chats.find_chat(session, platform=inc.platform, external_id=inc.chat_id)
            if chat is None or chat.id is None:
                return []
            # The user wrote, so Zalo can reach them now, whatever stopped deliveries before
            # (unfollow, blocked the bot): Zalo users do not type /start to come back.
            was_off = not chat.active
            if not was_off and chat.unreachable_reason is None:
                return []
            if was_off:
                chat.active, chat.inactive_reason = True, None
                session.add(chat)
            missed = reach.come_back(session, chat_id=chat.id, reasons=_REASONS)
            replies = _missed_digest(session, chat, missed, self.services) if missed else []
        if self.on_reachable is not None:
            self.on_reachable(inc.chat_id)
        return replies


_REASONS = ("zalo -230", "zalo -213")


async def _turn(pacer: RateLimiter, chat_id: str) -> None:
    """Wait until a reply may go (ahead of pushes: they yield while a person waits)."""
    with pacer.answering(time.monotonic):
        while True:
            delay = pacer.wait(chat_id, group=False, now=time.monotonic(), priority=True)
            if delay <= 0:
                return
            await asyncio.sleep(delay)  # a time window, not an event: nothing to await


def _missed_digest(
    session: Any, chat: Chat, missed: list[reach.Missed], services: Services
) -> list[Reply]:
    lang = pick_language(chat.language, None)
    entries = []
    for m in missed:
        art = session.get(Article, m.article_id)
        if art is None:
            continue
        alert = AlertArticle(art.title, art.url, art.published_at, art.local_date, art.summary, "")
        entries.append((m.delivery_id, alert, m.topic))
    if not entries:
        return []
    day = services.clock().astimezone(services.tz).strftime("%d/%m/%Y")
    parts = digest_replies(entries, day=day, tz=services.tz, words=alert_words(lang))
    head: list[Inline] = [Text(t(lang, "zalo_missed", n=len(entries)))]
    first = parts[0][0]
    return [Reply(lines=[head, *first.lines]), *(reply for reply, _ids in parts[1:])]
