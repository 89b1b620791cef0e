"""Reading a source for one poll: listings (conditional GET, pagination) and article pages.

Politeness rule for article pages (html sources, and feeds without inline content):
  * a listing page that answers 304 is not parsed, none of its articles is fetched, and the
    walk through its pages stops there (new articles appear on the first page);
  * on a listing that answered 200, an article page is fetched when its key is not stored
    yet, or when the listing shows a different title or date than the stored row, or when
    the article was first seen less than EDIT_WATCH ago (portals correct fresh news; older
    articles are left alone). Known articles are fetched conditionally (ETag/Last-Modified),
    so an unchanged page costs a 304 and no parsing.
A failed article page is recorded and the others are kept (jobs.ingest.poll then leaves the
listings un-cached, so the next poll retries it).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine

from jobs.ingest.date_order import OrderVerdict, anchors_of, decide_order, resolve_items
from jobs.ingest.dates import DateOrder, numeric_date_parts, parse_portal_datetime, plausible
from jobs.ingest.errors import SourceError
from jobs.ingest.fetch import Fetcher, FetchResult, Validators
from jobs.ingest.items import ListingItem, ParsedArticle
from jobs.ingest.normalize import article_key, public_url, to_article
from jobs.ingest.parse_feed import parse_feed
from jobs.ingest.parse_html import parse_article, parse_listing
from jobs.ingest.sources import SourceConfig
from storage import articles as store
from storage.db import session_scope
from storage.models import ArticleBase
from storage.text import normalize

log = logging.getLogger(__name__)

# Fresh articles are re-checked for edits this long after they were first seen.
EDIT_WATCH = timedelta(days=3)
# Article pages fetched at once per source (the fetcher also caps each host).
ARTICLE_CONCURRENCY = 4


@dataclass
class PollReport:
    """What one poll of one source did, for the CLI table and the logs."""

    source: str
    fetched: int = 0  # answers 200 (listings, feeds and article pages)
    new: int = 0
    edited: int = 0
    unchanged_304: int = 0
    failed: str | None = None  # the source's failure reason, None when it succeeded
    items_seen: int = 0
    skipped: str | None = None  # "back-off" (inside its window) or "locked" (another replica)
    article_errors: list[str] = field(default_factory=list)  # "url: reason"
    skipped_items: list[str] = field(default_factory=list)  # items left out: "what: reason"


@dataclass
class PollRun:
    """Working state of one poll, filled by read_listings and read_articles."""

    source: SourceConfig
    fetcher: Fetcher
    engine: Engine
    tz: ZoneInfo
    now: datetime
    report: PollReport
    items: list[ListingItem] = field(default_factory=list)
    feed_content: dict[str, str] = field(default_factory=dict)
    listing_changed: bool = False  # some listing answered 200 and was parsed
    listing_error: SourceError | None = None  # the first listing that failed
    listing_validators: dict[str, Validators] = field(default_factory=dict)
    article_validators: dict[str, Validators] = field(default_factory=dict)
    stored: list[tuple[ArticleBase, str]] = field(default_factory=list)
    learned_order: DateOrder | None = None  # from the source's health (earlier reads)
    verdict: OrderVerdict = field(default_factory=lambda: OrderVerdict(None, "none"))
    fresh: bool = True  # items are being seen for the first time (a poll, not a backfill)
    # Article pages whose date stayed ambiguous: index in `stored` -> the date as printed.
    undated: dict[int, str] = field(default_factory=dict)

    def settle_dates(self) -> None:
        """Read the items' "a/b/yyyy" dates in the order their evidence settles."""
        verdict = decide_order(
            [item.date_text for item in self.items if item.date_text],
            tz=self.tz,
            now=self.now,
            declared=self.source.date_order,
            learned=self.learned_order,
            anchors=anchors_of(self.items),
            fresh=self.fresh,
        )
        self.items, self.verdict = resolve_items(self.items, verdict, tz=self.tz)

    def settle_article_dates(self) -> None:
        """With the order still unsettled after the listing, the article pages' own dates are
        more evidence: settle on them all, then date the articles left undated."""
        if self.verdict.order is not None or not self.undated:
            return
        texts = [i.date_text for i in self.items if i.date_text] + list(self.undated.values())
        verdict = decide_order(
            texts, tz=self.tz, now=self.now, learned=self.learned_order, fresh=self.fresh
        )
        still = 0
        for index, text in self.undated.items():
            published = parse_portal_datetime(text, tz=self.tz, order=verdict.order)
            if published is None:
                still += 1
                continue
            article, content_hash = self.stored[index]
            when = published.astimezone(UTC)
            dated = article.model_copy(
                update={"published_at": when, "local_date": when.astimezone(self.tz).date()}
            )
            self.stored[index] = (dated, content_hash)
        self.verdict = replace(verdict, ambiguous=self.verdict.ambiguous + still)
        self.undated.clear()


