"""Channel-neutral entry points: a Request in, a Reply out (or None: say nothing)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.commands import admin, lists, prefs
from bot.commands.base import Command, Ctx, Request, Services, split_command
from bot.commands.words import as_command
from bot.flood import Verdict
from bot.i18n import pick_language, t
from jobs.delivery.reply import Reply
from storage import chats
from storage.db import session_scope

log = logging.getLogger(__name__)

# One visible table: command name -> logic. Admin-only commands go in ADMIN_COMMANDS.
COMMANDS: dict[str, Command] = {
    "start": prefs.start,
    "help": prefs.help_cmd,
    "latest": lists.latest,
    "search": lists.search_cmd,
    "date": lists.date_cmd,
    "subscribe": prefs.subscribe,
    "unsubscribe": prefs.unsubscribe,
    "subscriptions": prefs.subscriptions,
    "digest": prefs.digest,
    "quiet": prefs.quiet,
    "lang": prefs.lang,
}
ADMIN_COMMANDS: dict[str, Command] = {
    "broadcast": admin.broadcast,
    "stats": admin.stats,
    "sources": admin.sources,
}


@dataclass(frozen=True)
class Pressed:
    """The answer to a button: `replace` the message it sits on, or send a new one."""

    reply: Reply
    replace: bool


def _unknown(name: str) -> Command:
    return lambda ctx, _args: Reply.plain(t(ctx.lang, "unknown", name=name[:32]))


def _admin_only(ctx: Ctx, _args: str) -> Reply:
    return Reply.plain(t(ctx.lang, "admin_only"))


def _route(req: Request) -> tuple[Command, str] | None:
    parsed = split_command(req.text)
    text = req.text.strip()
    if parsed is None and req.chat_kind == "private":
        spoken = as_command(text)  # "tìm quy chế dân chủ" is /search, on every platform
        parsed = split_command(spoken) if spoken is not None else None
    if parsed is None and req.chat_kind != "private":
        return None  # in groups the bot only answers commands ("/path/to/x" is chatter)
    if parsed is None and text.startswith("/"):
        words = text[1:].split(maxsplit=1)
        return (_unknown(words[0]), "") if words else (prefs.help_cmd, "")
    if parsed is None:
        return lists.plain_search, text  # in private chats text is a search
    name, args = parsed
    if name in ADMIN_COMMANDS:
        return (ADMIN_COMMANDS[name], args) if req.is_admin else (_admin_only, args)
    if name not in COMMANDS and req.chat_kind != "private":
        return None  # in a group it may be another bot's command
    return COMMANDS.get(name, _unknown(name)), args


def _flood(services: Services, req: Request) -> Reply | None:
    """None when the chat may be served; else a polite answer once, then silence."""
    decision = services.limiter.check(f"{req.platform}:{req.chat_id}", services.monotonic())
    if decision.verdict is Verdict.ALLOW:
        return None
    lang = pick_language(None, req.language_code)  # no database work for a flood
    if decision.verdict is Verdict.WARN:
        return Reply.plain(t(lang, "flood", seconds=decision.wait_seconds))
    return Reply()


def _run(services: Services, req: Request, command: Command, args: str) -> Reply:
    with session_scope(services.engine) as session:
        chat = chats.ensure_chat(
            session,
            platform=req.platform,
            external_id=req.chat_id,
            kind=req.chat_kind,
            title=req.chat_title,
        )
        ctx = Ctx(services, req, session, chat, pick_language(chat.language, req.language_code))
        return command(ctx, args)


def _failed(req: Request, what: str) -> Reply:
    # The text is the user's own; the token never reaches this layer.
    log.exception("%s failed for %s chat %s", what, req.platform, req.chat_id)
    return Reply.plain(t(pick_language(None, req.language_code), "error"))


def handle(services: Services, req: Request) -> Reply | None:
    """The reply to a message (blocking: async channels call it in a worker thread)."""
    flood = _flood(services, req)
    if flood is not None:
        return flood if flood.lines else None
    route = _route(req)
    if route is None:
        return None
    try:
        return _run(services, req, *route)
    except Exception:
        return _failed(req, "command")


def press(services: Services, req: Request) -> Pressed | None:
    """The answer to a button (a page, or an alert's "unsub:") whose data is `req.text`."""
    flood = _flood(services, req)
    if flood is not None:
        return Pressed(flood, replace=False) if flood.lines else None

    found: list[bool] = []

    def run(ctx: Ctx, data: str) -> Reply:
        done = prefs.unsubscribe_button(ctx, data)
        if done is not None:
            found.append(False)  # the alert stays; the confirmation goes below it
            return done
        page = lists.press(ctx, data)
        found.append(page is not None)
        return page if page is not None else Reply.plain(t(ctx.lang, "expired"))

    try:
        reply = _run(services, req, run, req.text)
    except Exception:
        return Pressed(_failed(req, "button"), replace=False)
    # A fresh page replaces the list it came from; "expired" is a new message below it.
    return Pressed(reply, replace=all(found))
