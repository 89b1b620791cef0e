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


# 0008's search_matches() over the narrow table, with two changes. `window_first`: the probe
# stops once it holds the window, and a full window comes back with no count (the caller
# counts on a connection of its own while it ranks: storage.search_pg); a probe that ends short
# goes on as before, so a sparse word is counted with its window, as cheaply. And when the
# range of newest ids that should hold the window grows to the whole table, the window is read
# without the range (its bitmap of every id took 8.7 ms for a word of 114 matches), and a
# range is planned for its own bounds each time: a cached generic plan read a bitmap of
# 600,000 ids where the GIN index alone held 1,020 matches (76 ms for one search at 1M).
SEARCH_MATCHES = """
CREATE OR REPLACE FUNCTION search_matches(
    q tsquery, want int, cap int, probe_rows int, walk_rows int, walk_per_table float8,
    window_first boolean DEFAULT false
) RETURNS TABLE (total int, ids int[], dense boolean)
LANGUAGE plpgsql VOLATILE AS $fn$
DECLARE
    top int;
    probe int[];
    got int[];
    found int;
    span float8;
    above int;
BEGIN
    SELECT coalesce(max(a.id), 0) INTO top FROM article_search a;
    SELECT coalesce(array_agg(x.id ORDER BY x.id DESC), '{}') INTO probe FROM (
        SELECT a.id FROM article_search a
        WHERE a.id > top - probe_rows AND ts_match_vq(a.tsv, q)
        ORDER BY a.id DESC  -- a common word stops early
        LIMIT CASE WHEN window_first THEN least(want + 1, cap) ELSE cap END) AS x;
    found := cardinality(probe);
    IF window_first AND found > want THEN
        RETURN QUERY SELECT NULL::int, probe[1:want], true;
        RETURN;
    END IF;
    IF found >= cap OR top <= probe_rows THEN
        RETURN QUERY SELECT least(found, cap), probe[1:want], true;
        RETURN;
    END IF;
    IF found > 0 AND (cap - found) / (found::float8 / probe_rows)
            <= greatest(walk_rows, top * walk_per_table) THEN
        SELECT coalesce(array_agg(x.id ORDER BY x.id DESC), '{}') INTO got FROM (
            SELECT a.id FROM article_search a
            WHERE a.id <= top - probe_rows AND ts_match_vq(a.tsv, q)
            ORDER BY a.id DESC LIMIT cap - found) AS x;
        probe := probe || got;
        RETURN QUERY SELECT cardinality(probe), probe[1:want], true;
        RETURN;
    END IF;
    -- Short of the newest `want`: a few more rows below the probe usually hold them (a walk
    -- bounded to twice what the probe's density asks), where GIN would read every posting.
    span := ceil(2 * (want - found) * probe_rows / greatest(found, 0.5));
    IF found > 0 AND found < want AND span <= walk_rows / 4 THEN
        above := (top - probe_rows - span)::int;
        SELECT coalesce(array_agg(x.id ORDER BY x.id DESC), '{}') INTO got FROM (
            SELECT a.id FROM article_search a
            WHERE a.id <= top - probe_rows AND a.id > above
                AND ts_match_vq(a.tsv, q)
            ORDER BY a.id DESC LIMIT want - found) AS x;
        probe := probe || got;
    END IF;
    PERFORM set_config('enable_seqscan', 'off', true), set_config('enable_indexscan', 'off', true);
    SELECT count(*) INTO found FROM (
        SELECT 1 FROM article_search a WHERE a.tsv @@ q LIMIT cap) AS m;
    IF cardinality(probe) >= want THEN
        got := probe[1:want];
    ELSIF found < cap THEN
        SELECT coalesce(array_agg(x.id ORDER BY x.id DESC), '{}') INTO got FROM (
            SELECT a.id FROM article_search a WHERE a.tsv @@ q
            ORDER BY a.id DESC LIMIT want) AS x;
    ELSE
        span := ceil(want * 1.5 / (greatest(cardinality(probe), 0.5) / probe_rows));
        LOOP
            above := greatest(0, top - span)::int;
            IF above = 0 THEN
                SELECT coalesce(array_agg(x.id ORDER BY x.id DESC), '{}') INTO got FROM (
                    SELECT a.id FROM article_search a WHERE a.tsv @@ q
                    ORDER BY a.id DESC LIMIT want) AS x;
                EXIT;
            END IF;
            -- Planned for this range each time (EXECUTE): see the note above.
            EXECUTE 'SELECT coalesce(array_agg(x.id ORDER BY x.id DESC), ''{}'') FROM ('
                || 'SELECT a.id FROM article_search a WHERE a.tsv @@ $1 AND a.id > $2'
                || ' ORDER BY a.id DESC LIMIT $3) AS x'
                INTO got USING q, above, want;
            EXIT WHEN cardinality(got) >= want;
            span := span * 4;
        END LOOP;
    END IF;
    PERFORM set_config('enable_seqscan', 'on', true), set_config('enable_indexscan', 'on', true);
    RETURN QUERY SELECT found, got, false;
END
$fn$
"""
# The signature changes: 0008's function goes first (an overload would make calls ambiguous).
DROP_0008 = "DROP FUNCTION IF EXISTS search_matches(tsquery, int, int, int, int, float8)"
DROP_0009 = "DROP FUNCTION IF EXISTS search_matches(tsquery, int, int, int, int, float8, boolean)"


def _load_0008() -> ModuleType:
    path = Path(__file__).with_name("0008_latest_by_source.py")
    spec = importlib.util.spec_from_file_location("migration_0008", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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
    DROP_0008,
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
    op.execute(DROP_0009)
    op.execute(_load_0008().SEARCH_MATCHES)
    op.execute("DROP TRIGGER articles_search_sync ON articles")
    op.execute("DROP FUNCTION article_search_sync()")
    op.execute("DROP TABLE article_search")
