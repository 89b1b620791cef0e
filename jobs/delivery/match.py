"""Topic matcher: one Aho-Corasick automaton over folded topics, matched at syllable bounds."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import ahocorasick
from sqlalchemy import func
from sqlmodel import Session, select

from storage.models import Subscription
from storage.text import fold, fold_words

_NON_WORD = re.compile(r"[^\w]+")  # the same split as storage.text.fold_words
_ASCII_NON_WORD = {c: " " for c in range(128) if not re.fullmatch(r"\w", chr(c))}


@dataclass(frozen=True)
class Topic:
    """One subscription as the matcher sees it (an empty `folded` means every article)."""

    subscription_id: int
    chat_id: int
    topic: str
    folded: str
    source: str = ""  # a source's name: only its articles match; "" = every source


def article_haystack(title: str, summary: str, body: str) -> str:
    """Folded article text padded with spaces, so " dan chu " matches whole syllables only."""
    return f" {fold_words(f'{title} {summary} {body}')} "


def haystack_from_folded(title_folded: str, summary: str, body_folded: str) -> str:
    """The same haystack from the folded columns stored with each article (no re-folding)."""
    return f" {_words(f'{title_folded} {fold(summary)} {body_folded}')} "


def _words(folded: str) -> str:
    """fold_words' punctuation split for already folded text, fast when it is ASCII."""
    spaced = folded.translate(_ASCII_NON_WORD)
    if spaced.isascii():  # folded Vietnamese usually is: str.translate beats the regex 50x
        return " ".join(spaced.split())
    return _NON_WORD.sub(" ", folded).strip()


class Matcher:
    """Maps an article's folded text to, per chat, the first subscription that matches."""

    def __init__(self, topics: Iterable[Topic], generation: object = None) -> None:
        self.generation = generation
        self._every: list[Topic] = []
        by_pattern: dict[str, list[Topic]] = {}
        for topic in topics:
            words = fold_words(topic.folded)
            if not words:
                self._every.append(topic)
            else:
                by_pattern.setdefault(f" {words} ", []).append(topic)
        self.topic_count = len(self._every) + sum(len(v) for v in by_pattern.values())
        # Automaton values are small ints: hashing them per occurrence is cheap.
        self._groups: list[tuple[tuple[int, Topic], ...]] = []
        self._automaton: ahocorasick.Automaton | None = None
        if by_pattern:
            automaton = ahocorasick.Automaton()
            for pattern, group in by_pattern.items():
                automaton.add_word(pattern, len(self._groups))
                self._groups.append(tuple((t.chat_id, t) for t in group))
            automaton.make_automaton()
            self._automaton = automaton

    def match(self, haystack: str, source: str = "") -> dict[int, Topic]:
        """Per chat id, the topic found earliest in `haystack` (then "every article"); a
        topic bound to a source matches only that source's articles."""
        found: dict[int, Topic] = {}
        if self._automaton is not None:
            # A common topic occurs many times: keep each pattern once, in order of first end.
            hits = dict.fromkeys(index for _end, index in self._automaton.iter(haystack))
            groups = self._groups
            for index in hits:
                for chat_id, topic in groups[index]:
                    if chat_id not in found and (not topic.source or topic.source == source):
                        found[chat_id] = topic
        for topic in self._every:
            if topic.chat_id not in found and (not topic.source or topic.source == source):
                found[topic.chat_id] = topic
        return found

    def match_article(
        self, title: str, summary: str, body: str, source: str = ""
    ) -> dict[int, Topic]:
        """`match` over an article's title, summary and body."""
        return self.match(article_haystack(title, summary, body), source)


def plain_match(topics: Iterable[Topic], haystack: str) -> dict[int, Topic]:
    """The same answer as `Matcher.match` by a loop over topics (the benchmark's baseline)."""
    hits: list[tuple[int, int, int, Topic]] = []
    every: list[Topic] = []
    for order, topic in enumerate(topics):
        words = fold_words(topic.folded)
        if not words:
            every.append(topic)
            continue
        at = haystack.find(f" {words} ")
        if at >= 0:
            hits.append((at + len(words) + 2, -len(words), order, topic))
    found: dict[int, Topic] = {}
    for *_rank, topic in sorted(hits, key=lambda hit: hit[:3]):
        found.setdefault(topic.chat_id, topic)
    for topic in every:
        found.setdefault(topic.chat_id, topic)
    return found


def subscription_generation(session: Session) -> tuple[object, ...]:
    """A cheap fingerprint of the subscriptions table that changes on any insert or delete."""
    row = session.exec(
        select(
            func.count(Subscription.id),  # type: ignore[arg-type]
            func.max(Subscription.id),
            func.sum(Subscription.id),
            func.max(Subscription.created_at),
        )
    ).one()
    return tuple(row)


def load_topics(session: Session) -> list[Topic]:
    """Every subscription as a Topic, oldest first (so ties go to the older topic)."""
    rows = session.exec(select(Subscription).order_by(Subscription.id))  # type: ignore[arg-type]
    return [
        Topic(
            subscription_id=s.id or 0,
            chat_id=s.chat_id,
            topic=s.topic,
            folded=s.topic_folded,
            source=s.source,
        )
        for s in rows
    ]


class MatcherCache:
    """Keeps one Matcher and rebuilds it only when the subscriptions' fingerprint changes."""

    def __init__(self) -> None:
        self._matcher: Matcher | None = None
        self.builds = 0

    def get(self, session: Session) -> Matcher:
        """The current matcher, rebuilt first if subscriptions changed since the last build."""
        generation = subscription_generation(session)
        if self._matcher is None or self._matcher.generation != generation:
            self._matcher = Matcher(load_topics(session), generation)
            self.builds += 1
        return self._matcher
