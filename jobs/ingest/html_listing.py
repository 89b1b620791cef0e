"""Listing pages: article links with titles, dates and summaries, and the next page's link."""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo

from selectolax.lexbor import LexborHTMLParser, LexborNode, SelectolaxError

from jobs.ingest.dates import DateOrder, date_in_url, numeric_date_parts, parse_portal_datetime
from jobs.ingest.errors import ParseError
from jobs.ingest.html_blocks import (
    Block,
    absolute,
    base_href,
    blocks_of,
    is_attachment,
    load_document,
)
from jobs.ingest.items import Listing, ListingItem
from jobs.ingest.sources import Selectors
from storage.text import fold, normalize

CONTAINER_LEVELS = 4  # an item's date and summary sit at most this many blocks above its link
MAX_DATE_TEXT = 60
MIN_SUMMARY_LINE = 25
MAX_ITEMS = 500
MIN_LINK_TITLE = 20  # a link text this long looks like an article title, not a menu entry
MAX_SUMMARY = 1000
# DNN article URLs: /tid/<slug>/newsid/<GUID>/ (or ?newsid=); the newsid GUID is the identity.
_NEWSID_URL = re.compile(r"/newsid/|[?&]newsid=", re.IGNORECASE)
_TID_URL = re.compile(r"/tid/", re.IGNORECASE)  # may also be a category link: second choice
_NEXT_TEXTS = frozenset(
    {"trang sau", "sau", "tiep", "trang tiep", "tiep theo", "next", "»", "›", ">", ">>", "››"}
)
_PAGE_PARAMS = ("page", "p", "trang", "pageindex", "pagenumber", "currentpage", "pageno")
_EXTENSION = re.compile(r"\.[a-z]{2,5}$")
_LETTERS = re.compile(r"[^\W\d_]{2,}")
MIN_GROUP_TITLE = 10  # within the article pattern, shorter link texts are labels ("Video")


def url_shape(url: str) -> tuple[str, str]:
    """(host, skeleton of the last path segment): ".../thu-tuong-hop-20221224012650880.htm"
    -> ("host", "w#.htm") (words, digits, extension). Article links of one site share a
    skeleton whatever their folder (news, video); menus and categories rarely have digits."""
    parts = urlsplit(url)
    last = parts.path.rstrip("/").rsplit("/", 1)[-1].lower()
    ext = _EXTENSION.search(last)
    stem = last[: ext.start()] if ext else last
    skeleton = ("w" if _LETTERS.search(stem) else "") + (
        "#" if any(c.isdigit() for c in stem) else ""
    )
    return parts.hostname or "", skeleton + (ext.group() if ext else "") + (
        "?" if parts.query else ""
    )


def _is_date(text: str, tz: ZoneInfo) -> bool:
    """Whether a short text is a date in any order ("9/14/2026" as well as "14/9/2026")."""
    return numeric_date_parts(text) is not None or parse_portal_datetime(text, tz=tz) is not None


def _css(node: LexborNode | LexborHTMLParser, selector: str) -> list[LexborNode]:
    try:
        return list(node.css(selector))
    except SelectolaxError as exc:
        raise ParseError(f"invalid CSS selector {selector!r}") from exc


def _text(node: LexborNode | None) -> str:
    return normalize(node.text(separator=" ")) if node is not None else ""


def _link_title(link: LexborNode) -> str:
    image = link.css_first("img[alt]")
    alt = image.attributes.get("alt") if image is not None else None
    return _text(link) or normalize(link.attributes.get("title") or alt or "")


def _describe(lines: list[str], title: str, tz: ZoneInfo) -> tuple[str, str]:
    """(date text, summary) of an item's lines, the title's own text left out."""
    date_text, summary = "", []
    for line in lines:
        if title and title in line:
            rest = line.replace(title, " ").strip()
            if rest and len(rest) <= MAX_DATE_TEXT and _is_date(rest, tz):
                date_text = date_text or rest
            continue
        if len(line) <= MAX_DATE_TEXT and _is_date(line, tz):
            date_text = date_text or line
        elif len(line) > MIN_SUMMARY_LINE:
            summary.append(line)
    return date_text, " ".join(summary)[:MAX_SUMMARY]


def _item(
    url: str, title: str, date_text: str, summary: str, tz: ZoneInfo, order: DateOrder | None
) -> ListingItem:
    url_date = date_in_url(url, tz=tz)
    published = parse_portal_datetime(date_text, tz=tz, order=order) if date_text else None
    if published is None and not date_text:
        published = url_date  # the page shows no date: the URL's stamp is the next best
    return ListingItem(
        url=url,
        title=title,
        published=published,
        summary=summary,
        date_text=date_text,
        url_date=url_date,
    )


def _is_self(url: str, page: str) -> bool:
    """A link back to the listing itself ("#", "", the page's own URL)."""
    return url.rstrip("/") == page.split("#", 1)[0].rstrip("/")


def _items_from_links(
    links: Iterable[LexborNode], base: str, page: str, tz: ZoneInfo, order: DateOrder | None
) -> list[ListingItem]:
    """Items of links chosen by a selector: the link's text (or title), a date in its parent."""
    items: dict[str, ListingItem] = {}
    for link in links:
        url = absolute(base, link.attributes.get("href") or "")
        title = _link_title(link)
        if url is None or not title or (url in items and len(items[url].title) >= len(title)):
            continue
        if _is_self(url, page) or _is_self(url, base):
            continue
        lines = [line for block in blocks_of(link.parent or link) for line in block.lines]
        date_text, summary = _describe(lines, title, tz)
        items[url] = _item(url, title, date_text, summary, tz, order)
    return list(items.values())[:MAX_ITEMS]


