"""stable article identity, clamped dates and skipped items

Article keys no longer depend on the scheme, a `www.` prefix or credentials in the URL, and
feed GUIDs are scoped to their source: existing rows are rekeyed in place (same id, so their
deliveries stay and nothing is alerted again). Where two stored rows now share a key (the
same page stored under http and https), the oldest takes it and the others keep theirs.
Credentials are removed from stored article URLs. Adds articles.published_clamped and the
skipped-item counters of source_states.

Revision ID: 0004
Revises: 0002
Create Date: 2026-11-29
"""

from collections.abc import Sequence
from urllib.parse import urlsplit, urlunsplit

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KEY_MAX = 512


def _without_credentials(url: str) -> str:
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def new_key(key: str, source: str) -> str:
    """The 0004 form of a 0002 key (frozen here: later code may key differently)."""
    if key.startswith("guid:"):
        return f"guid:{source}:{key[5:]}"[:_KEY_MAX]
    if key.startswith("url:"):
        rest = key[4:]
        scheme, sep, after = rest.partition("://")
        if not sep or scheme not in ("http", "https"):
            return key
        netloc, slash, tail = after.partition("/")
        host = netloc.rpartition("@")[2]
        host = host[4:] if host.startswith("www.") else host
        return f"url:{host}{slash}{tail}"[:_KEY_MAX]
    return key


def upgrade() -> None:
    # Plain ADD COLUMN, never a batch (SQLite table copy): dropping the old articles table
    # would cascade to its deliveries.
    op.add_column(
        "articles",
        sa.Column("published_clamped", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column(
        "source_states",
        sa.Column("skipped_items", sa.Integer(), nullable=False, server_default="0"),
    )
    op.add_column("source_states", sa.Column("last_skip_reason", sa.String(), nullable=True))
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, key, source, url FROM articles ORDER BY id")).all()
    taken = {key for _id, key, _source, _url in rows}
    for id_, key, source, url in rows:
        fresh = new_key(key, source)
        clean_url = _without_credentials(url)
        if fresh != key and fresh not in taken:
            taken.discard(key)
            taken.add(fresh)
        else:
            fresh = key
        if fresh != key or clean_url != url:
            bind.execute(
                sa.text("UPDATE articles SET key = :key, url = :url WHERE id = :id"),
                {"key": fresh, "url": clean_url, "id": id_},
            )


def downgrade() -> None:
    op.drop_column("source_states", "last_skip_reason")
    op.drop_column("source_states", "skipped_items")
    op.drop_column("articles", "published_clamped")
