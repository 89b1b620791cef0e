"""Listing pages: article links with titles, dates and summaries, and the next page's link."""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo

from selectolax.lexbor import LexborHTMLParser, LexborNode, SelectolaxError

from jobs.dates import parse_portal_datetime
from jobs.errors import ParseError
from jobs.html_blocks import absolute, base_href, blocks_of, is_attachment, load_document
from jobs.items import Listing, ListingItem
from jobs.sources import Selectors
from storage.text import fold, normalize

MAX_ANCESTORS = 40  # how far up a link's ancestors are inspected (hostile pages nest deeply)
MAX_ITEMS = 500
MIN_LINK_TITLE = 20  # a link text this long looks like an article title, not a menu entry
MAX_SUMMARY = 1000
# DNN article URLs: /tid/<slug>/newsid/<GUID>/ (or ?newsid=); the newsid GUID is the identity.
_ARTICLE_URL = re.compile(r"/newsid/|/tid/|[?&]newsid=", re.IGNORECASE)
_CHROME = re.compile(r"login|search|timkiem|menu|breadcrumb|footer|banner|nav\b", re.IGNORECASE)
_NEXT_TEXTS = frozenset(
    {"trang sau", "sau", "tiep", "trang tiep", "tiep theo", "next", "»", "›", ">", ">>", "››"}
)
_PAGE_PARAMS = ("page", "p", "trang", "pageindex", "pagenumber", "currentpage", "pageno")


def _css(node: LexborNode | LexborHTMLParser, selector: str) -> list[LexborNode]:
    try:
        return list(node.css(selector))
    except SelectolaxError as exc:
        raise ParseError(f"invalid CSS selector {selector!r}") from exc


def _text(node: LexborNode | None) -> str:
    return normalize(node.text(separator=" ")) if node is not None else ""


def _hint(node: LexborNode) -> str:
    words: list[str] = []
    current: LexborNode | None = node
    for _ in range(MAX_ANCESTORS):
        if current is None:
            break
        attrs = current.attributes
        words.extend(v for k, v in attrs.items() if k in ("id", "class") and v)
        current = current.parent
    return " ".join(words)


def _link_title(link: LexborNode) -> str:
    image = link.css_first("img[alt]")
    alt = image.attributes.get("alt") if image is not None else None
    return _text(link) or normalize(link.attributes.get("title") or alt or "")


def _container(link: LexborNode, url: str, base: str) -> LexborNode:
    """The largest ancestor (a few levels up) that holds links to this article only."""
    best = link
    current = link.parent
    for _ in range(4):
        if current is None or current.tag in ("body", "html"):
            break
        targets = {absolute(base, a.attributes.get("href") or "") for a in current.css("a[href]")}
        if len(targets - {None, url}) > 0:
            break
        best, current = current, current.parent
    return best


def _describe(container: LexborNode, title: str, tz: ZoneInfo) -> tuple[str, str]:
    """(date text, summary) of an item's container, the title's own text left out."""
    date_text, summary = "", []
    for block in blocks_of(container):
        for line in block.lines:
            if title and title in line:
                rest = line.replace(title, " ").strip()
                if rest and parse_portal_datetime(rest, tz=tz):
                    date_text = date_text or rest
                continue
            if len(line) <= 60 and parse_portal_datetime(line, tz=tz) is not None:
                date_text = date_text or line
            elif len(line) > 25:
                summary.append(line)
    return date_text, " ".join(summary)[:MAX_SUMMARY]


def _items_from_links(
    links: Iterable[LexborNode], base: str, tz: ZoneInfo, *, describe: bool = True
) -> list[ListingItem]:
    found: dict[str, tuple[LexborNode, str]] = {}
    for link in links:
        url = absolute(base, link.attributes.get("href") or "")
        if url is None or is_attachment(url):
            continue
        title = _link_title(link)
        if url not in found or len(title) > len(found[url][1]):
            found[url] = (link, title) if url not in found or title else found[url]
    items = []
    for url, (link, title) in list(found.items())[:MAX_ITEMS]:
        if not title:
            continue
        date_text, summary = (
            _describe(_container(link, url, base), title, tz) if describe else ("", "")
        )
        published = parse_portal_datetime(date_text, tz=tz) if date_text else None
        items.append(ListingItem(url=url, title=title, published=published, summary=summary))
    return items


