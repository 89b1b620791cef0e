"""An HTML page as a flat list of text blocks (selectolax/lexbor), with hostile-page guards."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import islice
from typing import overload
from urllib.parse import urljoin, urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode, SelectolaxError

from jobs.ingest.errors import ParseError, UnsafeDocument
from storage.text import normalize, storable

# lexbor checks the open-element stack on every block start tag, so parsing N nested <div>s
# costs O(N^2) (100k levels: ~15 s): a cheap count before parsing refuses that. After
# parsing, every element counts: real pages nest a few dozen levels and hold a few thousand
# elements; CSS descendant selectors cost node count x depth, so both are capped.
MAX_BLOCK_NESTING = 2_000
MAX_DEPTH = 512  # elements of any tag, ancestors included
MAX_NODES = 60_000  # start tags before parsing, elements after
_NESTING_TAGS = (
    "address|article|aside|blockquote|center|details|dialog|dir|div|dl|fieldset|figcaption"
    "|figure|footer|header|hgroup|listing|main|menu|nav|ol|pre|search|section|summary|ul"
)
_OPEN_OR_CLOSE = re.compile(rf"<(/?)(?:{_NESTING_TAGS})\b", re.IGNORECASE)
_OPEN = re.compile(rf"<(?:{_NESTING_TAGS})\b", re.IGNORECASE)
_START_TAG = re.compile(r"<[a-zA-Z]")
_CHARSET = re.compile(rb"""charset\s*=\s*["']?([A-Za-z0-9._:-]{1,40})""", re.IGNORECASE)

BLOCK_TAGS = frozenset(
    {
        "address", "article", "aside", "blockquote", "body", "caption", "center", "dd",
        "details", "dialog", "dir", "div", "dl", "dt", "fieldset", "figcaption", "figure",
        "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hgroup", "hr", "html",
        "legend", "li", "main", "menu", "nav", "ol", "p", "pre", "section", "summary", "table",
        "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
    }
)  # fmt: skip
SKIP_TAGS = frozenset(
    {
        "script", "style", "noscript", "template", "head", "title", "select", "option",
        "optgroup", "button", "input", "textarea", "iframe", "object", "embed", "svg", "math",
        "canvas", "video", "audio", "map", "meta", "link",
    }
)  # fmt: skip
# Site chrome recognised by id/class: login and search boxes, visit counters, menus, slogans.
_CHROME_PART = re.compile(
    r"login|logon|dangnhap|search|timkiem|counter|thongke|visitor|truycap|breadcrumb|slogan"
    r"|menu|sitemap|advert|quangcao|weblink|lienket|calendar|xemtintheongay",
    re.IGNORECASE,
)
_CHROME_WORD = re.compile(r"(?:^|[\s_-])(?:nav|navbar|banner|logo|footer|toolbar)(?:$|[\s_-])")
ATTACHMENT_EXTENSIONS = (".pdf", ".doc", ".docx", ".xls", ".xlsx", ".zip", ".rar")


class BlockPath:
    """mem_ids of a block's block ancestors, its own element last.

    A linked list sharing its parent's path, so a page costs memory linear in its elements
    (a tuple per block grew with the square of the nesting depth). Supports len(), `in`
    and negative indexes and slices, which read at most the depth asked for.
    """

    __slots__ = ("_len", "last", "parent")

    def __init__(self, last: int, parent: BlockPath | None = None) -> None:
        self.last, self.parent = last, parent
        self._len = 1 + (len(parent) if parent is not None else 0)

    def __len__(self) -> int:
        return self._len

    def __contains__(self, mem_id: object) -> bool:
        node: BlockPath | None = self
        while node is not None:
            if node.last == mem_id:
                return True
            node = node.parent
        return False

    def tail(self, count: int) -> list[int]:
        """The last `count` ids, outermost first."""
        found: list[int] = []
        node: BlockPath | None = self
        while node is not None and len(found) < count:
            found.append(node.last)
            node = node.parent
        return found[::-1]

    @overload
    def __getitem__(self, index: int) -> int: ...
    @overload
    def __getitem__(self, index: slice) -> list[int]: ...
    def __getitem__(self, index: int | slice) -> int | list[int]:
        if isinstance(index, slice):
            start, stop, step = index.indices(self._len)
            return self.tail(self._len - start)[: max(0, stop - start) : step]
        if index >= 0:
            index -= self._len
        if not -self._len <= index < 0:
            raise IndexError("block path index out of range")
        return self.tail(-index)[0]


