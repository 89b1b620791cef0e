"""`portal-notifier chat --as ID` without the service: this user's due deliveries, printed.

The chat command runs no dispatcher; after each answer it shows what the queue holds for
this console user (a broadcast it confirmed, an alert), composed as for any platform.
"""

from __future__ import annotations

from datetime import datetime
from typing import TextIO
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine

from bot.console.chat import PLATFORM, render
from bot.i18n import alert_words, pick_language
from jobs.delivery.compose import compose
from storage import deliveries as q
from storage.chats import find_chat
from storage.db import session_scope

OWNER = "console-chat"
BATCH = 200
LEASE_SECONDS = 60.0


def deliver_to(
    engine: Engine, *, external_id: str, tz: ZoneInfo, out: TextIO, now: datetime
) -> int:
    """Print the console chat's due deliveries once each and mark them sent; how many rows."""
    with session_scope(engine) as session:
        chat = find_chat(session, platform=PLATFORM, external_id=external_id)
        if chat is None or chat.id is None:
            return 0
        rows = q.claim_due(
            session, owner=OWNER, now=now, limit=BATCH, lease_seconds=LEASE_SECONDS,
            platforms=[PLATFORM], chat_id=chat.id,
        )  # fmt: skip
        if not rows:
            return 0
        plan = compose(session, rows=rows, now=now, tz=tz, words=alert_words)
        for row_id, reason in plan.cancel:
            q.mark_cancelled(session, ids=[row_id], owner=OWNER, error=reason)
        for row_id, not_before in plan.defer:
            q.mark_retry(session, ids=[row_id], owner=OWNER, not_before=not_before, attempted=False)
        lang = pick_language(chat.language, None)
        done = 0
        for chain in plan.jobs:
            for job in chain:
                print(render(job.reply, lang), file=out, end="\n\n", flush=True)
                done += q.mark_sent(session, ids=job.ids, owner=OWNER, message_id="-", now=now)
        return done
