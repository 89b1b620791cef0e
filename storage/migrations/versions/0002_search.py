"""search index over the folded title and body

SQLite: an FTS5 external-content table kept in step by triggers.
PostgreSQL: a generated, weighted tsvector column with a GIN index.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The text is folded before it is stored (storage.text.fold), so remove_diacritics 2 only
# has to cope with stray marks; unicode61 alone would miss letters carrying two marks.
_SQLITE_UP = [
    """
    CREATE VIRTUAL TABLE articles_fts USING fts5(
        title_folded, body_folded,
        content='articles', content_rowid='id',
        tokenize='unicode61 remove_diacritics 2'
    )
    """,
    """
    CREATE TRIGGER articles_fts_ai AFTER INSERT ON articles BEGIN
        INSERT INTO articles_fts(rowid, title_folded, body_folded)
        VALUES (new.id, new.title_folded, new.body_folded);
    END
    """,
    """
    CREATE TRIGGER articles_fts_ad AFTER DELETE ON articles BEGIN
        INSERT INTO articles_fts(articles_fts, rowid, title_folded, body_folded)
        VALUES ('delete', old.id, old.title_folded, old.body_folded);
    END
    """,
    """
    CREATE TRIGGER articles_fts_au AFTER UPDATE OF title_folded, body_folded ON articles BEGIN
        INSERT INTO articles_fts(articles_fts, rowid, title_folded, body_folded)
        VALUES ('delete', old.id, old.title_folded, old.body_folded);
        INSERT INTO articles_fts(rowid, title_folded, body_folded)
        VALUES (new.id, new.title_folded, new.body_folded);
    END
    """,
    "INSERT INTO articles_fts(articles_fts) VALUES ('rebuild')",
]

_SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS articles_fts_au",
    "DROP TRIGGER IF EXISTS articles_fts_ad",
    "DROP TRIGGER IF EXISTS articles_fts_ai",
    "DROP TABLE IF EXISTS articles_fts",
]

# Punctuation becomes spaces first so PostgreSQL's parser splits words exactly where FTS5
# does (it would otherwise keep "12/nq-tu" as one file-path token); 'simple' because the
# text is already folded and Vietnamese has no stemming to do.
_PG_UP = [
    """
    ALTER TABLE articles ADD COLUMN search_tsv tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple',
            regexp_replace(title_folded, '[^[:alnum:]]+', ' ', 'g')), 'A')
        || setweight(to_tsvector('simple',
            regexp_replace(body_folded, '[^[:alnum:]]+', ' ', 'g')), 'B')
    ) STORED
    """,
    "CREATE INDEX ix_articles_search_tsv ON articles USING gin (search_tsv)",
]

_PG_DOWN = [
    "DROP INDEX IF EXISTS ix_articles_search_tsv",
    "ALTER TABLE articles DROP COLUMN IF EXISTS search_tsv",
]


def _run(statements: dict[str, list[str]]) -> None:
    dialect = op.get_bind().dialect.name
    if dialect not in statements:
        raise NotImplementedError(f"no search index for the {dialect} dialect")
    for sql in statements[dialect]:
        op.execute(sql)


def upgrade() -> None:
    _run({"sqlite": _SQLITE_UP, "postgresql": _PG_UP})


def downgrade() -> None:
    _run({"sqlite": _SQLITE_DOWN, "postgresql": _PG_DOWN})
