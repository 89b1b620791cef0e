"""Channel-neutral reply model: command logic returns these; each channel formats them."""

from __future__ import annotations

from dataclasses import dataclass, field


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
