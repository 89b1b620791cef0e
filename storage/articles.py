"""Article storage (new and edited rows only), HTTP validators and source health records."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Table, and_, bindparam, update
from sqlmodel import Session, col, select

from storage import dialects
from storage.models import Article, ArticleBase, HttpCacheEntry, SourceState
from storage.text import fold
from storage.upkeep import refresh_statistics

ARTICLES: Table = Article.__table__  # type: ignore[attr-defined]
HTTP_CACHE: Table = HttpCacheEntry.__table__  # type: ignore[attr-defined]
SOURCE_STATES: Table = SourceState.__table__  # type: ignore[attr-defined]
# Columns a content change rewrites; identity (key, source) and first_seen_at never change.
_CONTENT = (
    "url", "title", "summary", "body", "attachments", "published_at", "local_date",
    "published_clamped",
)  # fmt: skip
_KEY_CHUNK = 500


@dataclass
class StoreResult:
    """What one store did: rows really inserted, rows whose content changed, the rest."""

    new: list[Article] = field(default_factory=list)
    edited: list[Article] = field(default_factory=list)
    unchanged: int = 0
    baseline: bool = False  # the source's first successful read: stored, never alerted


def _row(article: ArticleBase, content_hash: str, now: datetime) -> dict[str, Any]:
    values = {name: getattr(article, name) for name in ("key", "source", *_CONTENT)}
    values["attachments"] = list(article.attachments or [])
    values.update(
        content_hash=content_hash,
        title_folded=fold(article.title),
        body_folded=fold(article.body),
        first_seen_at=now,
        updated_at=now,
        edit_count=0,
    )
    return values


def _key_chunks(keys: Iterable[str]) -> Iterator[list[str]]:
    """Distinct keys in chunks, so a long listing never exceeds a driver's parameter limit."""
    wanted = sorted(set(keys))
    for start in range(0, len(wanted), _KEY_CHUNK):
        yield wanted[start : start + _KEY_CHUNK]


def articles_by_key(
    session: Session, *, keys: Iterable[str], reload: bool = False
) -> dict[str, Article]:
    """Stored articles among `keys`, by key (`reload`: overwrite rows the session holds)."""
    found: dict[str, Article] = {}
    for chunk in _key_chunks(keys):
        stmt = select(Article).where(col(Article.key).in_(chunk))
        if reload:
            stmt = stmt.execution_options(populate_existing=True)
        for art in session.exec(stmt):
            found[art.key] = art
    return found


def _hashes(session: Session, *, keys: Iterable[str]) -> dict[str, str]:
    """content_hash of the stored articles among `keys`, by key."""
    found: dict[str, str] = {}
    for chunk in _key_chunks(keys):
        stmt = select(Article.key, Article.content_hash).where(col(Article.key).in_(chunk))
        found.update(session.exec(stmt).all())
    return found


def seen_articles(
    session: Session, *, keys: Iterable[str]
) -> dict[str, tuple[str, date | None, datetime]]:
    """(title, local_date, first_seen_at) of the stored articles among `keys`, bodies unread."""
    found: dict[str, tuple[str, date | None, datetime]] = {}
    for chunk in _key_chunks(keys):
        columns = (Article.key, Article.title, col(Article.local_date), Article.first_seen_at)
        stmt = select(*columns).where(col(Article.key).in_(chunk))
        for key, title, local_date, first_seen_at in session.exec(stmt):
            found[key] = (title, local_date, first_seen_at)
    return found


def store_articles(
    session: Session, *, items: list[tuple[ArticleBase, str]], now: datetime
) -> StoreResult:
    """Insert unseen keys, update rows whose content hash changed; return only those rows.

    Safe under a concurrent store of the same articles: the insert skips keys another
    transaction already wrote (ON CONFLICT DO NOTHING) and only rows it really inserted
    come back as new; an edit is claimed by a conditional UPDATE, so it is reported once.
    """
    latest: dict[str, tuple[ArticleBase, str]] = {}
    for article, content_hash in items:
        latest[article.key] = (article, content_hash)  # a key twice in one batch: last wins
    result = StoreResult()
    if not latest:
        return result
    # Hashes only: most of a listing is unchanged, and its bodies need not be read.
    stored = _hashes(session, keys=latest)
    fresh = [_row(a, h, now) for key, (a, h) in latest.items() if key not in stored]
    inserted_ids: list[int] = []
    if fresh:
        stmt = (
            dialects.insert(session, ARTICLES)
            .on_conflict_do_nothing(index_elements=["key"])
            .returning(ARTICLES.c.id, ARTICLES.c.key)
        )
        inserted = {key: id_ for id_, key in session.execute(stmt, fresh).all()}
        inserted_ids = list(inserted.values())
        # Keys a concurrent poll inserted first are compared like any stored row below.
        lost = [row["key"] for row in fresh if row["key"] not in inserted]
        stored.update(_hashes(session, keys=lost))
    _fill_dates(session, [latest[key][0] for key in stored])
    edited: list[str] = []
    for key, stored_hash in sorted(stored.items()):
        article, content_hash = latest[key]
        if stored_hash != content_hash and _claim_edit(
            session, article=article, content_hash=content_hash, now=now
        ):
            edited.append(key)
        else:
            result.unchanged += 1
    if edited:
        reread = articles_by_key(session, keys=edited, reload=True)
        result.edited = [reread[key] for key in edited]
    if inserted_ids:
        rows = session.exec(select(Article).where(col(Article.id).in_(inserted_ids)))
        result.new = sorted(rows, key=lambda a: a.id or 0)
        refresh_statistics(session)  # a first poll can store a whole archive at once
    return result


