"""CLI verbs: `poll --once`, `sources list`, `sources test URL`, `queue`."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot.i18n import REASONS, t
from bot.settings import Settings
from jobs.ingest.errors import SourceError
from jobs.ingest.fetch import Fetcher, FetchResult
from jobs.ingest.items import ListingItem, ParsedArticle
from jobs.ingest.parse_feed import parse_feed
from jobs.ingest.parse_html import parse_article, parse_listing
from jobs.ingest.poll import OnStored, PollReport, poll_all
from jobs.ingest.sources import Selectors, SourceConfig, load_sources
from storage.articles import list_source_states
from storage.datequery import DAY_TIME_FORMAT
from storage.db import make_engine, session_scope, upgrade
from storage.deliveries import pending_by_platform
from storage.reach import undelivered_reasons
from storage.types import utcnow

T = TypeVar("T")

# The dry run prints at most this many listing items and body characters.
TEST_ITEMS = 20
TEST_BODY_CHARS = 3000


def describe(reason: str, lang: str = "vi") -> str:
    """A short explanation of a failure reason (a jobs.ingest.errors code) for admins."""
    if reason.startswith("http_") and reason[5:].isdigit():
        return t(lang, "cli_reason_http", code=reason[5:])
    words = REASONS.get(reason)
    return words.get(lang, words["vi"]) if words else reason


def _when(moment: datetime | None, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).strftime(DAY_TIME_FORMAT) if moment else "-"


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in [header, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


def _sources(settings: Settings) -> list[SourceConfig] | None:
    try:
        return load_sources(settings.sources_file)
    except (OSError, ValueError) as exc:
        print(
            t("vi", "cli_sources_unreadable", path=settings.sources_file, error=exc),
            file=sys.stderr,
        )
        return None


def _fetcher(settings: Settings) -> Fetcher:
    return Fetcher(
        deadline=settings.http_deadline_seconds,
        max_bytes=settings.http_max_body_bytes,
        per_host=settings.http_per_host_concurrency,
        user_agent=settings.http_user_agent,
    )


def format_poll_table(reports: list[PollReport]) -> str:
    """The per-source table `poll --once` prints, then one line per failed article page."""
    rows = [
        [
            r.source,
            str(r.fetched),
            str(r.new),
            str(r.edited),
            str(r.unchanged_304),
            f"skipped ({r.skipped})" if r.skipped else (r.failed or "-"),
        ]
        for r in reports
    ]
    text = _table(["source", "fetched", "new", "edited", "unchanged(304)", "failed"], rows)
    notes = [f"  {r.source}: {e}" for r in reports for e in r.article_errors]
    return text + ("\n\nfailed article pages:\n" + "\n".join(notes) if notes else "")


def poll_once(settings: Settings, *, on_stored: OnStored | None = None) -> int:
    """Poll every source once (back-off ignored); 0 when none failed, else 1.

    Like a scheduled poll, new articles queue alerts for matching chats (jobs.delivery.enqueue).
    """
    sources = _sources(settings)
    if sources is None:
        return 2
    if on_stored is None:
        from jobs.delivery.enqueue import make_on_stored

        on_stored = make_on_stored(tz=settings.tz)
    engine = make_engine(settings.database_url)
    try:
        upgrade(engine)

        async def run() -> list[PollReport]:
            fetcher = _fetcher(settings)
            try:
                return await poll_all(
                    sources,
                    fetcher=fetcher,
                    engine=engine,
                    tz=settings.tz,
                    now=utcnow(),
                    on_stored=on_stored,
                    force=True,
                    default_interval=settings.poll_interval_seconds,
                )
            finally:
                await fetcher.aclose()

        reports = asyncio.run(run())
    finally:
        engine.dispose()
    print(format_poll_table(reports))
    return 1 if any(r.failed for r in reports) else 0


def _read(settings: Settings, query: Callable[[Session], T]) -> T:
    """One read of the (migrated) database, engine disposed after."""
    engine = make_engine(settings.database_url)
    try:
        upgrade(engine)
        with session_scope(engine) as session:
            return query(session)
    finally:
        engine.dispose()


def queue_list(settings: Settings, lang: str = "vi") -> int:
    """Print the pending deliveries of each platform (rows of a platform with no configured
    channel wait here until one is configured)."""
    pending = _read(settings, pending_by_platform)
    if not pending:
        print(t(lang, "cli_queue_empty"))
    else:
        header = t(lang, "cli_queue_header").split(",")
        print(_table(header, [[platform, str(n)] for platform, n in pending.items()]))
    undelivered = _read(settings, lambda session: undelivered_reasons(session))
    if undelivered:  # every delivery that did not go out, with its reason (Zalo's -230, ...)
        header = t(lang, "cli_undelivered_header").split(",")
        print()
        print(_table(header, [[p, r[:100], str(n)] for p, r, n in undelivered]))
    return 0


def sources_list(settings: Settings) -> int:
    """Print each configured source with its health record."""
    sources = _sources(settings)
    if sources is None:
        return 2
    states = _read(settings, list_source_states)
    tz = settings.tz
    rows = []
    for src in sources:
        st = states.get(src.name)
        if st is None:
            rows.append([src.name, src.kind, "never polled", "-", "0", "-", ""])
            continue
        error = (
            f"{st.last_error}: {describe(st.last_error)} ({_when(st.last_error_at, tz)})"
            if st.last_error
            else "-"
        )
        rows.append(
            [
                src.name,
                src.kind,
                _when(st.last_success_at, tz),
                error,
                str(st.consecutive_failures),
                _when(st.next_attempt_at, tz),
                "layout changed" if st.layout_changed else "",
            ]
        )
    header = ["source", "kind", "last success", "last error", "failures", "next attempt", ""]
    print(_table(header, rows))
    return 0


def sources_test(settings: Settings, url: str, kind: str | None, allow_private: bool) -> int:
    """Dry run: fetch `url`, print what would be extracted; touches no database."""
    try:
        lines = asyncio.run(_dry_run(settings, url, kind, allow_private))
    except SourceError as exc:
        what = describe(exc.reason)
        print(t("vi", "cli_error", what=what, reason=exc.reason, error=exc), file=sys.stderr)
        return 1
    print("\n".join(lines))
    return 0


def _looks_like_feed(result: FetchResult) -> bool:
    ctype = (result.content_type or "").lower()
    head = result.body[:512].lstrip().lower()
    return any(t in ctype for t in ("xml", "rss", "atom")) or head.startswith(
        (b"<?xml", b"<rss", b"<feed")
    )


async def _dry_run(
    settings: Settings, url: str, kind: str | None, allow_private: bool
) -> list[str]:
    fetcher = _fetcher(settings)
    tz = settings.tz
    try:
        listing = await fetcher.fetch(url, allow_private=allow_private)
        kind = kind or ("rss" if _looks_like_feed(listing) else "html")
        content: dict[str, str] = {}
        if kind == "rss":
            items, content = parse_feed(listing.body, base_url=listing.url, tz=tz)
        else:
            found = parse_listing(
                listing.text(), base_url=listing.url, selectors=Selectors(), tz=tz
            )
            items = found.items
        lines = [f"{url} ({kind}): {len(items)} items", ""]
        lines += [_item_line(i, tz) for i in items[:TEST_ITEMS]]
        if not items:
            lines.append("Không tìm thấy bài viết nào: cần khai báo selectors cho nguồn này.")
            return lines
        first = items[0]
        body = content.get(first.guid or "") or content.get(first.url)
        if body is None:
            page = await fetcher.fetch(first.url, allow_private=allow_private)
            article = parse_article(page.text(), url=page.url, selectors=Selectors(), tz=tz)
        else:
            article = ParsedArticle(first.url, first.title, first.published, body, first.summary)
        lines += ["", "first article:", *_article_lines(article, tz)]
        return lines
    finally:
        await fetcher.aclose()


def _item_line(item: ListingItem, tz: ZoneInfo) -> str:
    return f"- {_when(item.published, tz):16}  {item.title}\n  {item.url}"


def _article_lines(article: ParsedArticle, tz: ZoneInfo) -> list[str]:
    body = article.body
    if len(body) > TEST_BODY_CHARS:
        body = body[:TEST_BODY_CHARS] + t(
            "vi", "cli_more_chars", n=len(article.body) - TEST_BODY_CHARS
        )
    lines = [f"title: {article.title}", f"date:  {_when(article.published, tz)}"]
    lines += [f"link:  {article.url}", "", body]
    lines += [f"attachment: {name} {link}" for name, link in article.attachments]
    return lines
