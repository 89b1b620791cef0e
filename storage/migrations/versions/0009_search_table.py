"""PostgreSQL: the search vector in a narrow table of its own, kept in step by a trigger

Every search checks rows one by one newest first (the probe and the walk of
storage.search_pg), and a check on the articles table paid for the row it sat in: a heap
tuple of about 2 kB, and 16 columns to step over before the vector, the last one. Alone
with its id, the same 8,192 checks took 8-10 ms instead of 15-17 (100k articles). The
table is to PostgreSQL what the FTS5 table is to SQLite (migration 0002): the articles
table's triggers keep it in step, and its rows go when their article goes.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The vector of migration 0002's generated column, now computed by the trigger.
_VECTOR = """
    setweight(to_tsvector('simple',
        regexp_replace({row}title_folded, '[^[:alnum:]]+', ' ', 'g')), 'A')
    || setweight(to_tsvector('simple',
        regexp_replace({row}body_folded, '[^[:alnum:]]+', ' ', 'g')), 'B')
"""


def _load_0008() -> ModuleType:
    path = Path(__file__).with_name("0008_latest_by_source.py")
    spec = importlib.util.spec_from_file_location("migration_0008", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# 0008's search_matches(), the same plan choice over the narrow table, but for one step: when
# the range of newest ids that should hold the window grows to the whole table, the window is
# read without the range (its bitmap of every id took 8.7 ms for a word of 114 matches).
_SEARCH_MATCHES_0008: str = _load_0008().SEARCH_MATCHES
_RANGES_0008 = """
            SELECT coalesce(array_agg(x.id ORDER BY x.id DESC), '{}') INTO got FROM (
                SELECT a.id FROM article_search a WHERE a.tsv @@ q AND a.id > above
                ORDER BY a.id DESC LIMIT want) AS x;
            EXIT WHEN cardinality(got) >= want OR above = 0;
"""
_RANGES = """
            IF above = 0 THEN
                SELECT coalesce(array_agg(x.id ORDER BY x.id DESC), '{}') INTO got FROM (
                    SELECT a.id FROM article_search a WHERE a.tsv @@ q
                    ORDER BY a.id DESC LIMIT want) AS x;
                EXIT;
            END IF;
            SELECT coalesce(array_agg(x.id ORDER BY x.id DESC), '{}') INTO got FROM (
                SELECT a.id FROM article_search a WHERE a.tsv @@ q AND a.id > above
                ORDER BY a.id DESC LIMIT want) AS x;
            EXIT WHEN cardinality(got) >= want;
"""
_NARROW = _SEARCH_MATCHES_0008.replace("articles a", "article_search a").replace(
    "a.search_tsv", "a.tsv"
)
assert _RANGES_0008 in _NARROW, "migration 0008's function changed"
SEARCH_MATCHES = _NARROW.replace(_RANGES_0008, _RANGES)

_UP = [
    """
    CREATE TABLE article_search (
        id integer PRIMARY KEY REFERENCES articles (id) ON DELETE CASCADE,
        tsv tsvector NOT NULL
    )
    """,
    # Inline, never compressed apart from its row (see migration 0008 for why).
    "ALTER TABLE article_search ALTER COLUMN tsv SET STORAGE MAIN",
    "INSERT INTO article_search (id, tsv) SELECT id, search_tsv FROM articles ORDER BY id",
    "CREATE INDEX ix_article_search_tsv ON article_search USING gin (tsv)"
    " WITH (gin_pending_list_limit = 128)",
    f"""
    CREATE FUNCTION article_search_sync() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
        INSERT INTO article_search (id, tsv) VALUES (NEW.id, {_VECTOR.format(row="NEW.")})
        ON CONFLICT (id) DO UPDATE SET tsv = EXCLUDED.tsv;
        RETURN NULL;
    END
    $fn$
    """,
    """
    CREATE TRIGGER articles_search_sync
    AFTER INSERT OR UPDATE OF title_folded, body_folded ON articles
    FOR EACH ROW EXECUTE FUNCTION article_search_sync()
    """,
    "DROP INDEX ix_articles_search_tsv",
    "ALTER TABLE articles DROP COLUMN search_tsv",
    SEARCH_MATCHES,
    "ANALYZE article_search",
]


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite's FTS5 table is already a table of its own
    for sql in _UP:
        op.execute(sql)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        f"ALTER TABLE articles ADD COLUMN search_tsv tsvector"
        f" GENERATED ALWAYS AS ({_VECTOR.format(row='')}) STORED"
    )
    op.execute("ALTER TABLE articles ALTER COLUMN search_tsv SET STORAGE MAIN")
    op.execute(
        "CREATE INDEX ix_articles_search_tsv ON articles USING gin (search_tsv)"
        " WITH (gin_pending_list_limit = 128)"
    )
    op.execute(_SEARCH_MATCHES_0008)
    op.execute("DROP TRIGGER articles_search_sync ON articles")
    op.execute("DROP FUNCTION article_search_sync()")
    op.execute("DROP TABLE article_search")
