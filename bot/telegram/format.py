"""Reply -> Telegram HTML messages: every text escaped, http(s) links only, 4096 limit kept."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from jobs.delivery.reply import MAX_CALLBACK_BYTES, Button, Inline, Link, Reply, utf16_len

# Telegram's limit is on the text after entity parsing, i.e. what the reader sees; counted
# in UTF-16 code units here, which is never less than the number of characters.
MAX_MESSAGE_CHARS = 4096


@dataclass(frozen=True)
class TgMessage:
    """One sendMessage worth: HTML text, optional keyboard, link previews on or off."""

    text: str
    reply_markup: InlineKeyboardMarkup | None = None
    preview: bool = False


def escape(text: str) -> str:
    """HTML-escape for Telegram: & first, then < and >."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _escape_attr(text: str) -> str:
    return escape(text).replace('"', "&quot;")


def is_web_url(url: str) -> bool:
    """True for http:// and https:// URLs (the only links Telegram should get from us)."""
    head = url.strip()[:8].lower()
    return head.startswith(("http://", "https://")) and len(url.strip()) > len("https://")


Wrap = Callable[[str], str]


def _plain(s: str) -> str:
    return escape(s)


def _wrapper(run: Inline) -> Wrap:
    if isinstance(run, Link):
        if not is_web_url(run.url):
            return _plain
        href = _escape_attr(run.url.strip())
        return lambda s: f'<a href="{href}">{escape(s)}</a>'
    if run.bold and run.italic:
        return lambda s: f"<b><i>{escape(s)}</i></b>"
    if run.bold:
        return lambda s: f"<b>{escape(s)}</b>"
    if run.italic:
        return lambda s: f"<i>{escape(s)}</i>"
    return _plain


# A line is a list of (visible text, wrapper) segments.
Segment = tuple[str, Wrap]


def _line_segments(line: list[Inline]) -> list[Segment]:
    return [(run.text, _wrapper(run)) for run in line if run.text]


def _seg_len(segments: list[Segment]) -> int:
    return sum(utf16_len(text) for text, _ in segments)


def _take(text: str, budget: int) -> tuple[str, str]:
    """The longest head of `text` within `budget` UTF-16 units, cut at a space if one is near."""
    used, cut = 0, 0
    for i, ch in enumerate(text):
        size = 2 if ord(ch) > 0xFFFF else 1
        if used + size > budget:
            break
        used += size
        cut = i + 1
    if cut >= len(text):
        return text, ""
    space = text.rfind(" ", 0, cut)
    if space > cut // 2:
        cut = space + 1
    return text[:cut], text[cut:]


def _split_line(segments: list[Segment], limit: int) -> list[list[Segment]]:
    """Cut one over-long line into pieces of at most `limit` visible units."""
    pieces: list[list[Segment]] = [[]]
    room = limit
    queue = list(segments)
    while queue:
        text, wrap = queue.pop(0)
        if utf16_len(text) <= room:
            pieces[-1].append((text, wrap))
            room -= utf16_len(text)
            continue
        head, tail = _take(text, room)
        if head:
            pieces[-1].append((head, wrap))
        queue.insert(0, (tail, wrap))
        pieces.append([])
        room = limit
    return [p for p in pieces if p]


def _render(lines: list[list[Segment]]) -> str:
    return "\n".join("".join(wrap(text) for text, wrap in line) for line in lines)


def _visible(lines: list[list[Segment]]) -> bool:
    return any(text.strip() for line in lines for text, _ in line)


def keyboard(rows: list[list[Button]]) -> InlineKeyboardMarkup | None:
    """Inline keyboard for the buttons; callback data over 64 bytes is a programming error."""
    out: list[list[InlineKeyboardButton]] = []
    for row in rows:
        buttons: list[InlineKeyboardButton] = []
        for b in row:
            if b.data is not None:
                if not 1 <= len(b.data.encode()) <= MAX_CALLBACK_BYTES:
                    raise ValueError(f"callback data must be 1-64 bytes: {b.data!r}")
                buttons.append(InlineKeyboardButton(b.text, callback_data=b.data))
            elif b.url is not None and is_web_url(b.url):
                buttons.append(InlineKeyboardButton(b.text, url=b.url.strip()))
        if buttons:
            out.append(buttons)
    return InlineKeyboardMarkup(out) if out else None


def to_messages(reply: Reply, *, limit: int = MAX_MESSAGE_CHARS) -> list[TgMessage]:
    """The reply as messages of at most `limit` visible units; buttons go on the last one."""
    chunks: list[list[list[Segment]]] = [[]]
    size = 0
    for line in reply.lines:
        segments = _line_segments(line)
        parts = [segments] if _seg_len(segments) <= limit else _split_line(segments, limit)
        for part in parts:
            need = _seg_len(part) + (1 if chunks[-1] else 0)
            if chunks[-1] and size + need > limit:
                chunks.append([])
                size, need = 0, _seg_len(part)
            if not chunks[-1] and not part:
                continue  # a blank line never starts a message
            chunks[-1].append(part)
            size += need
    bodies = [lines for lines in chunks if _visible(lines)]
    if not bodies:
        return []
    texts = [_render(_trim(lines)) for lines in bodies]
    markup = keyboard(reply.buttons)
    return [
        TgMessage(text, markup if i == len(texts) - 1 else None, reply.preview)
        for i, text in enumerate(texts)
    ]


def _trim(lines: list[list[Segment]]) -> list[list[Segment]]:
    while lines and not lines[-1]:
        lines = lines[:-1]
    return lines
