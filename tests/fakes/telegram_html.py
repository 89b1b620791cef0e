"""Telegram's HTML parse mode, checked the way the Bot API checks it (stricter where noted).

Like Telegram: only the documented tags, properly nested and closed; attribute values may be
quoted or not; unknown attributes are ignored; text is 1-4096 characters after parsing, with
leading and trailing whitespace trimmed. Errors read "Bad Request: can't parse entities: ...".

Stricter than Telegram (our rules from the brief, so the bot cannot rely on leniency):
- a raw "&" that does not start `&lt; &gt; &amp; &quot;` or a numeric entity is an error
  (Telegram keeps it as text), and so is any other named entity such as `&nbsp;`;
- `<a>` needs an href with an http(s) URL (tg:// only with allow_tg_links=True);
- lengths are counted in UTF-16 code units, as entity offsets are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MAX_TEXT = 4096
NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
    "tg-time": "date_time",
}
ENTITY_RE = re.compile(r"&(#[0-9]{1,8}|#[xX][0-9a-fA-F]{1,7}|[A-Za-z][A-Za-z0-9]{0,31});")
NAME_RE = re.compile(r"[^\s>/]*")
ATTR_RE = re.compile(r"\s*([^\s=>]+)(?:\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s>]*))?")
WHITESPACE = " \t\r\n"


class HtmlError(ValueError):
    """A text Telegram would refuse; str() is the Bot API description."""


@dataclass(frozen=True)
class Entity:
    """One MessageEntity; offset and length in UTF-16 code units."""

    type: str
    offset: int
    length: int
    extra: dict[str, str | int] = field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        """The MessageEntity as the Bot API returns it."""
        return {"type": self.type, "offset": self.offset, "length": self.length, **self.extra}


@dataclass(frozen=True)
class Parsed:
    """Plain text and its entities, as Telegram stores a message."""

    text: str
    entities: tuple[Entity, ...] = ()


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units (what Telegram's offsets and limits count)."""
    return len(text.encode("utf-16-le")) // 2


def _fail(reason: str) -> HtmlError:
    return HtmlError(f"Bad Request: can't parse entities: {reason}")


def _byte_offset(source: str, index: int) -> int:
    return len(source[:index].encode("utf-8"))


def _decode(source: str, start: int, end: int) -> str:
    """Text between start and end with entities decoded; a raw '&' or '<' is an error."""
    out: list[str] = []
    i = start
    while i < end:
        ch = source[i]
        if ch == "<":
            raise _fail(f'Unsupported start tag "" at byte offset {_byte_offset(source, i)}')
        if ch != "&":
            out.append(ch)
            i += 1
            continue
        m = ENTITY_RE.match(source, i, end)
        if not m:
            raise _fail(
                f'Character "&" at byte offset {_byte_offset(source, i)} must be escaped as "&amp;"'
            )
        name = m.group(1)
        if name.startswith("#"):
            code = int(name[2:], 16) if name[1] in "xX" else int(name[1:])
            if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
                raise _fail(f"Invalid character entity at byte offset {_byte_offset(source, i)}")
            out.append(chr(code))
        elif name in NAMED:
            out.append(NAMED[name])
        else:
            raise _fail(
                f'Unsupported HTML entity "&{name};" at byte offset {_byte_offset(source, i)}'
            )
        i = m.end()
    return "".join(out)


def _attributes(source: str, start: int, end: int) -> dict[str, str]:
    attrs: dict[str, str] = {}
    i = start
    while i < end:
        m = ATTR_RE.match(source, i, end)
        if not m or m.end() == i:
            break
        raw = m.group(2) or ""
        if raw[:1] in {'"', "'"}:
            attrs[m.group(1).lower()] = _decode(source, m.start(2) + 1, m.end(2) - 1)
        else:
            attrs[m.group(1).lower()] = _decode(source, m.start(2), m.end(2)) if raw else ""
        i = m.end()
    return attrs


def _link_ok(url: str, allow_tg_links: bool) -> bool:
    scheme, sep, rest = url.partition(":")
    if not sep or not rest:
        return False
    schemes = {"http", "https", "tg"} if allow_tg_links else {"http", "https"}
    if scheme.lower() not in schemes:
        return False
    return scheme.lower() == "tg" or (rest.startswith("//") and len(rest) > 2 and " " not in url)