def _fill_dates(session: Session, articles: list[ArticleBase]) -> None:
    """Give stored rows without a date the date now known (a day/month order settled since:
    jobs.ingest.date_order); a date once stored is never rewritten by this."""
    rows = [
        {"k": a.key, "p": a.published_at, "d": a.local_date}
        for a in articles
        if a.published_at is not None
    ]
    if not rows:
        return
    stmt = (
        update(ARTICLES)
        .where(and_(ARTICLES.c.key == bindparam("k"), ARTICLES.c.published_at.is_(None)))
        .values(published_at=bindparam("p"), local_date=bindparam("d"))
    )
    session.connection().execute(stmt, rows)


def _claim_edit(
    session: Session, *, article: ArticleBase, content_hash: str, now: datetime
) -> bool:
    """Rewrite one row's content unless it already has this hash; True when it was rewritten."""
    values = {name: getattr(article, name) for name in _CONTENT}
    values["attachments"] = list(article.attachments or [])
    stmt = (
        update(ARTICLES)
        .where(and_(ARTICLES.c.key == article.key, ARTICLES.c.content_hash != content_hash))
        .values(
            **values,
            content_hash=content_hash,
            title_folded=fold(article.title),
            body_folded=fold(article.body),
            updated_at=now,
            edit_count=ARTICLES.c.edit_count + 1,
        )
    )
    return bool(session.execute(stmt).rowcount)  # type: ignore[attr-defined]


def get_validators(
    session: Session, *, urls: Iterable[str]
) -> dict[str, tuple[str | None, str | None]]:
    """(etag, last_modified) stored for each of `urls` that has any."""
    wanted = sorted(set(urls))
    if not wanted:
        return {}
    rows = session.exec(select(HttpCacheEntry).where(col(HttpCacheEntry.url).in_(wanted)))
    return {e.url: (e.etag, e.last_modified) for e in rows}


def set_validators(
    session: Session, *, url: str, etag: str | None, last_modified: str | None, now: datetime
) -> None:
    """Remember the validators of the last 200 answer of `url` (none: forget the URL)."""
    save_validators(session, entries={url: (etag, last_modified)}, now=now)


def save_validators(
    session: Session, *, entries: Mapping[str, tuple[str | None, str | None]], now: datetime
) -> None:
    """set_validators for many URLs at once: one delete and one upsert, not one per URL."""
    gone = [url for url, (etag, modified) in entries.items() if etag is None and modified is None]
    kept = [
        {"url": url, "etag": etag, "last_modified": modified, "checked_at": now}
        for url, (etag, modified) in entries.items()
        if etag is not None or modified is not None
    ]
    if gone:
        session.execute(HTTP_CACHE.delete().where(HTTP_CACHE.c.url.in_(gone)))
    if kept:
        insert = dialects.insert(session, HTTP_CACHE)
        changed = {name: insert.excluded[name] for name in ("etag", "last_modified", "checked_at")}
        session.execute(insert.on_conflict_do_update(index_elements=["url"], set_=changed), kept)


def get_source_state(session: Session, *, name: str) -> SourceState | None:
    """The health record of one source, if it was ever polled."""
    return session.get(SourceState, name)


def list_source_states(session: Session) -> dict[str, SourceState]:
    """Every stored health record, by source name."""
    rows = session.exec(select(SourceState).order_by(col(SourceState.name)))
    return {s.name: s for s in rows}


def save_source_state(session: Session, *, name: str, values: Mapping[str, Any]) -> None:
    """Insert or overwrite the health record of `name` with `values` (column -> value)."""
    unknown = set(values) - set(SOURCE_STATES.c.keys())
    if unknown:
        raise ValueError(f"unknown source state fields: {sorted(unknown)}")
    insert = dialects.insert(session, SOURCE_STATES).values(name=name, **values)
    if values:
        stmt = insert.on_conflict_do_update(index_elements=["name"], set_=dict(values))
    else:
        stmt = insert.on_conflict_do_nothing(index_elements=["name"])
    session.execute(stmt)
    cached = session.identity_map.get(session.identity_key(SourceState, name))
    if cached is not None:
        session.expire(cached)  # a loaded SourceState must not hide the new values


def set_alarmed(session: Session, *, name: str, alarmed: bool) -> bool:
    """Flip a source's alarm flag; False when it already had that value (another replica did)."""
    states = SourceState.__table__  # type: ignore[attr-defined]
    stmt = (
        update(states)
        .where(states.c.name == name, states.c.alarmed.is_(not alarmed))
        .values(alarmed=alarmed)
    )
    changed = bool(session.execute(stmt).rowcount)  # type: ignore[attr-defined]
    cached = session.identity_map.get(session.identity_key(SourceState, name))
    if cached is not None:
        session.expire(cached)
    return changed
