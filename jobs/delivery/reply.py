"""Channel-neutral reply model: command logic returns these; each channel formats them."""

from __future__ import annotations

from dataclasses import dataclass, field

# Button data is at most this many bytes: the strictest platform's limit (Telegram's).
MAX_CALLBACK_BYTES = 64


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units (characters outside the BMP count twice), the measure
    Telegram's limits use; never less than the number of characters."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


@dataclass(frozen=True)
class Text:
    """A run of plain text (never markup: formatters escape it)."""

    text: str
    bold: bool = False
    italic: bool = False


@dataclass(frozen=True)
class Link:
    """Text that links to an http(s) URL."""

    text: str
    url: str


Inline = Text | Link


@dataclass(frozen=True)
class Button:
    """An inline button: callback `data` (at most 64 bytes) or an external `url`."""

    text: str
    data: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class Reply:
    """A message: lines of inline runs, optional button rows, link previews off by default."""

    lines: list[list[Inline]] = field(default_factory=list)
    buttons: list[list[Button]] = field(default_factory=list)
    preview: bool = False

    @classmethod
    def plain(cls, *lines: str) -> Reply:
        """A reply of plain text lines."""
        return cls(lines=[[Text(line)] for line in lines])
