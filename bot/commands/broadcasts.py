"""/broadcast: a preview with Confirm / Cancel, then the queue; cancel, status and reports."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from bot.commands import access
from bot.commands.base import Ctx
from bot.i18n import pick_language, t
from jobs.delivery.reply import Button, Inline, Reply, Text
from storage import admins as audit_log
from storage import broadcasts as store
from storage import chats
from storage.models import Broadcast, Chat

MAX_BROADCAST_CHARS = 3500  # leaves room under Telegram's 4096 and Zalo's splitting
CONFIRM = "bc:ok:"
DISCARD = "bc:no:"
STATUS_LIMIT = 5
_TOPIC = re.compile(r"\[([^\]]{1,100})\]\s*(.*)", re.DOTALL)


def _split_topic(args: str) -> tuple[str | None, str]:
    """("topic", "text") for "[topic] text"; (None, "text") without a leading [topic]."""
    m = _TOPIC.fullmatch(args.strip())
    if m:
        return m[1].strip(), m[2].strip()
    return None, args.strip()


def _recipients(ctx: Ctx, topic: str | None) -> list[int]:
    return chats.broadcast_recipients(ctx.session, topic=topic, platforms=ctx.services.platforms)


def broadcast(ctx: Ctx, args: str) -> Reply:
    """/broadcast [topic] <text>: a preview; /broadcast cancel; /broadcast status."""
    word = args.strip().lower()
    if word == "cancel":
        return cancel(ctx)
    if word == "status":
        return status(ctx)
    topic, text = _split_topic(args)
    if not text:
        return Reply.plain(t(ctx.lang, "broadcast_usage"))
    if len(text) > MAX_BROADCAST_CHARS:
        return Reply.plain(t(ctx.lang, "broadcast_too_long", max=MAX_BROADCAST_CHARS))
    audience = len(_recipients(ctx, topic))
    if not audience:
        return Reply.plain(t(ctx.lang, "broadcast_none"))
    row = store.draft(
        ctx.session,
        text=text,
        topic=topic,
        author=access.actor(ctx),
        author_chat_id=ctx.chat_pk,
        audience=audience,
        now=ctx.services.clock(),
        lang=ctx.lang,
    )
    return _preview(ctx, row, audience)


def _preview(ctx: Ctx, row: Broadcast, audience: int) -> Reply:
    about = t(ctx.lang, "broadcast_preview_topic", topic=row.topic) if row.topic else ""
    head = t(ctx.lang, "broadcast_preview", n=audience, topic=about)
    lines: list[list[Inline]] = [[Text(head, bold=True)], []]
    lines += [[Text(line)] for line in row.text.splitlines()]
    buttons = [
        [
            Button(t(ctx.lang, "broadcast_confirm"), data=f"{CONFIRM}{row.id}"),
            Button(t(ctx.lang, "broadcast_cancel_button"), data=f"{DISCARD}{row.id}"),
        ]
    ]
    return Reply(lines=lines, buttons=buttons)


def press(ctx: Ctx, data: str) -> Reply:
    """Confirm (queue it, once) or Cancel (drop the draft) on a preview."""
    confirm = data.startswith(CONFIRM)
    raw = data.removeprefix(CONFIRM if confirm else DISCARD)
    row = ctx.session.get(Broadcast, int(raw)) if raw.isdecimal() else None
    if row is None or row.id is None or row.kind != "announcement":
        return Reply.plain(t(ctx.lang, "expired"))
    now = ctx.services.clock()
    if not confirm:
        if not store.discard(ctx.session, broadcast_id=row.id, now=now):
            return _already(ctx, row)
        _audit(ctx, row, "broadcast_discard", 0)
        return Reply.plain(t(ctx.lang, "broadcast_discarded", id=row.id))
    recipients = _recipients(ctx, row.topic)
    queued = store.confirm(ctx.session, broadcast_id=row.id, recipients=recipients, now=now)
    if queued < 0:
        return _already(ctx, row)
    _audit(ctx, row, "broadcast", len(recipients))
    # The progress message: sent through the queue, then edited by the watch as it goes.
    counts = store.Counts(left=len(recipients))
    text = progress_text(row, counts, author_lang(row, ctx.chat), ctx.services.send_rate)
    # Due a second before the broadcast's rows, so it is sent first (the queue goes by due time).
    store.notify(
        ctx.session,
        chat_ids=[ctx.chat_pk],
        text=text,
        now=now,
        parent_id=row.id,
        not_before=now - timedelta(seconds=1),
    )
    done = t(ctx.lang, "broadcast_queued", id=row.id, n=len(recipients))
    lines: list[list[Inline]] = [[Text(done, bold=True)], []]
    return Reply(lines=lines + [[Text(line)] for line in row.text.splitlines()])


def _already(ctx: Ctx, row: Broadcast) -> Reply:
    ctx.session.refresh(row)
    state = t(ctx.lang, f"bstate_{row.state}")
    return Reply.plain(t(ctx.lang, "broadcast_already", id=row.id, state=state))


def _audit(ctx: Ctx, row: Broadcast, action: str, audience: int) -> None:
    detail = json.dumps(
        {"text": row.text, "topic": row.topic, "audience": audience}, ensure_ascii=False
    )
    audit_log.audit(
        ctx.session,
        actor=access.actor(ctx),
        action=action,
        subject=f"#{row.id}",
        detail=detail,
        now=ctx.services.clock(),
    )


def cancel(ctx: Ctx) -> Reply:
    """/broadcast cancel: what is not yet sent of every announcement being sent is dropped."""
    stopped = store.cancel_open(ctx.session, now=ctx.services.clock())
    if not stopped:
        return Reply.plain(t(ctx.lang, "broadcast_cancel_none"))
    for bid, n in stopped:
        audit_log.audit(
            ctx.session,
            actor=access.actor(ctx),
            action="broadcast_cancel",
            subject=f"#{bid}",
            detail=json.dumps({"cancelled": n}),
            now=ctx.services.clock(),
        )
    return Reply.plain(t(ctx.lang, "broadcast_cancelled", n=sum(n for _b, n in stopped)))


def counts_text(lang: str, counts: store.Counts) -> str:
    """ "sent 3, failed 0, unreachable 1, left 0" in `lang`."""
    return t(
        lang,
        "broadcast_counts",
        sent=counts.sent,
        failed=counts.failed,
        unreachable=counts.unreachable,
        left=counts.left + counts.cancelled,
    )


def status(ctx: Ctx) -> Reply:
    """/broadcast status: the last announcements with their state and counts."""
    rows = store.recent(ctx.session, limit=STATUS_LIMIT)
    if not rows:
        return Reply.plain(t(ctx.lang, "broadcast_status_none"))
    tallies = store.counts(ctx.session, broadcast_ids=[r.id or 0 for r in rows])
    out: list[list[Inline]] = [[Text(t(ctx.lang, "broadcast_status_title"), bold=True)]]
    for row in rows:
        when = row.created_at.astimezone(ctx.services.tz).strftime("%d/%m %H:%M")
        text = row.text if len(row.text) <= 40 else row.text[:39] + "…"
        state = t(ctx.lang, f"bstate_{row.state}")
        line = t(ctx.lang, "broadcast_status_line", id=row.id, when=when, state=state, text=text)
        out.append([Text(line)])
        if row.state != "draft" and row.state != "discarded":
            out.append([Text("   " + counts_text(ctx.lang, tallies[row.id or 0]))])
    return Reply(lines=out)


def author_lang(row: Broadcast, chat: Chat | None) -> str:
    """The language the author used for the announcement (else the chat's, else vi)."""
    return row.lang or pick_language(chat.language if chat else None, None)


def report_text(row: Broadcast, counts: store.Counts, chat: Chat | None) -> str:
    """The final report of one announcement, in its author's language."""
    lang = author_lang(row, chat)
    return t(lang, "broadcast_report", id=row.id, counts=counts_text(lang, counts))


def eta_text(lang: str, seconds: float) -> str:
    """ "40 s", "3 min" (rounded up) in `lang`."""
    if seconds <= 90:
        return t(lang, "seconds", n=max(1, round(seconds)))
    return t(lang, "minutes", n=-(-round(seconds) // 60))


def progress_text(row: Broadcast, counts: store.Counts, lang: str, rate: float) -> str:
    """Where an announcement stands, with an estimate of the time left at `rate` per second."""
    if row.finished_at is not None or not counts.left:
        return t(lang, "broadcast_progress_done", id=row.id, counts=counts_text(lang, counts))
    eta = eta_text(lang, counts.left / max(rate, 0.1))
    return t(lang, "broadcast_progress", id=row.id, counts=counts_text(lang, counts), eta=eta)
