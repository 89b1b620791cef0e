"""`sources test`: what a source would yield, every step shown (touches no database)."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from jobs.ingest.date_order import OrderVerdict, anchors_of, decide_order, resolve_items
from jobs.ingest.dates import parse_portal_datetime
from jobs.ingest.errors import SourceError
from jobs.ingest.fetch import Fetcher, FetchResult
from jobs.ingest.html_blocks import absolute, base_href, blocks_of, load_document
from jobs.ingest.html_listing import url_shape
from jobs.ingest.items import ListingItem, ParsedArticle
from jobs.ingest.parse_feed import parse_feed
from jobs.ingest.parse_html import parse_article, parse_listing
from jobs.ingest.sources import Selectors, SourceConfig

TEST_ARTICLES = 5  # article pages fetched by default
_FEED_LINK = 'link[rel="alternate"][type*="rss"], link[rel="alternate"][type*="atom"]'
_CSS_SAFE = re.compile(r"^[\w-]+$")


@dataclass
class Outcome:
    """One article page of the dry run: the parsed article, or why it failed."""

    url: str
    article: ParsedArticle | None = None
    error: str | None = None  # "reason: detail"


@dataclass(frozen=True)
class SelectorExample:
    """The page's most repeated link pattern, as a `link` selector to try."""

    count: int  # links of that pattern
    example_url: str
    css: str


@dataclass
class DryRun:
    """Everything the dry run learnt, for printing (bot.cli_dryrun words it)."""

    url: str
    kind: str  # what the page is: "html" or "rss"
    wrong_kind: str | None = None  # the kind the user gave, when the page is the other one
    feed_link: str | None = None  # an HTML page without items that links a feed
    items: list[ListingItem] = field(default_factory=list)
    verdict: OrderVerdict = field(default_factory=lambda: OrderVerdict(None, "none"))
    outcomes: list[Outcome] = field(default_factory=list)
    example: SelectorExample | None = None  # set when no item was found on an HTML page

    @property
    def ok(self) -> bool:
        """Items found and every tested article read."""
        return bool(self.items) and all(o.article is not None for o in self.outcomes)


def looks_like_feed(result: FetchResult) -> bool:
    """RSS/Atom by content type or by the document's first tag."""
    ctype = (result.content_type or "").lower()
    head = result.body[:512].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html")):
        return False
    return any(t in ctype for t in ("xml", "rss", "atom")) or head.startswith(
        (b"<?xml", b"<rss", b"<feed")
    )


def selector_example(html: str, base_url: str) -> SelectorExample | None:
    """A `link` selector built from the page's most repeated link pattern (the likeliest
    article list); None when the page has no such links."""
    doc = load_document(html)
    base = base_href(doc, base_url)
    root = doc.body or doc.root
    links = [
        (url, block.node)
        for block in (blocks_of(root) if root is not None else [])
        if not block.chrome
        for text, href in block.links
        if len(text) >= 10 and (url := absolute(base, href)) and url != base
    ]
    shapes = Counter(url_shape(url) for url, _node in links)
    if not shapes:
        return None
    shape, count = shapes.most_common(1)[0]
    group = [(url, node) for url, node in links if url_shape(url) == shape]
    return SelectorExample(count, group[0][0], _link_css([url for url, _ in group], group[0][1]))


def _link_css(urls: list[str], node: object) -> str:
    paths = [urlsplit(u).path for u in urls]
    prefix = paths[0]
    for path in paths[1:]:
        while not path.startswith(prefix):
            prefix = prefix[:-1]
    prefix = prefix[: prefix.rfind("/") + 1]
    if len(prefix) > 1:
        return f"a[href*='{prefix}']"
    classes = (getattr(node, "attributes", {}) or {}).get("class") or ""
    first = next((c for c in classes.split() if _CSS_SAFE.match(c)), None)
    tag = getattr(node, "tag", "") or "div"
    return f"{tag}.{first} a[href]" if first else f"{tag} a[href]"


async def dry_run(
    fetcher: Fetcher,
    *,
    url: str,
    tz: ZoneInfo,
    now: datetime,
    kind: str | None = None,
    source: SourceConfig | None = None,
    selectors: Selectors | None = None,
    allow_private: bool = False,
    articles: int = TEST_ARTICLES,
) -> DryRun:
    """Fetch the listing (SourceError when that fails), then up to `articles` article pages."""
    sel = selectors or (source.selectors if source else Selectors())
    private = allow_private or bool(source and source.allow_private)
    listing = await fetcher.fetch(url, allow_private=private)
    is_feed = looks_like_feed(listing)
    detected = "rss" if is_feed else "html"
    run = DryRun(url=url, kind=detected)
    if kind is not None and kind != detected:
        run.wrong_kind = kind
    content: dict[str, str] = {}
    if is_feed:
        items, content = parse_feed(listing.body, base_url=listing.url, tz=tz)
    else:
        html = listing.text()
        items = parse_listing(html, base_url=listing.url, selectors=sel, tz=tz).items
        feed = load_document(html).css_first(_FEED_LINK)
        if not items and feed is not None:
            run.feed_link = absolute(listing.url, feed.attributes.get("href") or "")
    verdict = decide_order(
        [i.date_text for i in items if i.date_text],
        tz=tz,
        now=now,
        declared=source.date_order if source else None,
        anchors=anchors_of(items),
    )
    run.items, run.verdict = resolve_items(items, verdict, tz=tz)
    if not run.items:
        if not is_feed:
            run.example = selector_example(listing.text(), listing.url)
        return run
    for item in run.items[: max(0, articles)]:
        run.outcomes.append(await _article(fetcher, item, content, sel, private, tz, run))
    _settle_article_dates(run, tz, now)
    return run


def _settle_article_dates(run: DryRun, tz: ZoneInfo, now: datetime) -> None:
    """As a poll does: article pages' own dates settle an order the listing left open."""
    undated = [o for o in run.outcomes if o.article and not o.article.published]
    texts = [o.article.date_text for o in undated if o.article and o.article.date_text]
    if run.verdict.order is not None or not texts:
        return
    listed = [i.date_text for i in run.items if i.date_text]
    verdict = decide_order(listed + texts, tz=tz, now=now)
    if verdict.order is None:
        return
    run.verdict = replace(verdict, ambiguous=0)
    for outcome in undated:
        assert outcome.article is not None
        when = parse_portal_datetime(outcome.article.date_text, tz=tz, order=verdict.order)
        outcome.article = replace(outcome.article, published=when)


async def _article(
    fetcher: Fetcher,
    item: ListingItem,
    content: dict[str, str],
    sel: Selectors,
    private: bool,
    tz: ZoneInfo,
    run: DryRun,
) -> Outcome:
    body = content.get(item.guid or "") or content.get(item.url)
    if body is not None:
        return Outcome(item.url, ParsedArticle(item.url, item.title, item.published, body))
    try:
        page = await fetcher.fetch(item.url, allow_private=private)
        article = parse_article(
            page.text(), url=page.url, selectors=sel, tz=tz, date_order=run.verdict.order
        )
    except SourceError as exc:
        return Outcome(item.url, error=f"{exc.reason}: {exc}")
    if article.published is None and item.published is not None:
        article = replace(article, published=item.published)
    return Outcome(item.url, article)
