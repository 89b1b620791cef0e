"""Commands typed as Vietnamese words, without a slash ("tìm quy chế dân chủ" is /search).

Zalo users rarely type "/"; Telegram understands the same words. Matching ignores case and
diacritics ("tim quy che" works too); the words after the phrase are the arguments.
"""

from __future__ import annotations

from storage.text import fold

# (folded leading words, command, needs arguments); longest phrases first.
PHRASES: list[tuple[tuple[str, ...], str, bool]] = [
    (("huy", "theo", "doi"), "unsubscribe", False),
    (("bo", "theo", "doi"), "unsubscribe", False),
    (("danh", "sach", "theo", "doi"), "subscriptions", False),
    (("xem", "tin", "ngay"), "date", True),
    (("tim", "kiem"), "search", True),
    (("theo", "doi"), "subscribe", False),
    (("tin", "moi"), "latest", False),
    (("tro", "giup"), "help", False),
    (("huong", "dan"), "help", False),
    (("bat", "dau"), "start", False),
    (("ngay",), "date", True),
    (("tim",), "search", True),
]
# Whole messages that are a day on their own: "hôm nay" is /date hôm nay.
DAY_WORDS = {("hom", "nay"), ("hom", "qua"), ("tuan", "nay")}
MAX_PHRASE_WORDS = 4


def as_command(text: str) -> str | None:
    """The slash command the words stand for ("/search quy chế dân chủ"), or None."""
    words = text.split()
    if not words or words[0].startswith("/"):
        return None
    folded = tuple(fold(w).strip(".,!?:") for w in words[: MAX_PHRASE_WORDS + 1])
    if folded in DAY_WORDS:
        return f"/date {' '.join(words)}"
    for phrase, command, needs_args in PHRASES:
        if folded[: len(phrase)] != phrase:
            continue
        args = " ".join(words[len(phrase) :])
        if needs_args and not args:
            return None  # "tìm" alone is just a word to search for
        if command == "date" and not args[:1].isdigit():
            return None  # "ngày hội ..." is a search, "ngày 16/12/2011" a day
        if command == "latest" and args and not args.isdecimal():
            return None  # "tin mới về ..." is a search
        return f"/{command} {args}".rstrip()
    return None
