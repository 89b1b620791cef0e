"""Benchmark databases filled the product's way, cached between runs.

The articles go in through `storage.articles.store_articles` in small transactions of
POLL_BATCH (one poll's worth), so the triggers, the GIN index and whatever upkeep the store
does run as in production; nothing else (no ANALYZE, VACUUM or index rebuild) is done here.
A finished database is kept under CACHE_DIR (SQLite file) or as a PostgreSQL database
named from the same key; the key holds the generator's version, the schema head and the
size, so a changed corpus or schema builds afresh. Benchmarks open the cached copy and
must not write articles into it (the memory benchmark copies the SQLite file first).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import time
from itertools import islice
from pathlib import Path

from alembic.script import ScriptDirectory
from generator import GENERATOR_VERSION, articles
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url

from storage.articles import store_articles
from storage.db import alembic_config, make_engine, session_scope, upgrade
from storage.models import ArticleBase

POLL_BATCH = 20  # a listing of 10 per page read 2 pages deep
CACHE_DIR = Path(os.environ.get("BENCH_CACHE", Path(__file__).resolve().parents[2] / ".bench"))
PG_ADMIN = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
_FUNCTIONS_MIGRATION = (
    Path(__file__).resolve().parents[2] / "storage/migrations/versions/0009_search_table.py"
)
_BASE_FIELDS = ("key", "source", "url", "title", "summary", "body", "published_at", "local_date")


def cache_key(n: int) -> str:
    """Name of the cached database of `n` articles for this corpus and schema."""
    engine = make_engine("sqlite://")
    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    engine.dispose()
    return f"pn_bench_g{GENERATOR_VERSION}_r{head}_{n}"


def fill(engine: Engine, n: int, *, progress: str = "") -> float:
    """Store `n` generated articles the way polls do; seconds taken."""
    start = time.perf_counter()
    rows = articles(n)
    done = 0
    while batch := list(islice(rows, POLL_BATCH)):
        items = [(ArticleBase(**{k: r[k] for k in _BASE_FIELDS}), r["content_hash"]) for r in batch]
        with session_scope(engine) as s:
            store_articles(s, items=items, now=batch[-1]["first_seen_at"])
        done += len(batch)
        if progress and done % 100_000 == 0:
            took = time.perf_counter() - start
            print(f"   {progress}: {done:,} stored, {took:.0f} s", flush=True)
    return time.perf_counter() - start


def sqlite_db(n: int) -> tuple[Path, float | None]:
    """Path of the cached SQLite database of `n` articles; build seconds if built now."""
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    path = CACHE_DIR / f"{cache_key(n)}.db"
    if path.exists():
        return path, None
    partial = path.with_suffix(".building")
    for old in CACHE_DIR.glob(partial.name + "*"):
        old.unlink()
    engine = make_engine(f"sqlite:///{partial}")
    upgrade(engine)
    took = fill(engine, n, progress=f"SQLite {n:,}")
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    shutil.move(partial, path)
    return path, took


def pg_url(name: str) -> str:
    """URL of database `name` on the benchmark's PostgreSQL server."""
    return make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False)


def postgres_db(n: int) -> tuple[str, float | None]:
    """URL of the cached PostgreSQL database of `n` articles; build seconds if built now."""
    name = cache_key(n)
    admin = make_engine(PG_ADMIN, isolation_level="AUTOCOMMIT", pool_pre_ping=False)
    try:
        with admin.connect() as conn:
            found = conn.execute(
                text(
                    "SELECT shobj_description(oid, 'pg_database') FROM pg_database"
                    " WHERE datname = :n"
                ),
                {"n": name},
            ).first()
            if found is not None and found[0] == "complete":
                _deploy_functions(pg_url(name))
                return pg_url(name), None
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        engine = make_engine(pg_url(name))
        upgrade(engine)
        took = fill(engine, n, progress=f"PostgreSQL {n:,}")
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f"COMMENT ON DATABASE \"{name}\" IS 'complete'"))
    finally:
        admin.dispose()
    return pg_url(name), took


def _deploy_functions(url: str) -> None:
    """Re-create the migrations' server-side functions: they are code, not data, so a cached
    database follows their latest text the way a deployment's CREATE OR REPLACE would."""
    spec = importlib.util.spec_from_file_location("functions", _FUNCTIONS_MIGRATION)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(module.DROP_0008)  # built before 0009 changed its signature
        conn.exec_driver_sql(module.SEARCH_MATCHES)
    engine.dispose()
