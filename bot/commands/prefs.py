"""/start, /help and the chat's preferences: topics, digest, quiet hours, language."""

from __future__ import annotations

import re

from bot.commands.base import Ctx, normalize_hhmm
from bot.i18n import ADMIN_COMMANDS, COMMANDS, LANGS, t
from jobs.delivery.alerts import UNSUB_PREFIX
from jobs.delivery.reply import Inline, Reply, Text
from storage import chats
from storage.chats import MAX_TOPIC_CHARS, MAX_TOPICS_PER_CHAT, AddOutcome
from storage.text import fold_words

_ALL_WORDS = {"all", "tat ca", "het"}
_RANGE_SPLIT = re.compile(r"\s*(?:-|–|—|đến|den|to)\s*", re.IGNORECASE)


def _usage_lines(lang: str, commands: list[tuple[str, str, dict[str, str]]]) -> list[list[Inline]]:
    lines: list[list[Inline]] = []
    for name, example, descriptions in commands:
        usage = f"/{name} {example}".rstrip()
        lines.append([Text(usage, bold=True), Text(f" — {descriptions[lang]}")])
    return lines


def help_lines(lang: str, admin: bool = False) -> list[list[Inline]]:
    """Every command with an example, one per line (admin commands for admins only)."""
    lines: list[list[Inline]] = [[Text(t(lang, "help_title"), bold=True)]]
    lines += _usage_lines(lang, COMMANDS)
    lines.append([Text(t(lang, "help_plain"), italic=True)])
    if admin:
        lines += [[], [Text(t(lang, "admin_help_title"), bold=True)]]
        lines += _usage_lines(lang, ADMIN_COMMANDS)
    return lines


def help_cmd(ctx: Ctx, _args: str) -> Reply:
    """/help."""
    return Reply(lines=help_lines(ctx.lang, ctx.request.is_admin))


def start(ctx: Ctx, _args: str) -> Reply:
    """/start: the chat is registered by the router; reactivation is reported here."""
    req = ctx.request
    started = chats.start_chat(
        ctx.session,
        platform=req.platform,
        external_id=req.chat_id,
        kind=req.chat_kind,
        title=req.chat_title,
    )
    key = "start_back" if started.reactivated else "start"
    return Reply(lines=[[Text(t(ctx.lang, key))], [], *help_lines(ctx.lang, req.is_admin)])


def _shown(topic: str) -> str:
    return topic if len(topic) <= 60 else topic[:59] + "…"


def subscribe(ctx: Ctx, args: str) -> Reply:
    """/subscribe [topic]: no topic means every new article."""
    outcome = chats.add_subscription(ctx.session, chat_id=ctx.chat_pk, topic=args)
    topic = _shown(args) or t(ctx.lang, "every_article")
    if outcome is AddOutcome.ADDED:
        return Reply.plain(
            t(ctx.lang, "sub_topic", topic=topic) if args else t(ctx.lang, "sub_all")
        )
    key = {
        AddOutcome.EXISTS: "sub_exists",
        AddOutcome.TOO_MANY: "sub_too_many",
        AddOutcome.TOO_LONG: "sub_too_long",
        AddOutcome.NO_WORDS: "sub_no_words",
    }[outcome]
    max_value = MAX_TOPICS_PER_CHAT if outcome is AddOutcome.TOO_MANY else MAX_TOPIC_CHARS
    return Reply.plain(t(ctx.lang, key, topic=topic, max=max_value))


def unsubscribe(ctx: Ctx, args: str) -> Reply:
    """/unsubscribe <topic|all>."""
    if not args:
        return Reply.plain(t(ctx.lang, "unsub_usage"))
    if fold_words(args) in _ALL_WORDS:
        n = chats.remove_all_subscriptions(ctx.session, chat_id=ctx.chat_pk)
        return Reply.plain(t(ctx.lang, "unsub_all_done", n=n))
    if chats.remove_subscription(ctx.session, chat_id=ctx.chat_pk, topic=args):
        return Reply.plain(t(ctx.lang, "unsub_done", topic=_shown(args)))
    return Reply.plain(t(ctx.lang, "unsub_missing", topic=_shown(args)))


