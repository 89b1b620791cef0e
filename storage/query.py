"""User search queries: parsed into our own structure, then compiled for FTS5 or PostgreSQL.

What the user types never reaches an engine as syntax: every word becomes a quoted token
made only of letters and digits, and the operators come from the compiler alone.

Language: words (all must match), "quoted phrases", -word or -"phrase" to exclude. Several
unquoted words must all match, and articles holding them as a phrase rank first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from storage.text import fold

MAX_QUERY_CHARS = 200
MAX_TOKENS = 32  # bounds the work one query can ask of the engine

# Letters and digits in any script: the same split that FTS5 unicode61 makes, and what the
# PostgreSQL index sees after its punctuation-to-space step.
TOKEN = re.compile(r"[^\W_]+")
_QUOTES = str.maketrans({q: '"' for q in "“”„‟«»＂"})
_DASHES = "-–—−"  # phones turn "-" into typographic dashes


@dataclass(frozen=True)
class Term:
    """One or more folded tokens; several tokens must appear in this order, side by side."""

    tokens: tuple[str, ...]


@dataclass(frozen=True)
class Query:
    """A parsed query: terms that must match, terms that must not, and the ranking phrase."""

    include: tuple[Term, ...]
    exclude: tuple[Term, ...] = ()
    rank_phrase: tuple[str, ...] = ()

    @property
    def highlight(self) -> frozenset[str]:
        """Folded tokens to mark in snippets."""
        return frozenset(tok for term in self.include for tok in term.tokens)


@dataclass(frozen=True)
class QueryError:
    """Why a query cannot run: "empty", "too_long" or "no_terms"."""

    code: str


def parse_query(text: str) -> Query | QueryError:
    """Parse what the user typed; never raises."""
    if not text or not text.strip():
        return QueryError("empty")
    if len(text) > MAX_QUERY_CHARS:
        return QueryError("too_long")
    include: list[Term] = []
    exclude: list[Term] = []
    loose: list[str] = []
    seen = 0
    for negated, quoted, chunk in _chunks(fold(text).translate(_QUOTES)):
        tokens = tuple(TOKEN.findall(chunk))
        seen += len(tokens)
        if not tokens:
            continue
        target = exclude if negated else include
        if Term(tokens) not in target:
            target.append(Term(tokens))
        if not negated and not quoted:
            loose.extend(tokens)
    if seen > MAX_TOKENS:
        return QueryError("too_long")
    if not include:
        return QueryError("no_terms")
    rank = tuple(loose) if len(loose) > 1 else ()
    return Query(include=tuple(include), exclude=tuple(exclude), rank_phrase=rank)


def _chunks(text: str) -> list[tuple[bool, bool, str]]:
    """Split into (negated, quoted, text) pieces; an unclosed quote runs to the end."""
    out: list[tuple[bool, bool, str]] = []
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        negated = False
        if text[i] in _DASHES and i + 1 < n and not text[i + 1].isspace():
            negated, i = True, i + 1
        if text[i] == '"':
            end = text.find('"', i + 1)
            end = n if end < 0 else end
            out.append((negated, True, text[i + 1 : end]))
            i = end + 1
            continue
        end = i
        while end < n and not text[end].isspace() and text[end] != '"':
            end += 1
        out.append((negated, False, text[i:end]))
        i = end
    return out


def _fts5_term(term: Term) -> str:
    # Inside double quotes FTS5 reads tokens literally; tokens hold no quote characters.
    return '"' + " ".join(term.tokens) + '"'


def to_fts5(query: Query) -> str:
    """An FTS5 MATCH expression."""
    expr = "(" + " AND ".join(_fts5_term(t) for t in query.include) + ")"
    if query.exclude:
        expr += " NOT (" + " OR ".join(_fts5_term(t) for t in query.exclude) + ")"
    return expr


def _ts_term(term: Term) -> str:
    # Tokens are letters and digits only, so single quotes need no escaping.
    return "(" + " <-> ".join(f"'{tok}'" for tok in term.tokens) + ")"


def to_tsquery(query: Query) -> str:
    """Text for PostgreSQL to_tsquery('simple', ...)."""
    parts = [_ts_term(t) for t in query.include]
    parts += ["!" + _ts_term(t) for t in query.exclude]
    return " & ".join(parts)
