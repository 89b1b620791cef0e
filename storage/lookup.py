"""Newest articles and articles by local day (the portal's "Xem tin theo ngày")."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func
from sqlmodel import Session, col, select

from storage.models import Article

MAX_LATEST = 50
MAX_PER_PAGE = 50


def latest(session: Session, *, n: int, source: str | None = None) -> list[Article]:
    """The `n` newest articles (1..MAX_LATEST), newest first by published_at then id."""
    n = min(max(1, n), MAX_LATEST)
    # Dated rows first through the (published_at, id) index; "DESC NULLS LAST" would stop
    # PostgreSQL from walking that index, so undated rows are a separate, rare top-up.
    dated = select(Article).where(col(Article.published_at).is_not(None))
    if source is not None:
        dated = dated.where(Article.source == source)
    order = (col(Article.published_at).desc(), col(Article.id).desc())
    rows = list(session.exec(dated.order_by(*order).limit(n)).all())
    if len(rows) < n:
        undated = select(Article).where(col(Article.published_at).is_(None))
        if source is not None:
            undated = undated.where(Article.source == source)
        more = session.exec(undated.order_by(col(Article.id).desc()).limit(n - len(rows)))
        rows += list(more.all())
    return rows


@dataclass(frozen=True)
class DatePage:
    """One page of the articles of [start, end]; when there are none, the nearest days
    before and after that have articles (None when there is no such day)."""

    items: list[Article]
    total: int
    page: int
    per_page: int
    start: date
    end: date
    nearest_before: date | None
    nearest_after: date | None

    @property
    def pages(self) -> int:
        """Number of pages (at least 1)."""
        return max(1, math.ceil(self.total / self.per_page))


def articles_between(
    session: Session, *, start: date, end: date, page: int = 1, per_page: int = 10
) -> DatePage:
    """Articles whose local day is in [start, end], newest first, paged."""
    page = max(1, page)
    per_page = min(max(1, per_page), MAX_PER_PAGE)
    day = col(Article.local_date)
    in_range = (day >= start, day <= end)
    total = session.exec(select(func.count()).select_from(Article).where(*in_range)).one()
    items: list[Article] = []
    before = after = None
    if total:
        stmt = (
            select(Article)
            .where(*in_range)
            .order_by(col(Article.published_at).desc(), col(Article.id).desc())
            .offset((page - 1) * per_page)
            .limit(per_page)
        )
        items = list(session.exec(stmt).all())
    else:
        before = session.exec(select(func.max(day)).where(day < start)).one()
        after = session.exec(select(func.min(day)).where(day > end)).one()
    return DatePage(
        items=items,
        total=int(total),
        page=page,
        per_page=per_page,
        start=start,
        end=end,
        nearest_before=before,
        nearest_after=after,
    )
