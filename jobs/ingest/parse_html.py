"""Article pages of DNN-like portals: title, date line, clean body paragraphs, attachments."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from selectolax.lexbor import LexborHTMLParser, LexborNode, SelectolaxError

from jobs.ingest.dates import DateOrder, date_in_url, numeric_date_parts, parse_portal_datetime
from jobs.ingest.errors import LayoutNotRecognised, ParseError
from jobs.ingest.html_blocks import (
    Block,
    absolute,
    base_href,
    blocks_of,
    is_attachment,
    load_document,
)
from jobs.ingest.html_listing import parse_listing
from jobs.ingest.items import ParsedArticle
from jobs.ingest.sources import Selectors
from storage.text import fold, normalize

__all__ = ["parse_article", "parse_listing"]

MIN_PARAGRAPH = 25  # shorter blocks are labels, buttons, captions
MAX_TITLE = 500
MAX_DATE_LINE = 120
MAX_MARKER = 60  # "Các tin khác" and friends are short headings
MAX_CHROME_LINE = 150  # longer lines are article text even if they start like chrome
_DATE_WORDS = re.compile(
    r"^\W*(?:ngay\s*)?(?:cap nhat|dang|dang ngay|dang luc|ngay dang|xuat ban|thoi gian|ngay"
    r"|posted|updated|published|date)\b[^0-9]{0,20}\d"
)
# Headings of the trailing blocks that end an article ("Các tin khác", the date picker...).
_STOP = re.compile(
    r"^\W*(?:cac tin khac|tin khac|xem tin theo ngay|tin lien quan|cac tin lien quan"
    r"|cac tin da dua|cac tin cu hon|tin cung chuyen muc|y kien ban doc|gui y kien|binh luan)\b"
)
# Chrome lines dropped wherever they appear (folded text).
_CHROME_LINE = re.compile(
    r"^\W*(?:tim kiem|dang nhap|nguoi dung\s*:|mat khau\s*:|thong ke truy cap|tong (?:so )?"
    r"(?:luot )?truy ca?p|truy ca?p hien tai|dang truy cap|luot truy cap|so luot truy cap"
    r"|dang online|ban in|in bai|in trang|gui email|gui bai|chia se|ve dau trang|quay lai|tro ve"
    r"|nguon\s*:)"
)
_SUMMARY_HINT = re.compile(r"sapo|summary|tomtat|mota|lead|desc|intro", re.IGNORECASE)
# Image captions: <figcaption>, or a short block whose element (or a close ancestor) is named
# like one (PhotoCMS_Caption, image_desc, chu-thich, <table class="image">...).
_CAPTION_NAME = re.compile(r"caption|chu-?thich|image|img|photo|picture|figure", re.IGNORECASE)
MAX_CAPTION = 300
CAPTION_LEVELS = 3


def _is_caption(block: Block) -> bool:
    if block.text_chars > MAX_CAPTION:
        return False
    node: LexborNode | None = block.node
    for _level in range(CAPTION_LEVELS):
        if node is None or node.tag in ("body", "article", "main"):
            return False
        if node.tag in ("figcaption", "figure"):
            return True
        attrs = node.attributes
        names = " ".join(v for k, v in attrs.items() if k in ("id", "class") and v)
        if names and _CAPTION_NAME.search(names):
            return True
        node = node.parent
    return False


def _date_line(block: Block, tz: ZoneInfo, order: DateOrder | None) -> datetime | None:
    for line in block.lines:
        if len(line) <= MAX_DATE_LINE and _DATE_WORDS.search(fold(line)):
            found = parse_portal_datetime(line, tz=tz, order=order)
            if found is not None:
                return found
    return None


def _pure_date(block: Block, tz: ZoneInfo, order: DateOrder | None) -> datetime | None:
    text = block.text
    if len(text) > 60 or sum(ch.isdigit() for ch in text) < 6:
        return None
    return parse_portal_datetime(text, tz=tz, order=order)


def _body_container(blocks: list[Block]) -> int | None:
    """mem_id of the element holding most paragraph text (own, parent, half to grandparent)."""
    scores: dict[int, float] = {}
    depth: dict[int, int] = {}
    for block in blocks:
        if block.chrome or block.text_chars < MIN_PARAGRAPH or block.link_density > 0.5:
            continue
        for back, weight in ((1, 1.0), (2, 1.0), (3, 0.5)):
            if len(block.path) >= back:
                key = block.path[-back]
                scores[key] = scores.get(key, 0.0) + weight * block.text_chars
                depth[key] = len(block.path) - back
    if not scores:
        return None
    return max(scores, key=lambda key: (scores[key], depth[key]))


def _title_index(blocks: list[Block], date_at: int | None) -> int | None:
    usable = [
        i
        for i, b in enumerate(blocks)
        if not b.chrome and 10 <= b.text_chars <= MAX_TITLE and b.link_density <= 0.5
    ]
    h1s = [i for i in usable if blocks[i].heading == 1]
    if date_at is None:
        return h1s[0] if h1s else None
    near = [i for i in h1s if abs(i - date_at) <= 3]
    if near:
        return near[0]
    before = [i for i in usable if i < date_at]
    return before[-1] if before else None


def _bare_date(
    blocks: list[Block], container: int, tz: ZoneInfo, order: DateOrder | None
) -> tuple[int | None, datetime | None]:
    """A date alone on its line ("16/12/2011 08:30") just before or at the body's start."""
    first = next((i for i, b in enumerate(blocks) if container in b.path), None)
    if first is None:
        return None, None
    for i in range(max(0, first - 3), min(len(blocks), first + 2)):
        if not blocks[i].chrome and (found := _pure_date(blocks[i], tz, order)) is not None:
            return i, found
    return None, None


