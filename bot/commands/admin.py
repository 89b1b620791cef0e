"""Admin-only commands: /admin (add, remove, list, pending) and /sources (health in words)."""

from __future__ import annotations

from datetime import datetime

from bot.commands import access
from bot.commands.base import Ctx
from bot.i18n import describe_reason, t
from jobs.delivery.reply import Button, Inline, Reply, Text
from storage import admins as store
from storage.articles import list_source_states
from storage.backfill import list_backfills
from storage.datequery import DAY_TIME_FORMAT
from storage.models import BackfillState
from storage.source_names import display_name


def _local(moment: datetime | None, ctx: Ctx) -> str:
    if moment is None:
        return "-"
    return moment.astimezone(ctx.services.tz).strftime(DAY_TIME_FORMAT)


def admin_cmd(ctx: Ctx, args: str) -> Reply:
    """/admin add <id> | remove <id> | list | pending."""
    verb, _, rest = args.strip().partition(" ")
    verb, user = verb.lower(), rest.strip()
    if verb == "pending":
        return pending(ctx)
    if verb == "list":
        return _list(ctx)
    if verb not in ("add", "remove"):
        return Reply.plain(t(ctx.lang, "admin_usage"))
    if not user.isdecimal() or len(user) > 20:
        return Reply.plain(t(ctx.lang, "admin_bad_id"))
    return _add(ctx, user) if verb == "add" else _remove(ctx, user)


def _changed(ctx: Ctx, action: str, user: str) -> None:
    platform = access.admin_platform(ctx.request.platform)
    store.audit(
        ctx.session,
        actor=access.actor(ctx),
        action=action,
        subject=f"{platform}:{user}",
        now=ctx.services.clock(),
    )
    hook = ctx.services.on_admins_changed
    if hook is not None:
        hook(platform, user, action == "admin_add")


def _add(ctx: Ctx, user: str) -> Reply:
    platform = access.admin_platform(ctx.request.platform)
    if user in ctx.services.admin_ids or not store.add_admin(
        ctx.session, platform=platform, user_id=user, added_by=access.actor(ctx)
    ):
        return Reply.plain(t(ctx.lang, "admin_exists", id=user))
    _changed(ctx, "admin_add", user)
    return Reply.plain(t(ctx.lang, "admin_added", id=user))


def _remove(ctx: Ctx, user: str) -> Reply:
    if user in ctx.services.admin_ids:
        return Reply.plain(t(ctx.lang, "admin_from_settings", id=user))
    platform = access.admin_platform(ctx.request.platform)
    if not store.remove_admin(ctx.session, platform=platform, user_id=user):
        return Reply.plain(t(ctx.lang, "admin_not_admin", id=user))
    _changed(ctx, "admin_remove", user)
    return Reply.plain(t(ctx.lang, "admin_removed", id=user))


def _list(ctx: Ctx) -> Reply:
    platform = access.admin_platform(ctx.request.platform)
    stored = [a.user_id for a in store.stored_admins(ctx.session, platform=platform)]
    none = t(ctx.lang, "none")
    return Reply.plain(
        t(
            ctx.lang,
            "admin_list",
            settings=", ".join(sorted(ctx.services.admin_ids)) or none,
            stored=", ".join(stored) or none,
        )
    )


def pending(ctx: Ctx) -> Reply:
    """/admin pending: who waits for approval, each with Approve / Reject buttons."""
    waiting = store.pending_chats(ctx.session, limit=10)
    if not waiting:
        return Reply.plain(t(ctx.lang, "pending_none"))
    lines: list[list[Inline]] = [[Text(t(ctx.lang, "pending_title", n=len(waiting)), bold=True)]]
    buttons: list[list[Button]] = []
    for i, chat in enumerate(waiting, 1):
        lines.append([Text(f"{i}. {access.who(chat)} — {_local(chat.created_at, ctx)}")])
        buttons.append(
            [
                Button(f"{i}. {t(ctx.lang, 'approve')}", data=f"{access.APPROVE}{chat.id}"),
                Button(f"{i}. {t(ctx.lang, 'reject')}", data=f"{access.REJECT}{chat.id}"),
            ]
        )
    return Reply(lines=lines, buttons=buttons)


def sources(ctx: Ctx, _args: str) -> Reply:
    """/sources: each polled source with its last success, failures and last error in words."""
    states = list_source_states(ctx.session)
    backfills = list_backfills(ctx.session)
    if not states:
        return Reply.plain(t(ctx.lang, "sources_none"))
    lines: list[list[Inline]] = [[Text(t(ctx.lang, "sources_title"), bold=True)]]
    for name, st in states.items():
        healthy = st.consecutive_failures == 0 and not st.layout_changed
        mark = "✅" if healthy else "⚠️"
        title = display_name(name)
        lines.append([Text(f"{mark} {name}" + (f" — {title}" if title != name else ""), bold=True)])
        detail = t(
            ctx.lang,
            "sources_line",
            ok=_local(st.last_success_at, ctx),
            fails=st.consecutive_failures,
            items=st.last_item_count,
        )
        lines.append([Text(detail)])
        if st.last_error and not healthy:
            why = describe_reason(st.last_error, ctx.lang)
            when = _local(st.last_error_at, ctx)
            lines.append([Text(t(ctx.lang, "sources_error", when=when, why=why))])
        if st.skipped_items:
            reason = (st.last_skip_reason or "")[:200]
            lines.append([Text(t(ctx.lang, "sources_skipped", n=st.skipped_items, why=reason))])
        if st.ambiguous_dates:
            lines.append([Text(t(ctx.lang, "sources_ambiguous", n=st.ambiguous_dates))])
        if (walk := backfills.get(name)) is not None:
            lines.append([Text(_backfill_line(ctx, walk))])
    return Reply(lines=lines)


def _backfill_line(ctx: Ctx, walk: BackfillState) -> str:
    done = walk.finished_at is not None
    state = t(
        ctx.lang,
        "backfill_done" if done else "backfill_running",
        at=_local(walk.finished_at if done else walk.updated_at, ctx),
    )
    return t(
        ctx.lang, "sources_backfill", pages=walk.pages_done, articles=walk.articles_stored,
        state=state,
    )  # fmt: skip
