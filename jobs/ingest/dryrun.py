"""`sources test`: what a source would yield, every step shown (touches no database)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
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

# The dry run prints at most this many listing items and body characters.
TEST_ITEMS = 25
TEST_BODY_CHARS = 3000
TEST_ARTICLES = 5  # article pages fetched by default
SELECTOR_KEYS = {
    "item": "mỗi mục của danh sách / one listing entry",
    "link": "liên kết tới bài / the article link (inside item)",
    "title": "tiêu đề trong mục / title inside item",
    "date": "ngày trong mục / date inside item",
    "summary": "tóm tắt trong mục / summary inside item",
    "article_title": "tiêu đề trang bài / article page title",
    "article_date": "ngày trên trang bài / article page date",
    "article_body": "nội dung bài / article body",
}
_FEED_LINK = 'link[rel="alternate"][type*="rss"], link[rel="alternate"][type*="atom"]'
_CSS_SAFE = re.compile(r"^[\w-]+$")


@dataclass
class Outcome:
    """One article page of the dry run: the parsed article, or why it failed."""

    url: str
    article: ParsedArticle | None = None
    error: str | None = None  # "reason: detail"


@dataclass
class DryRun:
    """Everything the dry run learnt, for printing."""

    url: str
    kind: str
    notes: list[str] = field(default_factory=list)
    items: list[ListingItem] = field(default_factory=list)
    verdict: OrderVerdict = field(default_factory=lambda: OrderVerdict(None, "none"))
    outcomes: list[Outcome] = field(default_factory=list)
    hint: list[str] = field(default_factory=list)  # the "needs selectors" help

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


def selector_hint(html: str, base_url: str) -> list[str]:
    """The keys of [source.selectors] and an example built from the page's most repeated
    link pattern (the likeliest article list)."""
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
    lines = ["Các khoá của [source.selectors] (CSS) / selector keys:"]
    lines += [f"  {key:14} {what}" for key, what in SELECTOR_KEYS.items()]
    shapes = Counter(url_shape(url) for url, _node in links)
    if shapes:
        shape, count = shapes.most_common(1)[0]
        group = [(url, node) for url, node in links if url_shape(url) == shape]
        css = _link_css([url for url, _ in group], group[0][1])
        lines += [
            "",
            f"Mẫu liên kết lặp lại nhiều nhất ({count} lần), ví dụ {group[0][0]}",
            f'Thử / try:  portal-notifier sources test {base_url} --selector "link={css}"',
            "Trong tệp nguồn / in the sources file:",
            "  [source.selectors]",
            f'  link = "{css}"',
        ]
    return lines


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
        run.notes.append(_wrong_kind(kind, detected))
    content: dict[str, str] = {}
    if is_feed:
        items, content = parse_feed(listing.body, base_url=listing.url, tz=tz)
    else:
        html = listing.text()
        items = parse_listing(html, base_url=listing.url, selectors=sel, tz=tz).items
        feed = load_document(html).css_first(_FEED_LINK)
        if not items and feed is not None:
            href = absolute(listing.url, feed.attributes.get("href") or "")
            run.notes.append(f"Trang có nguồn RSS/Atom / the page links a feed: {href}")
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
            run.hint = selector_hint(listing.text(), listing.url)
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


def _wrong_kind(given: str, detected: str) -> str:
    if detected == "rss":
        return (
            "Đây là nguồn tin RSS/Atom, không phải trang HTML: dùng --kind rss "
            '(kind = "rss" trong tệp nguồn) / this is a feed, not an HTML page'
        )
    return (
        f"Đây là trang HTML, không phải RSS/Atom (--kind {given}): dùng --kind html "
        '(kind = "html") / this is an HTML page, not a feed'
    )


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


def _when(moment: datetime | None, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).strftime("%d/%m/%Y %H:%M") if moment else "-"


_ORDER_WORDS = {"dmy": "ngày trước tháng (dmy)", "mdy": "tháng trước ngày (mdy)"}


def format_dry_run(run: DryRun, *, tz: ZoneInfo, describe: Callable[[str], str]) -> list[str]:
    """The lines `sources test` prints: the listing, each article's outcome, the first one."""
    lines = [f"{run.url} ({run.kind}): {len(run.items)} mục / items", *run.notes]
    if run.verdict.order is not None:
        lines.append(
            f"Ngày tháng / dates: {_ORDER_WORDS[run.verdict.order]} ({run.verdict.reason})"
        )
    if run.verdict.ambiguous:
        lines.append(
            f"{run.verdict.ambiguous} ngày mơ hồ (9/12 hay 12/9?) bị bỏ trống: đặt "
            'date_order = "dmy" hoặc "mdy" / ambiguous dates left empty'
        )
    lines.append("")
    for item in run.items[:TEST_ITEMS]:
        lines.append(f"- {_when(item.published, tz):16}  {item.title}\n  {item.url}")
    if len(run.items) > TEST_ITEMS:
        lines.append(f"  … (+{len(run.items) - TEST_ITEMS})")
    if not run.items:
        lines.append("Không tìm thấy bài viết nào: cần khai báo selectors cho nguồn này.")
        lines += ["", *run.hint] if run.hint else []
        return lines
    lines += ["", f"Trang bài viết / article pages ({len(run.outcomes)} đầu tiên):"]
    for outcome in run.outcomes:
        if outcome.article is None:
            reason = (outcome.error or "").split(":", 1)[0]
            lines.append(f"  LỖI {outcome.url}\n       {describe(reason)} ({outcome.error})")
        else:
            a = outcome.article
            lines.append(
                f"  OK   {outcome.url}\n       {_when(a.published, tz)} | {a.title[:80]} | "
                f"{len(a.body)} ký tự"
            )
    first = next((o.article for o in run.outcomes if o.article is not None), None)
    if first is not None:
        lines += ["", "Bài đầu tiên đọc được / first article read:", *_article_lines(first, tz)]
    return lines


def _article_lines(article: ParsedArticle, tz: ZoneInfo) -> list[str]:
    body = article.body
    if len(body) > TEST_BODY_CHARS:
        body = body[:TEST_BODY_CHARS] + f" … (+{len(article.body) - TEST_BODY_CHARS} ký tự)"
    lines = [f"title: {article.title}", f"date:  {_when(article.published, tz)}"]
    lines += [f"link:  {article.url}", "", body]
    lines += [f"attachment: {name} {link}" for name, link in article.attachments]
    return lines
