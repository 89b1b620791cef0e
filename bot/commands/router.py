"""Channel-neutral entry points: a Request in, a Reply out (or None: say nothing)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from bot.commands import access, admin, broadcasts, by_source, lists, prefs, stats
from bot.commands.base import Command, Ctx, Request, Services, split_command
from bot.commands.words import as_command
from bot.flood import Verdict
from bot.i18n import pick_language, t
from jobs import metrics
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
    "sources": by_source.sources,  # names for everyone; admins also see health
}
ADMIN_COMMANDS: dict[str, Command] = {
    "broadcast": broadcasts.broadcast,
    "stats": stats.stats,
    "admin": admin.admin_cmd,
}
metrics.KNOWN_COMMANDS.update(COMMANDS, ADMIN_COMMANDS, {"text"})
# Button data prefix -> admin-only logic (anyone else is refused, whatever the payload).
ADMIN_BUTTONS: dict[str, Command] = {
    broadcasts.CONFIRM: broadcasts.press,
    broadcasts.DISCARD: broadcasts.press,
    access.APPROVE: access.decide,
    access.REJECT: access.decide,
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


@dataclass(frozen=True)
class Route:
    """What a message asks for: the logic, its arguments, the command's name, admin only."""

    command: Command
    args: str
    name: str = ""
    admin_only: bool = False


def _route(req: Request) -> Route | None:
    parsed = split_command(req.text)
    text = req.text.strip()
    if parsed is None and req.chat_kind == "private":
        spoken = as_command(text)  # "tìm quy chế dân chủ" is /search, on every platform
        parsed = split_command(spoken) if spoken is not None else None
    if parsed is None and req.chat_kind != "private":
        return None  # in groups the bot only answers commands ("/path/to/x" is chatter)
    if parsed is None and text.startswith("/"):
        words = text[1:].split(maxsplit=1)
        return Route(_unknown(words[0]), "") if words else Route(prefs.help_cmd, "", "help")
    if parsed is None:
        return Route(lists.plain_search, text)  # in private chats text is a search
    name, args = parsed
    if name in ADMIN_COMMANDS:
        return Route(ADMIN_COMMANDS[name], args, name, admin_only=True)
    if name not in COMMANDS and req.chat_kind != "private":
        return None  # in a group it may be another bot's command
    return Route(COMMANDS.get(name, _unknown(name)), args, name)


def _flood(services: Services, req: Request) -> Reply | None:
    """None when the chat may be served; else a polite answer once, then silence."""
    decision = services.limiter.check(f"{req.platform}:{req.chat_id}", services.monotonic())
    if decision.verdict is Verdict.ALLOW:
        return None
    lang = pick_language(None, req.language_code)  # no database work for a flood
    if decision.verdict is Verdict.WARN:
        return Reply.plain(t(lang, "flood", seconds=decision.wait_seconds))
    return Reply()


def _run(services: Services, req: Request, route: Route) -> Reply:
    with session_scope(services.engine) as session:
        is_admin = access.is_admin(session, services, req)
        chat, created = access.chat_for(session, services, req, is_admin)
        # Any message or button press proves the chat reachable again (unblocked), not /start only.
        reactivated = not chat.active
        if reactivated:
            chat = chats.start_chat(session, platform=req.platform, external_id=req.chat_id).chat
        lang = pick_language(chat.language, req.language_code)
        ctx = Ctx(services, req, session, chat, lang, reactivated=reactivated, is_admin=is_admin)
        if route.admin_only and not is_admin:
            return _admin_only(ctx, route.args)
        refused = access.gate(ctx, created, route.name)
        if refused is not None:
            return refused
        return route.command(ctx, route.args)


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
    started = time.perf_counter()
    try:
        return _run(services, req, route)
    except Exception:
        return _failed(req, "command")
    finally:
        metrics.observe_command(route.name or "text", time.perf_counter() - started)


def press(services: Services, req: Request) -> Pressed | None:
    """The answer to a button (a page, or an alert's "unsub:") whose data is `req.text`."""
    flood = _flood(services, req)
    if flood is not None:
        return Pressed(flood, replace=False) if flood.lines else None

    found: list[bool] = []
    admin_button = next((f for p, f in ADMIN_BUTTONS.items() if req.text.startswith(p)), None)

    def run(ctx: Ctx, data: str) -> Reply:
        if admin_button is not None:
            found.append(True)  # the preview or request becomes the outcome
            return admin_button(ctx, data)
        done = prefs.unsubscribe_button(ctx, data)
        if done is not None:
            found.append(False)  # the alert stays; the confirmation goes below it
            return done
        page = lists.press(ctx, data)
        found.append(page is not None)
        return page if page is not None else Reply.plain(t(ctx.lang, "expired"))

    try:
        reply = _run(services, req, Route(run, req.text, admin_only=admin_button is not None))
    except Exception:
        return Pressed(_failed(req, "button"), replace=False)
    if admin_button is not None and not found:
        return Pressed(reply, replace=False)  # refused: a new message, the buttons stay
    # A fresh page replaces the list it came from; "expired" is a new message below it.
    return Pressed(reply, replace=all(found))
