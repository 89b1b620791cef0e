"""The admins' watch: final reports of broadcasts, and source alarms (once failing, once back).

Runs every few seconds in every replica; conditional UPDATEs make each report and alarm once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta
from functools import partial

from bot.commands import Services
from bot.commands.access import notify_admins
from bot.commands.broadcasts import author_lang, progress_text, report_text
from bot.i18n import describe_reason, t
from storage import broadcasts
from storage.articles import list_source_states, set_alarmed
from storage.db import session_scope
from storage.models import Chat, SourceState

log = logging.getLogger(__name__)

WATCH_SECONDS = 5.0


def _alarm(st: SourceState, lang: str) -> str:
    if st.layout_changed:
        return t(lang, "alarm_layout", source=st.name)
    why = describe_reason(st.last_error or "", lang)
    return t(lang, "alarm_failing", source=st.name, n=st.consecutive_failures, why=why)


def _recovered(name: str, lang: str) -> str:
    return t(lang, "alarm_recovered", source=name)


def watch_once(services: Services, *, alarm_failures: int) -> int:
    """Queue due reports and alarms; how many notices were queued."""
    queued = 0
    with session_scope(services.engine) as session:
        now = services.clock()
        for row, counts in broadcasts.finish_ready(session, now=now):
            chat = session.get(Chat, row.author_chat_id) if row.author_chat_id else None
            if chat is not None and chat.active:
                text = report_text(row, counts, chat)
                queued += broadcasts.notify(session, chat_ids=[chat.id or 0], text=text, now=now)
    with session_scope(services.engine) as session:
        for name, st in list_source_states(session).items():
            failing = st.consecutive_failures >= alarm_failures or st.layout_changed
            healthy = st.consecutive_failures == 0 and not st.layout_changed
            if failing and not st.alarmed and set_alarmed(session, name=name, alarmed=True):
                queued += notify_admins(session, services, text=partial(_alarm, st))
            elif healthy and st.alarmed and set_alarmed(session, name=name, alarmed=False):
                queued += notify_admins(session, services, text=partial(_recovered, name))
    return queued


def progress_once(services: Services, shown: dict[int, str]) -> int:
    """Edit each broadcast's progress message when its counts changed; how many edits.

    `shown` remembers the text each message shows (an unchanged edit is an API error).
    """
    edit = services.edit_message
    if edit is None:
        return 0
    since = services.clock() - timedelta(seconds=WATCH_SECONDS * 3)
    with session_scope(services.engine) as session:
        current = broadcasts.in_progress(session, since=since)
        edits = []
        for p in current:
            lang = author_lang(p.broadcast, p.chat)
            text = progress_text(p.broadcast, p.counts, lang, services.send_rate)
            key = p.broadcast.id or 0
            if shown.get(key) != text:
                edits.append((key, p.chat.platform, p.chat.external_id, p.message_id, text))
    done = 0
    for key, platform, chat, message_id, text in edits:  # network calls: outside the session
        try:
            edit(platform, chat, message_id, text)
        except Exception as exc:  # e.g. the message was deleted: the report still follows
            log.info("progress of broadcast %d not edited: %r", key, exc)
        shown[key] = text
        done += 1
    return done


async def watch(services: Services, stop: asyncio.Event, *, alarm_failures: int) -> None:
    """`watch_once` and `progress_once` every WATCH_SECONDS until `stop` is set; an error is
    logged, not fatal."""
    shown: dict[int, str] = {}
    while not stop.is_set():
        try:
            await asyncio.to_thread(watch_once, services, alarm_failures=alarm_failures)
            await asyncio.to_thread(progress_once, services, shown)
        except Exception as exc:  # a database outage delays reports and alarms, loses none
            log.warning("admin watch failed: %r", exc)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), WATCH_SECONDS)