def _open_tag(
    name: str, attrs: dict[str, str], at: int, allow_tg_links: bool
) -> dict[str, str | int]:
    """Check a start tag's attributes; return the entity's extra fields."""
    if name == "span" and attrs.get("class") != "tg-spoiler":
        raise _fail('Tag "span" must have class "tg-spoiler"')
    if name == "a":
        href = attrs.get("href", "").strip()
        if not _link_ok(href, allow_tg_links):
            raise _fail(f'Unsupported URL "{href}" in tag "a" at byte offset {at}')
        return {"url": href}
    if name == "tg-emoji":
        emoji_id = attrs.get("emoji-id", "")
        if not emoji_id.isdigit():
            raise _fail(f'Tag "tg-emoji" must have attribute "emoji-id" at byte offset {at}')
        return {"custom_emoji_id": emoji_id}
    if name == "tg-time":
        unix = attrs.get("unix", "")
        if not unix.isdigit():
            raise _fail(f'Tag "tg-time" must have attribute "unix" at byte offset {at}')
        extra: dict[str, str | int] = {"unix_time": int(unix)}
        if attrs.get("format"):
            extra["date_time_format"] = attrs["format"]
        return extra
    return {}


def parse_html(source: str, *, allow_tg_links: bool = False) -> Parsed:
    """Parse Telegram HTML into text and entities, or raise HtmlError like the Bot API."""
    text: list[str] = []
    pos16 = 0  # UTF-16 length of the text so far
    stack: list[tuple[str, int, dict[str, str | int], dict[str, str], int]] = []
    entities: list[tuple[int, Entity]] = []  # (order the tag opened, entity)
    opened = 0
    i = 0
    n = len(source)
    while i < n:
        lt = source.find("<", i)
        chunk = _decode(source, i, n if lt < 0 else lt)
        text.append(chunk)
        pos16 += utf16_len(chunk)
        if lt < 0:
            break
        at = _byte_offset(source, lt)
        gt = source.find(">", lt)
        if source.startswith("</", lt):
            if gt < 0:
                raise _fail(f"Unclosed end tag at byte offset {at}")
            name = source[lt + 2 : gt].strip().lower()
            if not stack:
                raise _fail(f"Unexpected end tag at byte offset {at}")
            open_name, start16, extra, attrs, seq = stack.pop()
            if name != open_name:
                raise _fail(
                    f'Unmatched end tag at byte offset {at}, expected "</{open_name}>", '
                    f'found "</{name}>"'
                )
            kind = TAGS[open_name]
            if open_name == "blockquote" and "expandable" in attrs:
                kind = "expandable_blockquote"
            inside_pre = open_name == "code" and stack and stack[-1][0] == "pre"
            if inside_pre:  # Telegram folds <pre><code class="language-x"> into one pre entity
                lang = attrs.get("class", "")
                if lang.startswith("language-") and len(lang) > len("language-"):
                    stack[-1][2]["language"] = lang[len("language-") :]
            elif pos16 > start16:
                entities.append((seq, Entity(kind, start16, pos16 - start16, extra)))
            i = gt + 1
            continue
        m = NAME_RE.match(source, lt + 1)
        name = m.group(0).lower() if m else ""
        if name not in TAGS:
            raise _fail(f'Unsupported start tag "{name}" at byte offset {at}')
        if gt < 0:
            raise _fail(f"Unclosed start tag at byte offset {at}")
        attrs = _attributes(source, lt + 1 + len(name), gt)
        stack.append((name, pos16, _open_tag(name, attrs, at, allow_tg_links), attrs, opened))
        opened += 1
        i = gt + 1
    if stack:
        raise _fail(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    entities.sort(key=lambda pair: (pair[1].offset, -pair[1].length, pair[0]))  # outer first
    return Parsed("".join(text), tuple(e for _, e in entities))


def check_text(
    text: str,
    parse_mode: str | None,
    *,
    limit: int = MAX_TEXT,
    allow_tg_links: bool = False,
) -> Parsed:
    """A message text as Telegram would store it, or HtmlError with Telegram's description.

    Only HTML is parsed; Markdown/MarkdownV2 texts are kept as given (not checked).
    """
    mode = (parse_mode or "").strip()
    if mode.lower() == "html":
        parsed = parse_html(text, allow_tg_links=allow_tg_links)
    elif mode in {"", "Markdown", "MarkdownV2"}:
        parsed = Parsed(text)
    else:
        raise HtmlError(f"Bad Request: unsupported parse_mode {mode!r}")
    visible = parsed.text.strip(WHITESPACE)
    if not visible:
        raise HtmlError("Bad Request: message text is empty")
    if utf16_len(visible) > limit:
        raise HtmlError("Bad Request: message is too long")
    return parsed