@dataclass(slots=True)
class Block:
    """Text of one block-level element (children blocks excluded), in document order."""

    lines: list[str]  # normalised, non-empty; <br> splits lines
    node: LexborNode
    path: BlockPath  # mem_ids of the block ancestors, the block's own element last
    heading: int  # 1-6 for h1-h6, else 0
    hint: str  # id/class words of the ancestors, lower-case
    chrome: bool  # inside a login box, search box, counter, menu or similar site furniture
    link_chars: int = 0
    text_chars: int = 0
    links: list[tuple[str, str]] = field(default_factory=list)  # (text, raw href)
    link_refs: list[tuple[int, str]] = field(default_factory=list)  # (mem_id of <a>, href)

    @property
    def text(self) -> str:
        """The lines joined by spaces."""
        return " ".join(self.lines)

    @property
    def link_density(self) -> float:
        """Share of the block's characters that sit inside links."""
        return self.link_chars / self.text_chars if self.text_chars else 0.0


@dataclass(slots=True)
class _Ctx:
    block: LexborNode | None
    path: BlockPath
    heading: int
    hint: str
    chrome: bool
    skip: bool
    link: int  # mem_id of the enclosing <a href>, 0 when none


def _decode(data: bytes) -> str:
    """UTF-8 (the portal's encoding, whatever the page declares) when the bytes decode, else
    the declared charset, undecodable bytes becoming U+FFFD."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    declared = _CHARSET.search(data[:4096])
    try:
        return data.decode(declared.group(1).decode() if declared else "utf-8", "replace")
    except LookupError:
        return data.decode("utf-8", "replace")


def _more_than(pattern: re.Pattern[str], text: str, limit: int) -> bool:
    """Whether pattern matches more than limit times (counted lazily, no list of matches)."""
    return next(islice(pattern.finditer(text), limit, None), None) is not None


def _refuse_before_parsing(text: str) -> None:
    """UnsafeDocument when the text nests block tags too deep or holds too many start tags."""
    if text.count("<") <= MAX_BLOCK_NESTING:
        return  # the common page: nothing to count
    if _more_than(_OPEN, text, MAX_BLOCK_NESTING):
        depth = deepest = 0
        for match in _OPEN_OR_CLOSE.finditer(text):
            depth = depth - 1 if match.group(1) else depth + 1
            deepest = max(deepest, depth)
        if deepest > MAX_BLOCK_NESTING:
            raise UnsafeDocument(f"page nests {deepest} block elements (limit {MAX_BLOCK_NESTING})")
    if _more_than(_START_TAG, text, MAX_NODES):
        raise UnsafeDocument(f"page has more than {MAX_NODES} elements")


def _refuse_parsed(doc: LexborHTMLParser) -> None:
    """UnsafeDocument when the parsed tree nests any elements deeper than MAX_DEPTH."""
    if doc.root is None:
        return
    depth_of: dict[int, int] = {}
    count = 0
    for node in doc.root.traverse():
        parent = node.parent
        depth = depth_of.get(parent.mem_id, 0) + 1 if parent is not None else 1
        if depth > MAX_DEPTH:
            raise UnsafeDocument(f"page nests elements deeper than {MAX_DEPTH} levels")
        depth_of[node.mem_id] = depth
        count += 1
    if count > MAX_NODES * 2:  # implied elements (tbody, tr) can double the start tags
        raise UnsafeDocument(f"page has {count} elements (limit {MAX_NODES * 2})")


def load_document(data: str | bytes) -> LexborHTMLParser:
    """Parses a page between the nesting and size guards; UnsafeDocument when pathological.

    The guards run on exactly the text the parser receives: NUL characters, which the parser
    would drop, are removed first, so they cannot hide tags from the count.
    """
    text = (_decode(data) if isinstance(data, bytes) else data).replace("\x00", "")
    _refuse_before_parsing(text)
    try:
        doc = LexborHTMLParser(text)
    except (SelectolaxError, ValueError, RuntimeError, LookupError) as exc:
        raise ParseError(f"HTML could not be parsed: {exc}") from exc
    _refuse_parsed(doc)
    return doc


def base_href(doc: LexborHTMLParser, url: str) -> str:
    """The page's <base href> resolved against its URL, else the URL."""
    base = doc.css_first("base[href]")
    href = base.attributes.get("href") if base is not None else None
    return urljoin(url, href.strip()) if href else url


