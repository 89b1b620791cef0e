"""Publication to push: from the fake portal publishing an article to the fake Bot API
accepting the alert, through the real service (`portal-notifier run`).

Run: `pytest tests/benchmarks/bench_push.py -s -o addopts=""` (part of `make bench`).
Env: BENCH_PUSH_CHATS (default 100), BENCH_PUSH_ARTICLES (publications, default 6).
The service polls the fake portal every INTERVAL seconds and sends at the default 25/s;
each article is published at a random moment of the polling cycle, after the previous
one reached every chat. Expected: the poll finds an article interval/2 after it appears
on average, then the fan-out takes chats / rate. Target: the median latency over every
(article, chat) pair at most interval / 2 + fan-out time; the table shows the parts.
"""

from __future__ import annotations

import os
import random
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from servicerun import running_service, wait_until
from sqlalchemy import func, select

from storage.db import make_engine, session_scope, upgrade
from storage.models import Article
from tests.integration.deliveryworld import seed_chats

CHATS = int(os.environ.get("BENCH_PUSH_CHATS", "100"))
PUBLICATIONS = int(os.environ.get("BENCH_PUSH_ARTICLES", "6"))
INTERVAL = 30
RATE = 25.0
SEED = 12


@pytest.mark.timeout(0)
def test_publication_to_push(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'push.db'}"
    engine = make_engine(url)
    upgrade(engine)
    seed_chats(engine, CHATS, topic="")

    def stored() -> int:
        with session_scope(engine) as s:
            return int(s.execute(select(func.count()).select_from(Article)).scalar_one())

    rng = random.Random(SEED)
    latencies: list[float] = []
    found_after: list[float] = []
    fan_outs: list[float] = []
    with running_service(tmp_path, url, interval=INTERVAL, rate=RATE) as svc:
        wait_until(lambda: stored() >= 6, 120, every=0.2)  # the baseline poll
        for i in range(PUBLICATIONS):
            time.sleep(rng.uniform(0, INTERVAL))  # a random moment of the polling cycle
            title = f"Thông báo số {i + 1} về phòng chống thiên tai"
            published = time.monotonic()
            # Dated now: the fake's own dates can tie and push a new article past page 2.
            svc.site.add_article(title=title, published=datetime.now(UTC))

            def arrived() -> list[float]:
                return [m.at for m in svc.fake.sent]

            goal = (i + 1) * CHATS  # every alert so far: one per chat per article
            wait_until(lambda g=goal: len(arrived()) >= g, INTERVAL + CHATS / RATE * 3 + 60, 0.1)
            times = sorted(arrived())[i * CHATS : goal]
            latencies += [t - published for t in times]
            found_after.append(times[0] - published)
            fan_outs.append(times[-1] - times[0])
        throttled = sum(1 for _, status in svc.fake.calls if status == 429)
    engine.dispose()
    fan_out = CHATS / RATE
    target = INTERVAL / 2 + fan_out
    median = statistics.median(latencies)
    print(f"\n== publication to push: {PUBLICATIONS} articles x {CHATS} chats, poll every "
          f"{INTERVAL} s, {RATE:.0f}/s ==")  # fmt: skip
    with open("/proc/loadavg") as f:
        print(f"   load average at the end: {' '.join(f.read().split()[:3])}")
    rows = [
        ("expected: interval / 2 (mean wait for the poll)", INTERVAL / 2),
        ("expected: fan-out time (chats / rate)", fan_out),
        ("measured: publication to first push, median", statistics.median(found_after)),
        ("measured: first to last push, median", statistics.median(fan_outs)),
        ("measured: publication to push, median of all", median),
        ("measured: publication to push, max", max(latencies)),
        ("target: median <= interval / 2 + fan-out", target),
    ]
    for what, seconds in rows:
        print(f"{what:<52}{seconds:>8.1f} s")
    print(f"   429s: {throttled}")
    assert len(latencies) == PUBLICATIONS * CHATS
    assert median <= target, f"median {median:.1f} s > {target:.1f} s"
