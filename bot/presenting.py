"""Search, latest and date results as channel-neutral replies (pure: plain values in, Reply out)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from bot.i18n import t
from jobs.delivery.reply import Button, Inline, Link, Reply, Text
from storage.datequery import fmt
from storage.search import MARK_CLOSE, MARK_OPEN  # the marks it wraps matched words in

SUMMARY_CHARS = 200


class Listed(Protocol):
    """What a result line shows: a SearchHit or a stored Article."""

    @property
    def title(self) -> str: ...
    @property
    def url(self) -> str: ...
    @property
    def local_date(self) -> date | None: ...
    @property
    def published_at(self) -> datetime | None: ...
    @property
    def source(self) -> str: ...


def fmt_date(day: date) -> str:
    """dd/mm/yyyy, as the portal writes dates."""
    return fmt(day)


def article_day(item: Listed, tz: ZoneInfo) -> date | None:
    """The article's local day: stored, else derived from its publication time."""
    if item.local_date is not None:
        return item.local_date
    if item.published_at is not None:
        return item.published_at.astimezone(tz).date()
    return None


def marked_runs(snippet: str) -> list[Inline]:
    """Plain runs for a snippet, the words between « and » bold (markers removed)."""
    runs: list[Inline] = []
    rest = snippet
    while rest:
        start = rest.find(MARK_OPEN)
        end = rest.find(MARK_CLOSE, start + 1) if start >= 0 else -1
        if start < 0 or end < 0:
            runs.append(Text(rest.replace(MARK_OPEN, "").replace(MARK_CLOSE, "")))
            break
        if start:
            runs.append(Text(rest[:start].replace(MARK_CLOSE, "")))
        if end > start + 1:
            runs.append(Text(rest[start + 1 : end], bold=True))
        rest = rest[end + 1 :]
    return [r for r in runs if r.text]


def _item_lines(n: int, item: Listed, tz: ZoneInfo, snippet: str | None) -> list[list[Inline]]:
    title = item.title.strip() or item.url
    lines: list[list[Inline]] = [[Text(f"{n}. "), Link(title, item.url)]]
    day = article_day(item, tz)
    meta = " · ".join(x for x in (fmt_date(day) if day else "", item.source) if x)
    if meta:
        lines.append([Text(meta, italic=True)])
    if snippet:
        lines.append(marked_runs(snippet))
    lines.append([])
    return lines


def _short(text: str, limit: int = SUMMARY_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def latest_reply(articles: Sequence[Listed], *, lang: str, tz: ZoneInfo) -> Reply:
    """The newest articles, numbered, each with its date and link."""
    if not articles:
        return Reply.plain(t(lang, "no_articles"))
    lines: list[list[Inline]] = [[Text(t(lang, "latest_title", n=len(articles)), bold=True)], []]
    for i, art in enumerate(articles, 1):
        lines += _item_lines(i, art, tz, None)
    return Reply(lines=lines)


class Hit(Listed, Protocol):
    """A search hit: a listed item with a marked snippet."""

    @property
    def snippet(self) -> str: ...


def search_reply(
    hits: Sequence[Hit],
    *,
    query: str,
    total: str,
    page: int,
    pages: int,
    per_page: int,
    lang: str,
    tz: ZoneInfo,
    buttons: list[Button],
) -> Reply:
    """One page of search results with a header and paging buttons."""
    shown = _short(query, 60)
    if not hits:
        return Reply.plain(t(lang, "search_none", query=shown))
    head = t(lang, "search_title", query=shown, total=total, page=page, pages=pages)
    lines: list[list[Inline]] = [[Text(head, bold=True)], []]
    for i, hit in enumerate(hits, (page - 1) * per_page + 1):
        lines += _item_lines(i, hit, tz, _short(hit.snippet, 400))
    return Reply(lines=lines, buttons=[buttons] if buttons else [])


def span_text(start: date, end: date, lang: str) -> str:
    """ "on 16/12/2011" or "from 01/12/2011 to 16/12/2011"."""
    if start == end:
        return t(lang, "span_day", start=fmt_date(start))
    return t(lang, "span_range", start=fmt_date(start), end=fmt_date(end))


def date_reply(
    items: Sequence[Listed],
    *,
    start: date,
    end: date,
    total: int,
    page: int,
    pages: int,
    per_page: int,
    lang: str,
    tz: ZoneInfo,
    buttons: list[Button],
    nearest: list[Button],
) -> Reply:
    """Articles of a day or range; when there are none, the nearest days as buttons."""
    span = span_text(start, end, lang)
    if not items:
        lines: list[list[Inline]] = [[Text(t(lang, "date_none", span=span))]]
        if nearest:
            lines.append([Text(t(lang, "date_nearest"))])
        return Reply(lines=lines, buttons=[nearest] if nearest else [])
    head = t(lang, "date_title", span=span, total=total, page=page, pages=pages)
    lines = [[Text(head, bold=True)], []]
    for i, art in enumerate(items, (page - 1) * per_page + 1):
        summary = getattr(art, "summary", "")
        lines += _item_lines(i, art, tz, _short(summary) if summary else None)
    return Reply(lines=lines, buttons=[buttons] if buttons else [])
