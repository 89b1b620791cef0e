"""Search snippets in the original spelling, matched words wrapped in « and ».

Matching happens on folded text; the snippet must show the words as the portal wrote them
("Quy chế dân chủ", not "quy che dan chu"). Folding one NFC character gives zero or more
characters, so folding character by character keeps a map from each folded position back to
its original character.

Marker contract (for the chat formatters): the snippet is plain text; each matched word is
wrapped in MARK_OPEN / MARK_CLOSE. The original text's own « and » are replaced by plain
double quotes first, so every marker in the output is ours and they always pair up. A
formatter escapes the snippet, then turns the markers into <b> and </b>.
"""

from __future__ import annotations

from itertools import islice

from storage.query import TOKEN
from storage.text import fold, normalize

MARK_OPEN = "«"
MARK_CLOSE = "»"
ELLIPSIS = "…"
WORDS_BEFORE = 10
WORDS_TOTAL = 30
SCAN_CHARS = 20_000  # a match further into a long body is not looked for


class _FoldTable(dict[int, str]):
    """Memo of fold() per code point, for str.translate (looked up from C); `irregular` holds
    the characters that do not fold to exactly one."""

    def __init__(self) -> None:
        super().__init__()
        self.irregular: set[str] = set()

    def __missing__(self, code: int) -> str:
        ch = chr(code)
        self[code] = piece = fold(ch)
        if len(piece) != 1:
            self.irregular.add(ch)
        return piece


_TABLE = _FoldTable()


def folded_with_map(text: str) -> tuple[str, list[int]]:
    """Fold `text` (already NFC) and map each folded character to its source index."""
    folded = text.translate(_TABLE)
    if _TABLE.irregular.isdisjoint(text):  # the usual case: one for one
        return folded, list(range(len(text)))
    index: list[int] = []
    for i, ch in enumerate(text):
        index.extend([i] * len(_TABLE[ord(ch)]))
    return folded, index


def make_snippet(
    text: str,
    highlight: frozenset[str],
    phrase: tuple[str, ...] = (),
    *,
    total: int = WORDS_TOTAL,
    stored: bool = False,
) -> str:
    """About `total` words of `text` around the first match, matches marked with « ».

    `stored`: the text is as the store keeps it (already normalized, paragraphs apart), so
    only its white space is collapsed (a tenth of normalize's cost, a search makes ten)."""
    head = text[:SCAN_CHARS]
    head = " ".join(head.split()) if stored else normalize(head)
    original = head.replace(MARK_OPEN, '"').replace(MARK_CLOSE, '"')
    folded, index = folded_with_map(original)
    tokens = TOKEN.findall(folded)  # the words alone, in C; positions only for those shown
    if not tokens:
        return ""
    hits = [i for i, tok in enumerate(tokens) if tok in highlight]
    first = _phrase_start(tokens, phrase) if phrase else None
    if first is None:
        first = hits[0] if hits else 0
    lo = max(0, first - WORDS_BEFORE)
    hi = min(len(tokens), lo + total)
    lo = max(0, hi - total)
    spans = [m.span() for m in islice(TOKEN.finditer(folded), hi)]
    marked = set(hits)
    parts: list[str] = []
    cursor = index[spans[lo][0]]
    for k in range(lo, hi):
        a, b = spans[k]
        oa, ob = index[a], index[b - 1] + 1
        if k in marked:
            parts.append(original[cursor:oa] + MARK_OPEN + original[oa:ob] + MARK_CLOSE)
            cursor = ob
    end_char = index[spans[hi - 1][1] - 1] + 1
    parts.append(original[cursor:end_char])
    prefix = ELLIPSIS if lo > 0 else ""
    suffix = ELLIPSIS if hi < len(tokens) else ""
    # Neighbouring matches read better as one marked run: «Quy chế» rather than «Quy» «chế».
    body = "".join(parts).replace(f"{MARK_CLOSE} {MARK_OPEN}", " ")
    return prefix + body + suffix


def _phrase_start(tokens: list[str], phrase: tuple[str, ...]) -> int | None:
    # Search the space-joined tokens in C, then turn the offset back into a token index.
    joined = " " + " ".join(tokens) + " "
    pos = joined.find(" " + " ".join(phrase) + " ")
    return None if pos < 0 else joined.count(" ", 0, pos)