def absolute(base: str, href: str) -> str | None:
    """href made absolute; None for javascript:, mailto:, other non-http and broken links."""
    try:
        joined = urljoin(base, storable(href).strip())
        scheme = urlsplit(joined).scheme
    except ValueError:  # "http://[not-an-address/": urlsplit refuses it
        return None
    return joined.split("#", 1)[0] if scheme in ("http", "https") else None


def is_attachment(url: str) -> bool:
    """A document link (PDF, Word, Excel, archives, DNN LinkClick file tickets)."""
    path = urlsplit(url).path.lower()
    return path.endswith(ATTACHMENT_EXTENSIONS) or path.endswith("/linkclick.aspx")


def blocks_of(root: LexborNode) -> list[Block]:
    """The text blocks under root, in document order (one pass, no recursion)."""
    blocks: list[Block] = []
    ctxs: dict[int, _Ctx] = {}
    # The traversal root counts as a block, so a selector may pick an inline element.
    root_ctx = _Ctx(root, BlockPath(root.mem_id), 0, "", False, False, 0)
    link_text: dict[int, list[str]] = {}
    current: Block | None = None
    parts: list[str] = []

    def flush() -> None:
        nonlocal current, parts
        if current is not None:
            lines = [line for line in (normalize(x) for x in "".join(parts).split("\n")) if line]
            if lines or current.link_refs:
                current.lines = lines
                current.text_chars = sum(len(line) for line in lines)
                current.links = [
                    (normalize("".join(link_text.get(ref, ()))), href)
                    for ref, href in current.link_refs
                ]
                blocks.append(current)
        current, parts = None, []

    for node in root.traverse(include_text=True):
        parent = node.parent
        ctx = ctxs.get(parent.mem_id, root_ctx) if parent is not None else root_ctx
        tag = node.tag
        if tag == "-text":
            if ctx.skip or ctx.block is None:
                continue
            text = node.text_content or ""
            if text.isspace():  # indentation between tags: one space, no block bookkeeping
                if current is not None and current.node.mem_id == ctx.block.mem_id:
                    parts.append(" ")
                continue
            text = text.replace("\n", " ").replace("\r", " ")
            if current is None or current.node.mem_id != ctx.block.mem_id:
                flush()
                current = Block([], ctx.block, ctx.path, ctx.heading, ctx.hint, ctx.chrome)
            parts.append(text)
            if ctx.link:
                current.link_chars += len(text.strip())
                link_text.setdefault(ctx.link, []).append(text)
            continue
        if tag is None or tag.startswith("-"):
            continue
        if ctx.skip or tag in SKIP_TAGS:
            ctxs[node.mem_id] = _Ctx(ctx.block, ctx.path, 0, ctx.hint, True, True, 0)
            continue
        attrs = node.attributes
        own = " ".join(v for k, v in attrs.items() if k in ("id", "class") and v).lower()
        hint = f"{ctx.hint} {own}"[-300:] if own else ctx.hint
        # Checked once per element on its own words; descendants inherit the verdict.
        chrome = ctx.chrome or bool(own and (_CHROME_PART.search(own) or _CHROME_WORD.search(own)))
        if tag in BLOCK_TAGS:
            flush()
            heading = int(tag[1]) if tag[0] == "h" and tag[1:].isdigit() else 0
            path = BlockPath(node.mem_id, ctx.path)
            ctxs[node.mem_id] = _Ctx(node, path, heading, hint, chrome, False, 0)
            continue
        link = ctx.link
        if tag == "a" and attrs.get("href"):
            link = node.mem_id
            if current is None or ctx.block is None or current.node.mem_id != ctx.block.mem_id:
                flush()
                if ctx.block is not None:
                    current = Block([], ctx.block, ctx.path, ctx.heading, ctx.hint, ctx.chrome)
            if current is not None:
                current.link_refs.append((link, attrs.get("href") or ""))
        elif tag == "br" and current is not None:
            parts.append("\n")
        ctxs[node.mem_id] = _Ctx(ctx.block, ctx.path, ctx.heading, hint, chrome, False, link)
    flush()
    return blocks
