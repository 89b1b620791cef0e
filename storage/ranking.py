"""Relevance with a recency boost, computed in Python over a bounded window of matches.

Pure logic on plain values, so SQLite and PostgreSQL rank identically.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime

from storage.query import Query, Term

TITLE_WEIGHT = 3.0
RECENCY_WEIGHT = 2.0
RECENCY_HALF_LIFE_DAYS = 180.0
SCORED_BODY_CHARS = 20_000  # long bodies are scored on their opening only

_EDGE_L = r"(?<![^\W_])"
_EDGE_R = r"(?![^\W_])"


@dataclass(frozen=True)
class Candidate:
    """What the ranking needs of one matching article."""

    article_id: int
    title_folded: str
    body_folded: str
    published_at: datetime | None


def _pattern(tokens: tuple[str, ...]) -> re.Pattern[str]:
    # Between tokens anything that is not a letter or digit, as the index tokenizers see it.
    return re.compile(_EDGE_L + r"[\W_]+".join(map(re.escape, tokens)) + _EDGE_R)


class Ranker:
    """Scores candidates for one query; patterns are compiled once per query."""

    def __init__(self, query: Query, now: datetime) -> None:
        self.now = now
        self.terms = [_pattern(t.tokens) for t in query.include]
        self.phrase = _pattern(query.rank_phrase) if query.rank_phrase else None

    def key(self, c: Candidate) -> tuple[int, float, float, int]:
        """Sort key, smallest first: phrase holders, then score, then newest."""
        body = c.body_folded[:SCORED_BODY_CHARS]
        tier = 0
        if self.phrase is not None and (
            self.phrase.search(c.title_folded) or self.phrase.search(body)
        ):
            tier = 1
        score = 0.0
        for pat in self.terms:
            if pat.search(c.title_folded):
                score += TITLE_WEIGHT
            score += math.log1p(len(pat.findall(body)))
        stamp = 0.0
        if c.published_at is not None:
            stamp = c.published_at.timestamp()
            age_days = max(0.0, (self.now - c.published_at).total_seconds() / 86400)
            score += RECENCY_WEIGHT * 0.5 ** (age_days / RECENCY_HALF_LIFE_DAYS)
        return (-tier, -score, -stamp, -c.article_id)

    def rank(self, candidates: list[Candidate]) -> list[int]:
        """Article ids, best first."""
        return [c.article_id for c in sorted(candidates, key=self.key)]


def snippet_phrase(query: Query) -> tuple[str, ...]:
    """The phrase a snippet should centre on, if the query has one."""
    if query.rank_phrase:
        return query.rank_phrase
    phrases: list[Term] = [t for t in query.include if len(t.tokens) > 1]
    return phrases[0].tokens if phrases else ()
