"""Backfill progress rows: one per source, saved with the articles of each listing page."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlmodel import Session, select

from storage.models import BackfillState


def get_backfill(session: Session, *, source: str) -> BackfillState | None:
    """The source's backfill progress, or None when it never ran."""
    return session.get(BackfillState, source)


def list_backfills(session: Session) -> dict[str, BackfillState]:
    """Every source's backfill progress, by source name."""
    rows = session.exec(select(BackfillState).order_by(BackfillState.source))
    return {row.source: row for row in rows}


def save_backfill(session: Session, *, source: str, values: Mapping[str, Any]) -> BackfillState:
    """Create or update the source's progress row with `values` (column -> value)."""
    row = session.get(BackfillState, source) or BackfillState(source=source)
    for name, value in values.items():
        setattr(row, name, value)
    session.add(row)
    session.flush()
    return row


def delete_backfill(session: Session, *, source: str) -> None:
    """Forget the source's progress (a restart walks from the first page again)."""
    row = session.get(BackfillState, source)
    if row is not None:
        session.delete(row)
        session.flush()