def _delivery_line(ctx: Ctx) -> str:
    chat, lang = ctx.chat, ctx.lang
    if chat.digest_mode == "daily" and chat.digest_time:
        mode = t(lang, "mode_daily", time=chat.digest_time)
    else:
        mode = t(lang, "mode_instant")
    quiet = t(lang, "quiet_none")
    if chat.quiet_start and chat.quiet_end:
        quiet = f"{chat.quiet_start}-{chat.quiet_end}"
    return t(lang, "subs_delivery", mode=mode, quiet=quiet)


def subscriptions(ctx: Ctx, _args: str) -> Reply:
    """/subscriptions: the chat's topics and delivery settings."""
    subs = chats.list_subscriptions(ctx.session, chat_id=ctx.chat_pk)
    if not subs:
        return Reply.plain(t(ctx.lang, "subs_none"), _delivery_line(ctx))
    lines: list[list[Inline]] = [[Text(t(ctx.lang, "subs_title"), bold=True)]]
    for sub in subs:
        lines.append([Text(f"• {sub.topic or t(ctx.lang, 'every_article')}")])
    lines.append([Text(_delivery_line(ctx), italic=True)])
    return Reply(lines=lines)


def digest(ctx: Ctx, args: str) -> Reply:
    """/digest now|daily HH:MM|off."""
    words = args.lower().split()
    if words in (["now"], ["off"]):
        chats.set_digest(ctx.session, chat_id=ctx.chat_pk, mode="instant")
        return Reply.plain(t(ctx.lang, "digest_instant" if words == ["now"] else "digest_off"))
    if len(words) == 2 and words[0] == "daily":
        at = normalize_hhmm(words[1])
        if at is None:
            return Reply.plain(t(ctx.lang, "bad_time", value=words[1][:20]))
        chats.set_digest(ctx.session, chat_id=ctx.chat_pk, mode="daily", time=at)
        return Reply.plain(t(ctx.lang, "digest_daily", time=at))
    return Reply.plain(t(ctx.lang, "digest_usage"), _delivery_line(ctx))


def quiet(ctx: Ctx, args: str) -> Reply:
    """/quiet HH:MM-HH:MM|off."""
    if args.lower() == "off":
        chats.set_quiet(ctx.session, chat_id=ctx.chat_pk, start=None, end=None)
        return Reply.plain(t(ctx.lang, "quiet_off"))
    parts = _RANGE_SPLIT.split(args.strip(), maxsplit=1) if args.strip() else []
    if len(parts) != 2:
        return Reply.plain(t(ctx.lang, "quiet_usage"), _delivery_line(ctx))
    start, end = normalize_hhmm(parts[0]), normalize_hhmm(parts[1])
    if start is None or end is None:
        bad = parts[0] if start is None else parts[1]
        return Reply.plain(t(ctx.lang, "bad_time", value=bad[:20]), t(ctx.lang, "quiet_usage"))
    if start == end:
        return Reply.plain(t(ctx.lang, "quiet_same"))
    chats.set_quiet(ctx.session, chat_id=ctx.chat_pk, start=start, end=end)
    return Reply.plain(t(ctx.lang, "quiet_set", start=start, end=end))


def lang(ctx: Ctx, args: str) -> Reply:
    """/lang vi|en: answered in the new language."""
    choice = args.strip().lower()
    if choice not in LANGS:
        return Reply.plain(t(ctx.lang, "lang_usage"))
    chats.set_language(ctx.session, chat_id=ctx.chat_pk, language=choice)
    return Reply.plain(t(choice, "lang_set"))


def unsubscribe_button(ctx: Ctx, data: str) -> Reply | None:
    """The alert's button "unsub:<subscription id>"; None when `data` is not one."""
    if not data.startswith(UNSUB_PREFIX) or not data[len(UNSUB_PREFIX) :].isdecimal():
        return None
    sub_id = int(data[len(UNSUB_PREFIX) :])
    sub = chats.remove_subscription_by_id(ctx.session, chat_id=ctx.chat_pk, subscription_id=sub_id)
    if sub is None:
        return Reply.plain(t(ctx.lang, "unsub_gone"))
    return Reply.plain(
        t(ctx.lang, "unsub_done", topic=_shown(sub.topic or t(ctx.lang, "every_article")))
    )