def _title_beside_date(block: Block, tz: ZoneInfo, order: DateOrder | None) -> str | None:
    """The line just above the date line when both share one block (title<br>date)."""
    for i, line in enumerate(block.lines[1:], start=1):
        if len(line) <= MAX_DATE_LINE and _DATE_WORDS.search(fold(line)):
            above = block.lines[i - 1]
            if parse_portal_datetime(line, tz=tz, order=order) and 10 <= len(above) <= MAX_TITLE:
                return above
    return None


def _located_text(block: Block, tz: ZoneInfo) -> str:
    """The date line of a block found by _date_line or _pure_date, as printed."""
    for line in block.lines:
        dated = len(line) <= MAX_DATE_LINE and _DATE_WORDS.search(fold(line))
        if dated and parse_portal_datetime(line, tz=tz) is not None:
            return line
    return block.text[:MAX_DATE_LINE]


def _find_date(
    blocks: list[Block], tz: ZoneInfo, order: DateOrder | None
) -> tuple[int | None, datetime | None]:
    for i, block in enumerate(blocks):
        if not block.chrome and (found := _date_line(block, tz, order)) is not None:
            return i, found
    return None, None


def _paragraphs(blocks: list[Block], base: str) -> tuple[list[str], list[tuple[str, str]]]:
    lines: list[str] = []
    files: list[tuple[str, str]] = []
    for block in blocks:
        docs = [(text, url) for text, href in block.links if (url := absolute(base, href))]
        docs = [(text, url) for text, url in docs if is_attachment(url)]
        if block.chrome or (block.link_density > 0.5 and not docs) or _is_caption(block):
            continue
        if block.text_chars <= MAX_MARKER and _STOP.search(fold(block.text)):
            break
        for line in block.lines:
            if not (len(line) <= MAX_CHROME_LINE and _CHROME_LINE.search(fold(line))):
                lines.append(line)
        for text, url in docs:
            name = text or url.rstrip("/").rsplit("/", 1)[-1]
            if (name, url) not in files:
                files.append((name, url))
    return lines, files


def _meta(doc: LexborHTMLParser, *names: str) -> str:
    for name in names:
        node = doc.css_first(f'meta[property="{name}"], meta[name="{name}"]')
        content = node.attributes.get("content") if node is not None else None
        if content:
            return normalize(content)
    return ""


def _first(doc: LexborHTMLParser, selector: str) -> LexborNode | None:
    try:
        return doc.css_first(selector)
    except SelectolaxError as exc:
        raise ParseError(f"invalid CSS selector {selector!r}") from exc


