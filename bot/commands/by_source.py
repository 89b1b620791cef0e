"""Sources as users see them: `/sources` (names for everyone, health for admins) and the
"nguồn <name>" part of /subscribe and /unsubscribe."""

from __future__ import annotations

from bot.commands import admin
from bot.commands.base import Ctx
from bot.i18n import t
from jobs.delivery.reply import Inline, Reply, Text
from storage.source_names import display_name, known_sources
from storage.text import fold, fold_words

_SOURCE_WORDS = ("nguon", "source")


def split_source(args: str) -> tuple[str | None, str, bool]:
    """("dukcqt", "quy chế", True) for "nguồn dukcqt quy chế": the source named (None when
    the arguments do not start with "nguồn"/"source"), the rest, and whether it is known."""
    words = args.split(maxsplit=2)
    if not words or fold_words(words[0]) not in _SOURCE_WORDS:
        return None, args, True
    wanted = words[1] if len(words) > 1 else ""
    rest = words[2] if len(words) > 2 else ""
    for name, title in known_sources().items():
        if fold(wanted) in (fold(name), fold_words(title).replace(" ", "")):
            return name, rest, True
    return wanted, rest, False


def unknown_source(ctx: Ctx, wanted: str) -> Reply:
    """The answer to a source name that is not configured: the names to pick from."""
    head = t(ctx.lang, "source_unknown", source=wanted[:60] or "?")
    return Reply(lines=[[Text(head)], *_name_lines(ctx)])


def _name_lines(ctx: Ctx) -> list[list[Inline]]:
    names = known_sources()
    if not names:
        return [[Text(t(ctx.lang, "sources_list_none"))]]
    lines: list[list[Inline]] = []
    for name, title in names.items():
        line: list[Inline] = [Text("• "), Text(name, bold=True)]
        if title != name:
            line.append(Text(f" — {title}"))
        lines.append(line)
    example = next(iter(names))
    lines += [[], [Text(t(ctx.lang, "sources_list_hint", name=example), italic=True)]]
    return lines


def shown(source: str) -> str:
    """A subscription's source as shown to users (its display name)."""
    return display_name(source)


def sources(ctx: Ctx, args: str) -> Reply:
    """/sources: every user gets the sources to subscribe to; admins get their health too."""
    names: list[list[Inline]] = [[Text(t(ctx.lang, "sources_list_title"), bold=True)]]
    names += _name_lines(ctx)
    if not ctx.is_admin:
        return Reply(lines=names)
    health = admin.sources(ctx, args)
    return Reply(lines=[*health.lines, [], *names], buttons=health.buttons)
