"""Admin-only commands: /broadcast an announcement, /stats, /sources (health of each source)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import select

from bot.commands.base import Ctx
from bot.i18n import t
from jobs.delivery.reply import Inline, Reply, Text
from storage import chats
from storage.articles import list_source_states
from storage.datequery import DAY_TIME_FORMAT
from storage.deliveries import counts_by_state, enqueue, new_row, pending_by_platform
from storage.models import Article, Broadcast, Chat, Subscription
from storage.reach import undelivered_reasons

STATS_REASONS = 8  # most frequent reasons a delivery did not go out, in /stats
MAX_BROADCAST_CHARS = 3500  # leaves room under Telegram's 4096 and Zalo's splitting
_TOPIC = re.compile(r"\[([^\]]{1,100})\]\s*(.*)", re.DOTALL)


def _local(moment: datetime | None, ctx: Ctx) -> str:
    if moment is None:
        return "-"
    return moment.astimezone(ctx.services.tz).strftime(DAY_TIME_FORMAT)


def _split_topic(args: str) -> tuple[str | None, str]:
    """("topic", "text") for "[topic] text"; (None, "text") without a leading [topic]."""
    m = _TOPIC.fullmatch(args.strip())
    if m:
        return m[1].strip(), m[2].strip()
    return None, args.strip()


def _queue_broadcast(ctx: Ctx, text: str, topic: str | None, recipients: list[int]) -> int:
    """Store the announcement and queue one delivery per recipient chat; how many queued."""
    author = ctx.request.user_id or ctx.request.chat_id
    row = Broadcast(text=text, topic=topic, author=f"{ctx.request.platform}:{author}")
    ctx.session.add(row)
    ctx.session.flush()
    now = ctx.services.clock()
    rows = [
        new_row(chat_id=cid, kind="broadcast", now=now, broadcast_id=row.id, topic=topic)
        for cid in recipients
    ]
    return enqueue(ctx.session, rows=rows)


def broadcast(ctx: Ctx, args: str) -> Reply:
    """/broadcast <text> to every active chat, or /broadcast [topic] <text> to its subscribers."""
    topic, text = _split_topic(args)
    if not text:
        return Reply.plain(t(ctx.lang, "broadcast_usage"))
    if len(text) > MAX_BROADCAST_CHARS:
        return Reply.plain(t(ctx.lang, "broadcast_too_long", max=MAX_BROADCAST_CHARS))
    recipients = chats.broadcast_recipients(ctx.session, topic=topic)
    if not recipients:
        return Reply.plain(t(ctx.lang, "broadcast_none"))
    queued = _queue_broadcast(ctx, text, topic, recipients)
    return Reply.plain(t(ctx.lang, "broadcast_done", n=queued))


def _count(ctx: Ctx, *where: Any, model: Any = Article) -> int:
    return int(ctx.session.exec(select(func.count()).select_from(model).where(*where)).one())


def stats(ctx: Ctx, _args: str) -> Reply:
    """/stats: articles, chats, topics, and deliveries of the last 24 hours by state."""
    now = ctx.services.clock()
    day_ago = now - timedelta(days=1)
    lang = ctx.lang
    states = counts_by_state(ctx.session, since=day_ago)
    lines = [
        t(lang, "stats_articles", n=_count(ctx), new=_count(ctx, Article.first_seen_at >= day_ago)),
        t(
            lang,
            "stats_chats",
            active=_count(ctx, Chat.active == True, model=Chat),  # noqa: E712 (SQL, not Python)
            inactive=_count(ctx, Chat.active == False, model=Chat),  # noqa: E712
        ),
        t(lang, "stats_topics", n=_count(ctx, model=Subscription)),
        t(lang, "stats_deliveries") + ", ".join(f"{k} {v}" for k, v in states.items()),
    ]
    undelivered = undelivered_reasons(ctx.session, since=day_ago)[:STATS_REASONS]
    if undelivered:
        lines.append(t(lang, "stats_undelivered"))
        lines += [f"• {platform}: {reason[:120]} ({n})" for platform, reason, n in undelivered]
    pending = pending_by_platform(ctx.session)
    if pending:
        lines.append(t(lang, "stats_pending") + ", ".join(f"{k} {v}" for k, v in pending.items()))
    out: list[list[Inline]] = [[Text(t(lang, "stats_title"), bold=True)]]
    out += [[Text(line)] for line in lines]
    return Reply(lines=out)


def sources(ctx: Ctx, _args: str) -> Reply:
    """/sources: each polled source with its last success, failures and last error."""
    states = list_source_states(ctx.session)
    if not states:
        return Reply.plain(t(ctx.lang, "sources_none"))
    lines: list[list[Inline]] = [[Text(t(ctx.lang, "sources_title"), bold=True)]]
    for name, st in states.items():
        healthy = st.consecutive_failures == 0 and not st.layout_changed
        mark = "✅" if healthy else "⚠️"
        lines.append([Text(f"{mark} {name}", bold=True)])
        detail = t(
            ctx.lang,
            "sources_line",
            ok=_local(st.last_success_at, ctx),
            fails=st.consecutive_failures,
            items=st.last_item_count,
        )
        lines.append([Text(detail)])
        if st.last_error and not healthy:
            lines.append([Text(f"{_local(st.last_error_at, ctx)}: {st.last_error[:200]}")])
    return Reply(lines=lines)
