"""Split long text for Zalo (2,000 characters a message) on line, then sentence, then word
boundaries, never inside a word or a link."""

from __future__ import annotations

import re

ZALO_MAX_TEXT = 2000
_SENTENCE_END = re.compile(r"(?<=[.!?…;])\s+")


def _pieces(text: str, limit: int) -> list[tuple[str, str]]:
    """(separator before, unit) where each unit fits: a line, else its sentences, else its
    words; a lone word longer than the limit is the only thing ever cut."""
    out: list[tuple[str, str]] = []
    for line in text.split("\n"):
        if len(line) <= limit:
            out.append(("\n", line))
            continue
        sep = "\n"
        for sentence in _SENTENCE_END.split(line):
            if len(sentence) <= limit:
                out.append((sep, sentence))
                sep = " "
                continue
            for word in sentence.split(" "):
                while len(word) > limit:  # no boundary at all: nothing else can be done
                    out.append((sep, word[:limit]))
                    word, sep = word[limit:], ""
                out.append((sep, word))
                sep = " "
    return out


def split_text(text: str, limit: int = ZALO_MAX_TEXT) -> list[str]:
    """Messages of at most `limit` characters that together say `text`."""
    text = text.strip()
    if len(text) <= limit:
        return [text] if text else []
    parts: list[str] = []
    current = ""
    for sep, piece in _pieces(text, limit):
        candidate = f"{current}{sep}{piece}" if current else piece
        if len(candidate) <= limit:
            current = candidate
            continue
        if current.strip():
            parts.append(current.strip())
        current = piece
    if current.strip():
        parts.append(current.strip())
    return parts