def _default_links(doc: LexborHTMLParser, base: str) -> list[LexborNode]:
    root = doc.body or doc.root
    if root is None:
        return []
    links = [a for a in root.css("a[href]") if not _CHROME.search(_hint(a))]
    articles = [a for a in links if _ARTICLE_URL.search(a.attributes.get("href") or "")]
    if articles:
        return articles
    # No DNN-style URLs: take the largest group of long-titled links sharing a parent shape.
    host = urlsplit(base).hostname
    groups: dict[str, list[LexborNode]] = {}
    for link in links:
        url = absolute(base, link.attributes.get("href") or "")
        if url is None or urlsplit(url).hostname != host or len(_text(link)) < MIN_LINK_TITLE:
            continue
        shape, node = [], link.parent
        for _ in range(3):
            if node is None:
                break
            shape.append(f"{node.tag}.{node.attributes.get('class') or ''}")
            node = node.parent
        groups.setdefault("/".join(shape), []).append(link)
    return max(groups.values(), key=len) if groups else []


def _selected_items(
    doc: LexborHTMLParser, sel: Selectors, base: str, tz: ZoneInfo
) -> list[ListingItem]:
    if not sel.item:
        return _items_from_links(_css(doc, sel.link or "a[href]"), base, tz)
    items = []
    for node in _css(doc, sel.item)[:MAX_ITEMS]:
        links = _css(node, sel.link or "a[href]")
        link = links[0] if links else None
        url = absolute(base, (link.attributes.get("href") if link is not None else None) or "")
        if url is None:
            continue
        title = _text(_css(node, sel.title)[0]) if sel.title and _css(node, sel.title) else ""
        title = title or (_link_title(link) if link is not None else "")
        date_nodes = _css(node, sel.date) if sel.date else [node]
        published = parse_portal_datetime(_text(date_nodes[0]), tz=tz) if date_nodes else None
        summary_nodes = _css(node, sel.summary) if sel.summary else []
        summary = _text(summary_nodes[0])[:MAX_SUMMARY] if summary_nodes else ""
        if title:
            items.append(ListingItem(url=url, title=title, published=published, summary=summary))
    return items


def _next_page(doc: LexborHTMLParser, base: str, page_url: str) -> str | None:
    candidates: list[str | None] = []
    for node in doc.css('link[rel="next"], a[rel="next"]'):
        candidates.append(absolute(base, node.attributes.get("href") or ""))
    anchors = doc.css("a[href]")
    for a in anchors:
        if fold(_text(a)) in _NEXT_TEXTS or fold(a.attributes.get("title") or "") in _NEXT_TEXTS:
            candidates.append(absolute(base, a.attributes.get("href") or ""))
    query = dict(parse_qsl(urlsplit(page_url).query.lower()))
    current = next((query[p] for p in _PAGE_PARAMS if query.get(p, "").isdigit()), "1")
    wanted = str(int(current) + 1)
    candidates.extend(
        absolute(base, a.attributes.get("href") or "") for a in anchors if _text(a) == wanted
    )
    return next((url for url in candidates if url and url != page_url.split("#")[0]), None)


def parse_listing(
    html: str | bytes, *, base_url: str, selectors: Selectors | None = None, tz: ZoneInfo
) -> Listing:
    """Article links of a listing page (DNN newsid links by default) and its next page."""
    sel = selectors or Selectors()
    doc = load_document(html)
    base = base_href(doc, base_url)
    if sel.item or sel.link:
        items = _selected_items(doc, sel, base, tz)
    else:
        items = _items_from_links(_default_links(doc, base), base, tz)
    return Listing(items=items, next_page=_next_page(doc, base, base_url))