def _selected(doc: LexborHTMLParser, selector: str | None) -> str | None:
    if not selector:
        return None
    node = _first(doc, selector)
    if node is None:
        raise LayoutNotRecognised(f"selector {selector!r} matched nothing")
    return normalize(node.text(separator=" "))


def parse_article(
    html: str | bytes,
    *,
    url: str,
    selectors: Selectors | None = None,
    tz: ZoneInfo,
    date_order: DateOrder | None = "dmy",
) -> ParsedArticle:
    """Title, date, clean NFC body paragraphs and attachment links of one article page.

    "a/b/yyyy" dates are read in `date_order`; None leaves an ambiguous one out. Without a
    date on the page, a stamp in the URL ("...-20221224012650880.htm") is used.
    """
    # Dates are located reading "a/b/yyyy" day first; the located text is then read in the
    # order asked for (None: an ambiguous one is left out, its text kept for the caller).
    order: DateOrder = date_order or "dmy"
    sel = selectors or Selectors()
    doc = load_document(html)
    base = base_href(doc, url)
    root = doc.body or doc.root
    if root is None:
        raise LayoutNotRecognised("empty page")
    blocks = blocks_of(root)
    if not any(not b.chrome and b.text_chars >= MIN_PARAGRAPH for b in blocks):
        for block in blocks:  # a skin whose every class looks like chrome: ignore the hints
            block.chrome = False
    date_at, published = _find_date(blocks, tz, order)
    container = None if sel.article_body else _body_container(blocks)
    if date_at is None and container is not None:
        date_at, published = _bare_date(blocks, container, tz, order)
    date_text = _located_text(blocks[date_at], tz) if date_at is not None else ""
    if sel.article_date and (node := _first(doc, sel.article_date)) is not None:
        date_text = normalize(node.text(separator=" "))[:MAX_DATE_LINE]
        published = parse_portal_datetime(date_text, tz=tz, order=order)
    if date_order is None and date_text:
        published = parse_portal_datetime(date_text, tz=tz, order=None)
    title_at = _title_index(blocks, date_at)
    if sel.article_body:
        body_node = _first(doc, sel.article_body)
        if body_node is None:
            raise LayoutNotRecognised(f"selector {sel.article_body!r} matched nothing")
        region, start = blocks_of(body_node), 0
    else:
        start = max(i for i in (date_at, title_at, -1) if i is not None) + 1
        region = [b for b in blocks[start:] if container is not None and container in b.path]
    title = _selected(doc, sel.article_title) if sel.article_title else None
    if title is None:
        title = blocks[title_at].text if title_at is not None else ""
        if date_at is not None and (inline := _title_beside_date(blocks[date_at], tz, order)):
            title = inline
    if not title:
        page_title = doc.css_first("title")
        title = _meta(doc, "og:title") or (normalize(page_title.text()) if page_title else "")
    lines, files = _paragraphs(region, base)
    if lines and lines[0] == title:  # some skins repeat the title atop the body
        lines = lines[1:]
    if not title:
        raise LayoutNotRecognised("no article title found")
    if not lines and not files:
        raise LayoutNotRecognised("no article body found")
    summary = ""
    if not sel.article_body and region:  # a lead ("sapo") between the date line and the body
        first = next(i for i, block in enumerate(blocks) if block is region[0])
        for block in blocks[start:first]:
            if _SUMMARY_HINT.search(block.hint) and not block.chrome and block.text_chars >= 20:
                summary = block.text
    if published is None:
        stamp = _meta(doc, "article:published_time", "og:published_time", "pubdate", "date")
        if not date_text and stamp:
            date_text = stamp[:MAX_DATE_LINE]
            published = parse_portal_datetime(stamp, tz=tz, order=date_order)
    if published is None and not (date_text and numeric_date_parts(date_text)):
        published = date_in_url(url, tz=tz)  # no date shown: the URL's stamp
    return ParsedArticle(
        url=url,
        title=title[: MAX_TITLE * 2],
        published=published,
        date_text=date_text,
        body="\n\n".join(lines),
        summary=summary,
        attachments=tuple(files),
    )
