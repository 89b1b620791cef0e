"""/latest, /search, /date, plain-text search and their paging buttons."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from bot import presenting as formatting
from bot.commands.base import Ctx
from bot.commands.paging import DatePageRef, SearchPageRef, date_data, decode, search_data
from bot.i18n import t
from jobs.delivery.reply import Button, Inline, Reply, Text
from storage import datequery, lookup
from storage.search import MAX_QUERY_CHARS, search

LATEST_DEFAULT = 10
LATEST_MAX = 20


def latest(ctx: Ctx, args: str) -> Reply:
    """/latest [n]: the n newest articles (1..20)."""
    n = LATEST_DEFAULT
    if args:
        if not args.isdecimal() or not 1 <= int(args) <= LATEST_MAX:
            return Reply.plain(t(ctx.lang, "latest_bad", max=LATEST_MAX))
        n = int(args)
    items = lookup.latest(ctx.session, n=n)
    return formatting.latest_reply(items, lang=ctx.lang, tz=ctx.services.tz)


def search_cmd(ctx: Ctx, args: str) -> Reply:
    """/search <words>."""
    return search_page(ctx, args, 1)


def plain_search(ctx: Ctx, text: str) -> Reply:
    """Text that is not a command: a search, with a one-line hint about /help."""
    reply = search_page(ctx, text, 1)
    hint: list[Inline] = [Text(t(ctx.lang, "plain_hint"), italic=True)]
    return Reply(lines=[hint, *reply.lines], buttons=reply.buttons)


def _nav(lang: str, page: int, pages: int, data_for: Callable[[int], str]) -> list[Button]:
    buttons = []
    if page > 1:
        buttons.append(Button(t(lang, "prev"), data=data_for(page - 1)))
    if page < pages:
        buttons.append(Button(t(lang, "next"), data=data_for(page + 1)))
    return buttons


def search_page(ctx: Ctx, query: str, page: int) -> Reply:
    """One page of results for `query`; a page past the end shows the last page."""
    svc = ctx.services
    query = query.strip()
    found = search(ctx.session, query=query, page=page, per_page=svc.per_page, now=svc.clock())
    if found.error == "empty":
        return Reply.plain(t(ctx.lang, "search_empty"))
    if found.error == "too_long":
        return Reply.plain(t(ctx.lang, "search_too_long", max=MAX_QUERY_CHARS))
    if found.error:
        return Reply.plain(t(ctx.lang, "search_no_terms"))
    if not found.hits and found.total and page > found.pages:
        return search_page(ctx, query, found.pages)
    total = f"{found.total}+" if getattr(found, "total_capped", False) else str(found.total)
    buttons = _nav(ctx.lang, found.page, found.pages, lambda p: search_data(query, p, svc.queries))
    return formatting.search_reply(
        found.hits,
        query=query,
        total=total,
        page=found.page,
        pages=found.pages,
        per_page=found.per_page,
        lang=ctx.lang,
        tz=svc.tz,
        buttons=buttons,
    )


def date_cmd(ctx: Ctx, args: str) -> Reply:
    """/date <day or range>."""
    today = ctx.services.clock().astimezone(ctx.services.tz).date()
    parsed = datequery.parse_date_query(args, today=today)
    if isinstance(parsed, datequery.DateQueryError):
        key = f"date_{parsed.code}"
        days = datequery.MAX_RANGE_DAYS
        return Reply.plain(t(ctx.lang, key, example=parsed.example, days=days))
    return date_page(ctx, parsed.start, parsed.end, 1)


def date_page(ctx: Ctx, start: date, end: date, page: int) -> Reply:
    """One page of the articles of a day or range; none: the nearest days with articles."""
    svc = ctx.services
    found = lookup.articles_between(
        ctx.session, start=start, end=end, page=page, per_page=svc.per_page
    )
    pages = max(1, -(-found.total // found.per_page))
    if not found.items and found.total and page > pages:
        return date_page(ctx, start, end, pages)
    nearest = [
        Button(formatting.fmt_date(day), data=date_data(day, day, 1))
        for day in (found.nearest_before, found.nearest_after)
        if day is not None
    ]
    return formatting.date_reply(
        found.items,
        start=start,
        end=end,
        total=found.total,
        page=found.page,
        pages=pages,
        per_page=found.per_page,
        lang=ctx.lang,
        tz=svc.tz,
        buttons=_nav(ctx.lang, found.page, pages, lambda p: date_data(start, end, p)),
        nearest=nearest,
    )


def press(ctx: Ctx, data: str) -> Reply | None:
    """The page a paging button asks for; None when the button is unknown or expired."""
    ref = decode(data, ctx.services.queries)
    if isinstance(ref, SearchPageRef):
        return search_page(ctx, ref.query, ref.page)
    if isinstance(ref, DatePageRef):
        return date_page(ctx, ref.start, ref.end, ref.page)
    return None