async def _fetch(run: PollRun, url: str, validators: Validators | None) -> FetchResult:
    result = await run.fetcher.fetch(
        url, validators=validators, allow_private=run.source.allow_private
    )
    if result.status == 304:
        run.report.unchanged_304 += 1
    else:
        run.report.fetched += 1
    return result


async def read_listings(run: PollRun) -> None:
    """Fetch each listing (or feed) conditionally, following pagination up to `pages`.

    A failing listing stops its own pagination only: the items already read are kept.
    """
    for start in run.source.urls:
        try:
            await _read_listing(run, start)
        except SourceError as exc:
            run.listing_error = run.listing_error or exc
    run.settle_dates()


async def _read_listing(run: PollRun, start: str) -> None:
    source = run.source
    url: str | None = start
    seen: set[str] = set()
    for _page in range(max(1, source.pages if source.kind == "html" else 1)):
        if url is None or url in seen:
            return
        seen.add(url)
        page_url = url  # validators are kept under the URL we ask for, not the redirect's
        cached = await asyncio.to_thread(_validators, run.engine, [page_url])
        result = await _fetch(run, page_url, cached.get(page_url))
        if result.status == 304:
            return  # unchanged: nothing to parse, and its next page is unknown
        if source.kind == "rss":
            items, content = await asyncio.to_thread(
                parse_feed,
                result.body,
                base_url=result.url,
                tz=run.tz,
                skipped=run.report.skipped_items,
            )
            run.feed_content.update(content)
            url = None
        else:
            listing = await asyncio.to_thread(
                parse_listing,
                result.text(),
                base_url=result.url,
                selectors=source.selectors,
                tz=run.tz,
            )
            items, url = listing.items, listing.next_page
        run.listing_changed = True
        run.listing_validators[page_url] = result.validators
        run.items.extend(items)


def item_key(source: SourceConfig, item: ListingItem) -> str:
    """The stable key one listing item will be stored under (as poll and backfill agree)."""
    return article_key(
        source=source.name,
        url=item.url,
        guid=item.guid,
        title=item.title,
        published=plausible(item.published),
        aliases=source.aliases,
    )


def _skip(run: PollRun, item: ListingItem, exc: Exception) -> None:
    """Count an item left out, with its reason, for the source's health."""
    run.report.skipped_items.append(f"{public_url(item.url)[:100]}: {type(exc).__name__}")
    log.warning("source %s: item skipped: %r", run.source.name, exc)


def _article(run: PollRun, parsed: ParsedArticle, item: ListingItem) -> None:
    """Normalise one article into run.stored."""
    source = run.source
    article = to_article(
        parsed, source=source.name, tz=run.tz, listing=item, aliases=source.aliases, now=run.now
    )
    if article[0].published_at is None and numeric_date_parts(parsed.date_text):
        run.undated[len(run.stored)] = parsed.date_text
    run.stored.append(article)


