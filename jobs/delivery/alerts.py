"""Alert and digest messages as channel-neutral replies (pure: plain values in, Reply out)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from jobs.delivery.reply import MAX_CALLBACK_BYTES, Button, Inline, Link, Reply, Text, utf16_len
from storage.datequery import fmt

SNIPPET_CHARS = 280
# Titles are capped so an alert is always one message and a digest line stays a line.
TITLE_CHARS = 500
DIGEST_TITLE_CHARS = 300
# Room left under the limit for the digest header and counting slack.
DIGEST_PART_LIMIT = 3900
UNSUB_PREFIX = "unsub:"  # bot.commands.prefs.unsubscribe_button answers these buttons
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")

# The words of alerts and digests, for one chat's language; the messages module supplies
# them (bot.i18n.alert_words): keys topic, every, unsub, digest ({day}, {n}), cont ({day},
# {part}, {parts}).
Words = Mapping[str, str]
WordsFor = Callable[[str | None], Words]


@dataclass(frozen=True)
class AlertArticle:
    """What an alert shows of an article."""

    title: str
    url: str
    published_at: datetime | None
    local_date: date | None
    summary: str
    body: str


def day_label(article: AlertArticle, tz: ZoneInfo) -> str:
    """The article's date as dd/mm/yyyy in the portal's zone ("" when unknown)."""
    if article.published_at is not None:
        return fmt(article.published_at.astimezone(tz).date())
    if article.local_date is not None:
        return fmt(article.local_date)
    return ""


def first_sentences(text: str, limit: int = SNIPPET_CHARS) -> str:
    """Whole leading sentences up to `limit` characters, else a cut at a word with "…"."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    taken = ""
    for sentence in _SENTENCE_END.split(text):
        candidate = f"{taken} {sentence}".strip()
        if len(candidate) > limit:
            break
        taken = candidate
    if taken:
        return taken
    cut = text[:limit].rsplit(" ", 1)[0]
    return f"{cut}…"


def _cap(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _link(title: str, url: str) -> Inline:
    """A link when the URL is http(s) (Telegram accepts no other), else plain bold text."""
    if url.startswith(("http://", "https://")):
        return Link(title, url)
    return Text(title, bold=True)


def unsubscribe_data(subscription_id: int) -> str:
    """Callback data of the unsubscribe button (well under Telegram's 64 bytes)."""
    data = f"{UNSUB_PREFIX}{subscription_id}"
    assert len(data.encode()) <= MAX_CALLBACK_BYTES
    return data


def alert_reply(
    article: AlertArticle,
    *,
    topic: str,
    subscription_id: int | None,
    tz: ZoneInfo,
    words: Words,
) -> Reply:
    """One alert: the matched topic, the linked title, the date, first sentences, a button."""
    lines: list[list[Inline]] = [
        [Text("🔔 " + words["topic"]), Text(topic or words["every"], bold=True)],
        [_link(_cap(article.title, TITLE_CHARS), article.url)],
    ]
    day = day_label(article, tz)
    if day:
        lines.append([Text(day, italic=True)])
    snippet = first_sentences(article.summary or article.body)
    if snippet:
        lines.append([Text(snippet)])
    buttons: list[list[Button]] = []
    if subscription_id is not None:
        buttons.append([Button(words["unsub"], data=unsubscribe_data(subscription_id))])
    return Reply(lines=lines, buttons=buttons)


def visible_length(line: list[Inline]) -> int:
    """Characters a line shows, counted as Telegram does (UTF-16 code units): never fewer
    than the characters another platform counts."""
    return sum(utf16_len(run.text) for run in line)


def _digest_line(article: AlertArticle, topic: str, tz: ZoneInfo) -> list[Inline]:
    line: list[Inline] = [Text("• "), _link(_cap(article.title, DIGEST_TITLE_CHARS), article.url)]
    day = day_label(article, tz)
    suffix = f" ({day})" if day else ""
    if topic:
        suffix += f" [{topic}]"
    if suffix:
        line.append(Text(suffix))
    return line


def digest_replies(
    entries: list[tuple[int, AlertArticle, str]],
    *,
    day: str,
    tz: ZoneInfo,
    words: Words,
    limit: int = DIGEST_PART_LIMIT,
) -> list[tuple[Reply, list[int]]]:
    """The daily digest as one message, or several when it exceeds `limit`; with row ids each.

    `entries` are (delivery id, article, matched topic), oldest first.
    """
    parts: list[tuple[list[list[Inline]], list[int]]] = []
    lines: list[list[Inline]] = []
    ids: list[int] = []
    size = 0
    for delivery_id, article, topic in entries:
        line = _digest_line(article, topic, tz)
        cost = visible_length(line) + 1
        if lines and size + cost > limit:
            parts.append((lines, ids))
            lines, ids, size = [], [], 0
        lines.append(line)
        ids.append(delivery_id)
        size += cost
    if lines:
        parts.append((lines, ids))
    total = sum(len(part_ids) for _lines, part_ids in parts)
    replies = []
    for number, (part_lines, part_ids) in enumerate(parts, start=1):
        if number == 1:
            header = words["digest"].format(day=day, n=total)
        else:
            header = words["cont"].format(day=day, part=number, parts=len(parts))
        replies.append((Reply(lines=[[Text(header, bold=True)], *part_lines]), part_ids))
    return replies
