"""latest(source=...) walks one (source, published_at, id) index; search_matches() on PostgreSQL

Also an index on deliveries.sent_at, for a restarted dispatcher to read the last minute's
sends. The single-column source index made the planner (SQLite without statistics, as the store
leaves a fresh database) fetch every article of the source and sort them: 66-100 ms at
100k articles. The composite index answers the newest n of a source in n rows whatever
the statistics say, and serves every equality lookup the old index did.

PostgreSQL also gets search_matches(), the whole choice of plan for a search (see
storage.search_pg) in one round trip: under load each round trip to the server cost
milliseconds, and a search made six of them. Two storage settings serve it too: the
tsvector stays in the row (STORAGE MAIN; an article's row is near the 2 kB where PostgreSQL
moves its largest value out, and a row check that fetched the tsvector from the TOAST table
cost three times as much), and the GIN index's pending list (new rows not yet merged, read
in full by every search) is kept to 128 kB instead of 4 MB.

Revision ID: 0008
Revises: 0002
Create Date: 2026-11-29
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


SEARCH_MATCHES = """
CREATE OR REPLACE FUNCTION search_matches(
    q tsquery, want int, cap int, probe_rows int, walk_rows int, walk_per_table float8
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
    SELECT coalesce(max(a.id), 0) INTO top FROM articles a;
    SELECT coalesce(array_agg(x.id ORDER BY x.id DESC), '{}') INTO probe FROM (
        SELECT a.id FROM articles a
        WHERE a.id > top - probe_rows AND ts_match_vq(a.search_tsv, q)
        ORDER BY a.id DESC LIMIT cap) AS x;  -- a common word stops after cap rows
    found := cardinality(probe);
    IF found >= cap OR top <= probe_rows THEN
        RETURN QUERY SELECT least(found, cap), probe[1:want], true;
        RETURN;
    END IF;
    IF found > 0 AND (cap - found) / (found::float8 / probe_rows)
            <= greatest(walk_rows, top * walk_per_table) THEN
        SELECT coalesce(array_agg(x.id ORDER BY x.id DESC), '{}') INTO got FROM (
            SELECT a.id FROM articles a
            WHERE a.id <= top - probe_rows AND ts_match_vq(a.search_tsv, q)
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
            SELECT a.id FROM articles a
            WHERE a.id <= top - probe_rows AND a.id > above
                AND ts_match_vq(a.search_tsv, q)
            ORDER BY a.id DESC LIMIT want - found) AS x;
        probe := probe || got;
    END IF;
    PERFORM set_config('enable_seqscan', 'off', true), set_config('enable_indexscan', 'off', true);
    SELECT count(*) INTO found FROM (
        SELECT 1 FROM articles a WHERE a.search_tsv @@ q LIMIT cap) AS m;
    IF cardinality(probe) >= want THEN
        got := probe[1:want];
    ELSIF found < cap THEN
        SELECT coalesce(array_agg(x.id ORDER BY x.id DESC), '{}') INTO got FROM (
            SELECT a.id FROM articles a WHERE a.search_tsv @@ q
            ORDER BY a.id DESC LIMIT want) AS x;
    ELSE
        span := ceil(want * 1.5 / (greatest(cardinality(probe), 0.5) / probe_rows));
        LOOP
            above := greatest(0, top - span)::int;
            SELECT coalesce(array_agg(x.id ORDER BY x.id DESC), '{}') INTO got FROM (
                SELECT a.id FROM articles a WHERE a.search_tsv @@ q AND a.id > above
                ORDER BY a.id DESC LIMIT want) AS x;
            EXIT WHEN cardinality(got) >= want OR above = 0;
            span := span * 4;
        END LOOP;
    END IF;
    PERFORM set_config('enable_seqscan', 'on', true), set_config('enable_indexscan', 'on', true);
    RETURN QUERY SELECT found, got, false;
END
$fn$
"""


def upgrade() -> None:
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.create_index(
            "ix_articles_source_published_at_id", ["source", "published_at", "id"], unique=False
        )
        batch_op.drop_index("ix_articles_source")
    # A restarted dispatcher reads the last minute's sends (storage.deliveries.recent_sends).
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.create_index("ix_deliveries_sent_at", ["sent_at"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(SEARCH_MATCHES)
        op.execute("ALTER TABLE articles ALTER COLUMN search_tsv SET STORAGE MAIN")
        op.execute("ALTER INDEX ix_articles_search_tsv SET (gin_pending_list_limit = 128)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER INDEX ix_articles_search_tsv RESET (gin_pending_list_limit)")
        op.execute("ALTER TABLE articles ALTER COLUMN search_tsv SET STORAGE EXTENDED")
        op.execute("DROP FUNCTION IF EXISTS search_matches(tsquery, int, int, int, int, float8)")
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_deliveries_sent_at")
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.create_index("ix_articles_source", ["source"], unique=False)
        batch_op.drop_index("ix_articles_source_published_at_id")