async def read_articles(run: PollRun) -> None:
    """Build an article per listing item: from feed content, or from its page when due."""
    items: dict[str, ListingItem] = {}
    for item in run.items:
        try:
            items.setdefault(item_key(run.source, item), item)
        except Exception as exc:  # one hostile item must not lose the listing's others
            run.report.skipped_items.append(f"{public_url(item.url)[:100]}: {type(exc).__name__}")
            log.warning("source %s: item skipped: %r", run.source.name, exc)
    known = await asyncio.to_thread(_known, run.engine, list(items))
    to_fetch: list[tuple[str, ListingItem]] = []
    for key, item in items.items():
        content = run.feed_content.get(item.guid or "") or run.feed_content.get(item.url)
        if run.source.kind == "rss" and (content or not run.source.fetch_articles):
            parsed = ParsedArticle(
                url=item.url,
                title=item.title,
                published=item.published,
                body=content or item.summary,
                summary=item.summary,
                guid=item.guid,
            )
            try:
                _article(run, parsed, item)
            except Exception as exc:
                _skip(run, item, exc)
        elif _due(item, known.get(key), run.now, run.tz):
            to_fetch.append((key, item))
    # Only known articles are fetched conditionally: an unseen one has no validators to use.
    known_urls = [item.url for key, item in to_fetch if key in known]
    cached = await asyncio.to_thread(_validators, run.engine, known_urls)
    gate = asyncio.Semaphore(ARTICLE_CONCURRENCY)

    async def one(key: str, item: ListingItem) -> None:
        async with gate:
            await _read_article(run, item, cached.get(item.url) if key in known else None)

    await asyncio.gather(*(one(k, i) for k, i in to_fetch))
    run.settle_article_dates()


def _due(item: ListingItem, stored: _Known | None, now: datetime, tz: ZoneInfo) -> bool:
    """Whether an article page is worth a request (the rule in this module's docstring)."""
    if stored is None:
        return True
    # Listings often shorten titles ("...") and show the day only: compare what they show.
    shown = normalize(item.title).rstrip(".… ")
    if not stored.title.startswith(shown):
        return True
    published = plausible(item.published)
    if published is not None and published.astimezone(tz).date() != stored.local_date:
        return True
    return now - stored.first_seen_at < EDIT_WATCH


async def _read_article(run: PollRun, item: ListingItem, validators: Validators | None) -> None:
    """Fetch, parse and normalise one article page; a failure is recorded, not raised."""
    try:
        result = await _fetch(run, item.url, validators)
        if result.status == 304:
            return
        parsed = await asyncio.to_thread(
            parse_article,
            result.text(),
            url=result.url,
            selectors=run.source.selectors,
            tz=run.tz,
            date_order=run.verdict.order,
        )
        # to_article keys and links the article by the listing's URL, not a redirect's.
        _article(run, parsed, item)
        run.article_validators[item.url] = result.validators
    except SourceError as exc:
        url = public_url(item.url)
        run.report.article_errors.append(f"{url}: {exc.reason}")
        log.info("source %s: article %s failed: %s", run.source.name, url, exc.reason)
    except Exception as exc:  # a parser bug on one page must not lose the others
        url = public_url(item.url)
        run.report.article_errors.append(f"{url}: internal: {type(exc).__name__}")
        log.exception("source %s: article %s: unexpected error", run.source.name, url)


@dataclass(frozen=True)
class _Known:
    """What the politeness rule needs of a stored article."""

    title: str
    local_date: date | None
    first_seen_at: datetime


def _known(engine: Engine, keys: list[str]) -> dict[str, _Known]:
    if not keys:
        return {}
    with session_scope(engine) as s:
        # Only what the rule compares: a listing's worth of article bodies stays unread.
        return {k: _Known(*seen) for k, seen in store.seen_articles(s, keys=keys).items()}


def _validators(engine: Engine, urls: list[str]) -> dict[str, Validators]:
    if not urls:
        return {}
    public = {public_url(url): url for url in urls}  # credentials are never stored
    with session_scope(engine) as s:
        found = store.get_validators(s, urls=list(public))
    return {public[u]: Validators(etag=e, last_modified=lm) for u, (e, lm) in found.items()}
