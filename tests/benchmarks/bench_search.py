"""Search, date lookup and latest: latency percentiles on SQLite and PostgreSQL.

Run: `make bench`, or `pytest tests/benchmarks/bench_search.py -s -o addopts=""`.
Env: BENCH_SIZES (comma list, default "100000"; "100000,1000000" adds 1M, whose first
build took 28 (SQLite) and 38 (PostgreSQL) minutes on the shared 2-core machine, 2.2-2.4 GB
each; cached after), BENCH_BACKENDS (default
"sqlite,postgres"), BENCH_RUNS (timed calls per class and repeat, default 100),
BENCH_REPEATS (default 3), BENCH_CACHE (where SQLite files are cached, default ./.bench),
TEST_POSTGRES_URL (admin URL).
The databases are filled the product's way (benchdb: store_articles in poll-sized
transactions, so only the upkeep the store itself does) and cached between runs.
Each class is timed BENCH_REPEATS times; the table shows the median of the repeats and the
spread of p95, and the test FAILS when a class's median p95 misses its target.
Baseline, measured in the same run: a LIKE '%…%' scan over the folded columns (what search
would cost without an index), stopping at COUNT_CAP + 1 matches as search does.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from benchdb import postgres_db, sqlite_db
from generator import date_span
from sqlalchemy import text
from sqlalchemy.engine import Engine

from storage.db import make_engine, session_scope
from storage.lookup import articles_between, latest
from storage.search import COUNT_CAP, search

SIZES = [int(s) for s in os.environ.get("BENCH_SIZES", "100000").split(",") if s.strip()]
BACKENDS = os.environ.get("BENCH_BACKENDS", "sqlite,postgres").split(",")
RUNS = int(os.environ.get("BENCH_RUNS", "100"))
REPEATS = int(os.environ.get("BENCH_REPEATS", "3"))
BASELINE_RUNS = 3

QUERIES = {
    "rare word": ["Lăng", "bạch", "Mây", "giang"],
    "common word": ["hội", "nghị", "tỉnh", "dân"],
    "two words": ["nghị quyết", "tỉnh ủy", "du lịch", "lễ hội"],
    "phrase": ['"quy chế dân chủ"', '"cải cách hành chính"', '"phòng chống thiên tai"'],
    "no-diacritics phrase": ["quy che dan chu", "cai cach hanh chinh", "bao ve moi truong"],
}
CLASSES = [*QUERIES, "date", "latest"]
# p95 targets in ms (the issue's): every class, both databases.
TARGET_MS = {100_000: 20.0, 1_000_000: 50.0}
BASELINE_FOR = {"rare word": "lang", "common word": "hoi", "phrase": "quy che dan chu"}


def _ms(fn: Callable[[Any], object], args: list[Any], runs: int) -> list[float]:
    for a in args:  # warm the caches once per argument, as a running bot has them
        fn(a)
    out = []
    for i in range(runs):
        start = time.perf_counter()
        fn(args[i % len(args)])
        out.append((time.perf_counter() - start) * 1000)
    return out


def _pct(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1]


Row = tuple[str, list[list[float]], int, float | None]


def _measure(engine: Engine, n: int) -> list[Row]:
    """(class, timings ms per repeat, matches of the first query, LIKE baseline p50 ms)."""
    now = datetime(2024, 1, 1, tzinfo=UTC)

    def run_search(q: str) -> int:
        with session_scope(engine) as s:
            return search(s, query=q, now=now).total

    def like(pattern: str) -> int:
        sql = (
            "SELECT count(*) FROM (SELECT 1 FROM articles"
            " WHERE title_folded LIKE :p OR body_folded LIKE :p LIMIT :cap) AS m"
        )
        with engine.connect() as conn:
            found = conn.execute(text(sql), {"p": f"%{pattern}%", "cap": COUNT_CAP + 1})
            return int(found.scalar_one())

    first, last = date_span(n)
    days = [first + timedelta(days=(i * 7919) % (last - first).days) for i in range(50)]

    def by_day(day: date) -> int:
        with session_scope(engine) as s:
            return articles_between(s, start=day, end=day).total

    def newest(source: str | None) -> int:
        with session_scope(engine) as s:
            return len(latest(s, n=10, source=source))

    calls: dict[str, tuple[Callable[[Any], int], list[Any]]] = {
        name: (run_search, queries) for name, queries in QUERIES.items()
    }
    calls["date"] = (by_day, days)
    calls["latest"] = (newest, [None, None, None, "dangbo"])
    times: dict[str, list[list[float]]] = {name: [] for name in calls}
    for _ in range(REPEATS):  # repeats interleave classes, so a busy minute hits them all
        for name, (fn, args) in calls.items():
            times[name].append(_ms(fn, args, RUNS))
    rows: list[Row] = []
    for name, (fn, args) in calls.items():
        base = None
        if name in BASELINE_FOR:
            base = statistics.median(_ms(like, [BASELINE_FOR[name]], BASELINE_RUNS))
        rows.append((name, times[name], fn(args[0]), base))
    return rows


def _load_average() -> str:
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def _print(backend: str, n: int, info: dict[str, str], rows: list[Row]) -> list[str]:
    target = TARGET_MS.get(n)
    print(f"\n== search: {backend}, {n:,} articles, {REPEATS} x {RUNS} calls per class ==")
    for k, v in info.items():
        print(f"   {k}: {v}")
    print(f"   load average during the run: {_load_average()}")
    head = f"{'class':<22}{'p50':>7}{'p95':>7}{'p99':>7}{'p95 spread':>14}{'matches':>9}"
    print(head + f"{'LIKE p50':>10}{'target':>12}")
    misses = []
    for name, repeats, matches, base in rows:
        p50 = statistics.median(_pct(t, 50) for t in repeats)
        p95s = sorted(_pct(t, 95) for t in repeats)
        p95 = statistics.median(p95s)
        p99 = statistics.median(_pct(t, 99) for t in repeats)
        mark = "-" if target is None else f"{target:.0f} {'ok' if p95 <= target else 'MISS'}"
        if target is not None and p95 > target:
            misses.append(f"{backend} {n:,} {name}: median p95 {p95:.1f} ms > {target:.0f}")
        spread = f"{p95s[0]:.1f}-{p95s[-1]:.1f}"
        base_txt = "-" if base is None else f"{base:.0f}"
        print(
            f"{name:<22}{p50:>7.1f}{p95:>7.1f}{p99:>7.1f}{spread:>14}{matches:>9}"
            f"{base_txt:>10}{mark:>12}"
        )
    return misses


def _engines(n: int) -> Iterator[tuple[str, Engine, dict[str, str]]]:
    if "sqlite" in BACKENDS:
        path, took = sqlite_db(n)
        info = {"database": f"{path.name}, {path.stat().st_size / 2**20:.0f} MiB"}
        if took is not None:
            info["filled through store_articles in"] = f"{took:.0f} s"
        engine = make_engine(f"sqlite:///{path}")
        try:
            yield "sqlite", engine, info
        finally:
            engine.dispose()
    if "postgres" in BACKENDS:
        try:
            url, took = postgres_db(n)
        except Exception as exc:  # an absent server skips this backend, not the benchmark
            print(f"\n== PostgreSQL skipped: {type(exc).__name__}: {str(exc).splitlines()[0]}")
            return
        engine = make_engine(url)
        with engine.connect() as conn:
            size = conn.execute(text("SELECT pg_database_size(current_database())")).scalar()
        info = {"database": f"{url.rsplit('/', 1)[-1]}, {(size or 0) / 2**20:.0f} MiB"}
        if took is not None:
            info["filled through store_articles in"] = f"{took:.0f} s"
        try:
            yield "postgresql", engine, info
        finally:
            engine.dispose()


@pytest.mark.timeout(0)
def test_search_benchmark() -> None:
    misses: list[str] = []
    for n in SIZES:
        for backend, engine, info in _engines(n):
            started = time.perf_counter()
            rows = _measure(engine, n)
            misses += _print(backend, n, info, rows)
            print(f"   measured in {time.perf_counter() - started:.0f} s")
            counts = {name: matches for name, _, matches, _ in rows}
            assert counts["rare word"] > 0 and counts["latest"] == 10
            assert counts["phrase"] <= counts["no-diacritics phrase"]
    print("\nTargets missed (median of the repeats):" if misses else "\nAll p95 targets met.")
    for m in misses:
        print("  " + m)
    assert not misses, misses
