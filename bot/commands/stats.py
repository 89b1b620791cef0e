"""/stats: chats, subscriptions, articles, the queue, the last hour's deliveries, sources."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select

from bot.commands.base import Ctx
from bot.i18n import t
from jobs.delivery.reply import Inline, Reply, Text
from storage.articles import list_source_states
from storage.deliveries import counts_by_state
from storage.models import Article, Chat, Delivery, Subscription
from storage.reach import undelivered_reasons

QUEUED = ("pending", "sending")


STATS_REASONS = 8  # most frequent reasons a delivery did not go out, in /stats


def _count(ctx: Ctx, model: Any, *where: Any) -> int:
    return int(ctx.session.exec(select(func.count()).select_from(model).where(*where)).one())


def _states(lang: str, counts: dict[str, int]) -> str:
    shown = [f"{t(lang, f'dstate_{state}')} {n}" for state, n in counts.items() if n]
    return ", ".join(shown) or "0"


def _queue_lines(ctx: Ctx) -> list[str]:
    stmt = (
        select(Chat.platform, Delivery.state, func.count())
        .join(Chat, col(Chat.id) == col(Delivery.chat_id))
        .where(col(Delivery.state).in_(QUEUED))
        .group_by(Chat.platform, Delivery.state)
        .order_by(Chat.platform)
    )
    depth: dict[str, dict[str, int]] = {}
    for platform, state, n in ctx.session.exec(stmt).all():
        depth.setdefault(platform, {})[state] = int(n)
    if not depth:
        return [t(ctx.lang, "stats_queue_empty")]
    return [
        t(ctx.lang, "stats_queue", platform=p, states=_states(ctx.lang, s))
        for p, s in depth.items()
    ]


def stats(ctx: Ctx, _args: str) -> Reply:
    """/stats in the chat's language."""
    now, lang = ctx.services.clock(), ctx.lang
    active = col(Chat.active).is_(True)
    approved = col(Chat.access) == "approved"
    sources = list_source_states(ctx.session).values()
    bad = sum(1 for s in sources if s.consecutive_failures or s.layout_changed)
    lines = [
        t(
            lang,
            "stats_chats_full",
            active=_count(ctx, Chat, active, approved),
            unreachable=_count(ctx, Chat, col(Chat.active).is_(False)),
            pending=_count(ctx, Chat, col(Chat.access) == "pending"),
        ),
        t(lang, "stats_subscriptions", n=_count(ctx, Subscription)),
        t(
            lang,
            "stats_articles_full",
            n=_count(ctx, Article),
            new=_count(ctx, Article, col(Article.first_seen_at) >= now - timedelta(days=1)),
        ),
        *_queue_lines(ctx),
        t(
            lang,
            "stats_last_hour",
            states=_states(lang, counts_by_state(ctx.session, since=now - timedelta(hours=1))),
        ),
        t(lang, "stats_sources", ok=len(sources) - bad, bad=bad),
    ]
    undelivered = undelivered_reasons(ctx.session, since=now - timedelta(days=1))[:STATS_REASONS]
    if undelivered:
        lines.append(t(lang, "stats_undelivered"))
        lines += [f"• {platform}: {reason[:120]} ({n})" for platform, reason, n in undelivered]
    out: list[list[Inline]] = [[Text(t(lang, "stats_title"), bold=True)]]
    out += [[Text(line)] for line in lines]
    return Reply(lines=out)
