"""Alerts for console chats: the delivery queue's rows for platform "console", printed.

Without a bot token the console is the only channel, so alerts and broadcasts for console
chats are composed exactly as for Telegram (jobs.delivery.compose: quiet hours, digests, cancels)
and shown as plain text in the terminal instead of being sent.
"""

from __future__ import annotations

import html
import re
from datetime import datetime
from typing import TextIO
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine

from jobs.delivery.compose import compose
from storage import deliveries as q
from storage.db import session_scope

PLATFORM = "console"
OWNER = "console"
BATCH = 200
LEASE_SECONDS = 60.0
POLL_SECONDS = 2.0  # how often the console looks for due alerts
_LINK = re.compile(r'<a href="([^"]*)">(.*?)</a>', re.DOTALL)
_TAG = re.compile(r"<[^>]+>")


def _plain(fragment: str) -> str:
    return html.unescape(_TAG.sub("", fragment))


def html_to_text(text: str) -> str:
    """Telegram HTML as terminal text: links as "title <url>", other tags dropped."""
    out, last = [], 0
    for m in _LINK.finditer(text):
        out += [_plain(text[last : m.start()]), f"{_plain(m[2])} <{html.unescape(m[1])}>"]
        last = m.end()
    return "".join([*out, _plain(text[last:])])


def deliver_due(
    engine: Engine, *, now: datetime, tz: ZoneInfo, out: TextIO, chat_id: int | None = None
) -> int:
    """Print every due console delivery (of one chat, or all) once and mark it sent; returns
    how many rows."""
    with session_scope(engine) as session:
        rows = q.claim_due(
            session,
            owner=OWNER,
            now=now,
            limit=BATCH,
            lease_seconds=LEASE_SECONDS,
            platform=PLATFORM,
            chat_id=chat_id,
        )
        if not rows:
            return 0
        plan = compose(session, rows=rows, now=now, tz=tz)
        for row_id, reason in plan.cancel:
            q.mark_cancelled(session, ids=[row_id], owner=OWNER, error=reason)
        for row_id, not_before in plan.defer:
            q.mark_retry(session, ids=[row_id], owner=OWNER, not_before=not_before, attempted=False)
        done = 0
        for chat_jobs in plan.jobs:
            for job in chat_jobs:
                print(html_to_text(job.text), file=out, end="\n\n", flush=True)
                if job.ids:
                    done += q.mark_sent(session, ids=job.ids, owner=OWNER, message_id="-", now=now)
        return done