def article_links(blocks: list[Block], base: str, page: str) -> list[tuple[int, str, str]]:
    """(block index, title, url) of the links that look like the page's articles.

    DNN newsid links when there are any; else every link (lead story, lists, video items)
    whose URL has the skeleton shared by most long-titled links of the site.
    """
    links = [
        (i, text, url)
        for i, block in enumerate(blocks)
        if not block.chrome
        for text, href in block.links
        if (url := absolute(base, href))
        and not is_attachment(url)
        and not _is_self(url, page)
        and not _is_self(url, base)
    ]
    for pattern in (_NEWSID_URL, _TID_URL):
        articles = [link for link in links if pattern.search(link[2])]
        if articles:
            return articles
    host = urlsplit(base).hostname
    votes: dict[tuple[str, str], set[str]] = {}
    for _i, text, url in links:
        shape = url_shape(url)
        if len(text) >= MIN_LINK_TITLE and shape[0] == host:
            votes.setdefault(shape, set()).add(url)
    if not votes:
        return []
    best = max(votes, key=lambda shape: (len(votes[shape]), "#" in shape[1]))
    if len(votes[best]) < 2 and "#" not in best[1]:
        return []  # one long link is not a list of articles
    return [
        (i, text, url)
        for i, text, url in links
        if url_shape(url) == best and (len(text) >= MIN_GROUP_TITLE or not text)
    ]


def _default_items(
    blocks: list[Block], base: str, page: str, tz: ZoneInfo, order: DateOrder | None
) -> list[ListingItem]:
    links = article_links(blocks, base, page)
    beneath: dict[int, set[str]] = {}  # block element -> article URLs linked under it
    found: dict[str, tuple[int, str]] = {}
    for i, title, url in links:
        for element in blocks[i].path[-CONTAINER_LEVELS:]:
            beneath.setdefault(element, set()).add(url)
        if title and (url not in found or len(title) > len(found[url][1])):
            found[url] = (i, title)
    items = []
    for url, (i, title) in list(found.items())[:MAX_ITEMS]:
        path = blocks[i].path
        container = path[-1]
        for element in reversed(path[-CONTAINER_LEVELS:-1]):  # up while it is this item only
            if beneath.get(element, set()) - {url}:
                break
            container = element
        start, end = i, i + 1
        while start > 0 and container in blocks[start - 1].path:
            start -= 1
        while end < len(blocks) and container in blocks[end].path:
            end += 1
        lines = [line for block in blocks[start:end] for line in block.lines]
        date_text, summary = _describe(lines, title, tz)
        items.append(_item(url, title, date_text, summary, tz, order))
    return items


def _selected_items(
    doc: LexborHTMLParser,
    sel: Selectors,
    base: str,
    page: str,
    tz: ZoneInfo,
    order: DateOrder | None,
) -> list[ListingItem]:
    if not sel.item:
        return _items_from_links(_css(doc, sel.link or "a[href]"), base, page, tz, order)
    items = []
    for node in _css(doc, sel.item)[:MAX_ITEMS]:
        links = _css(node, sel.link or "a[href]")
        link = links[0] if links else None
        url = absolute(base, (link.attributes.get("href") if link is not None else None) or "")
        if url is None or _is_self(url, page):
            continue
        title = _text(_css(node, sel.title)[0]) if sel.title and _css(node, sel.title) else ""
        title = title or (_link_title(link) if link is not None else "")
        date_nodes = _css(node, sel.date) if sel.date else [node]
        date_text = _text(date_nodes[0])[: MAX_DATE_TEXT * 4] if date_nodes else ""
        summary_nodes = _css(node, sel.summary) if sel.summary else []
        summary = _text(summary_nodes[0])[:MAX_SUMMARY] if summary_nodes else ""
        if title:
            date_text = date_text if _is_date(date_text, tz) else ""
            items.append(_item(url, title, date_text, summary, tz, order))
    return items


def _next_page(doc: LexborHTMLParser, blocks: list[Block], base: str, page: str) -> str | None:
    """rel=next, else a "Trang sau"/"»" link, else the link numbered one past this page."""
    candidates = [
        absolute(base, node.attributes.get("href") or "")
        for node in doc.css('link[rel="next"], a[rel="next"]')
    ]
    links = [(text, href) for block in blocks for text, href in block.links if len(text) <= 12]
    candidates += [absolute(base, href) for text, href in links if fold(text) in _NEXT_TEXTS]
    query = dict(parse_qsl(urlsplit(page).query.lower()))
    current = next((query[p] for p in _PAGE_PARAMS if query.get(p, "").isdigit()), "1")
    wanted = str(int(current) + 1)
    candidates += [absolute(base, href) for text, href in links if text == wanted]
    return next((url for url in candidates if url and url != page.split("#")[0]), None)


def parse_listing(
    html: str | bytes,
    *,
    base_url: str,
    selectors: Selectors | None = None,
    tz: ZoneInfo,
    date_order: DateOrder | None = "dmy",
) -> Listing:
    """Article links of a listing page (DNN newsid links by default) and its next page."""
    sel = selectors or Selectors()
    doc = load_document(html)
    base = base_href(doc, base_url)
    root = doc.body or doc.root
    blocks = blocks_of(root) if root is not None else []
    if sel.item or sel.link:
        items = _selected_items(doc, sel, base, base_url, tz, date_order)
    else:
        items = _default_items(blocks, base, base_url, tz, date_order)
    return Listing(items=items, next_page=_next_page(doc, blocks, base, base_url))
