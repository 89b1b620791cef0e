"""Resident memory of the whole service during a 10,000-chat fan-out and commands.

Run: `pytest tests/benchmarks/bench_memory.py -s -o addopts=""` (part of `make bench`).
Env: BENCH_MEMORY_ARTICLES (default 100000), BENCH_MEMORY_CHATS (default 10000),
BENCH_MEMORY_RATE (sends per second the service is configured for, default 100 so the
fan-out takes about 100 s; the fake Bot API's global limit is raised to match).
The real `portal-notifier run` process (tests/benchmarks/servicerun.py) serves a SQLite
database of generated articles (filled through the store, then copied), polls a fake
portal every 30 s, and pushes one new article to every subscribed chat through the fake
Bot API; a user sends a command every COMMAND_EVERY seconds meanwhile. /proc/<pid>/status
is sampled throughout. Baselines in the same run: a bare interpreter and the service's
imports alone. Target: VmHWM (the peak) at most TARGET_MB decimal megabytes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from benchdb import sqlite_db
from servicerun import ROOT, running_service, wait_until
from sqlalchemy import func, select

from storage.db import make_engine, session_scope
from storage.models import Article
from tests.integration.deliveryworld import seed_chats, states

N_ARTICLES = int(os.environ.get("BENCH_MEMORY_ARTICLES", "100000"))
CHATS = int(os.environ.get("BENCH_MEMORY_CHATS", "10000"))
RATE = float(os.environ.get("BENCH_MEMORY_RATE", "100"))
TARGET_MB = 120.0
COMMAND_EVERY = 2.0
SAMPLE_EVERY = 0.5
INTERVAL = 30
USER = 777_000_001
ALERT_TITLE = "Thông báo khẩn về phòng chống thiên tai"
COMMANDS = ["/latest 10", "/search quy chế dân chủ", "/search hội nghị", "/date 16/12/2015"]
IMPORTS = (
    "import bot.cli, bot.service, bot.channels, bot.telegram.channel, jobs.delivery.dispatcher"
)


def _hwm_of(code: str) -> float:
    """VmHWM in MB (decimal) of a fresh interpreter that runs `code`."""
    probe = (
        code
        + "\nimport re;print(re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read())[1])"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return int(out.stdout.split()[-1]) * 1024 / 1e6


def _mb(kb: int) -> float:
    return kb * 1024 / 1e6


@pytest.mark.timeout(0)
def test_memory_during_fan_out(tmp_path: Path) -> None:
    bare, imports = _hwm_of("pass"), _hwm_of(IMPORTS)
    cached, _ = sqlite_db(N_ARTICLES)
    db = tmp_path / "service.db"
    shutil.copyfile(cached, db)
    url = f"sqlite:///{db}"
    engine = make_engine(url)
    seed_chats(engine, CHATS, topic="")

    def stored() -> int:
        with session_scope(engine) as s:
            return int(s.execute(select(func.count()).select_from(Article)).scalar_one())

    samples: list[tuple[float, int, int, int]] = []  # (t, VmRSS kB, VmHWM kB, threads)
    with running_service(tmp_path, url, interval=INTERVAL, rate=RATE) as svc:
        fake = svc.fake
        wait_until(lambda: stored() >= N_ARTICLES + 6, 120, every=0.5)  # the baseline poll
        started = time.monotonic()
        idle = (svc.status("VmRSS"), svc.status("VmHWM"), svc.status("Threads"))
        svc.site.add_article(
            title="Thông báo khẩn về phòng chống thiên tai", published=datetime.now(UTC)
        )
        next_command = started
        sent_commands = 0
        deadline = started + INTERVAL + CHATS / RATE * 2 + 120
        while True:
            now = time.monotonic()
            assert svc.alive(), svc.log.read_text()[-2000:]
            samples.append((now - started, svc.status("VmRSS"), svc.status("VmHWM"),
                            svc.status("Threads")))  # fmt: skip
            if now >= next_command:
                fake.push_message(USER, COMMANDS[sent_commands % len(COMMANDS)])
                sent_commands += 1
                next_command += COMMAND_EVERY
            alerts = sum(1 for m in fake.sent if m.chat_id != USER)
            if alerts >= CHATS or now > deadline:
                break
            time.sleep(SAMPLE_EVERY)
        fan_out = time.monotonic() - started
        replies = len(fake.messages_to(USER))
        peak = svc.status("VmHWM")
        throttled = sum(1 for _, status in fake.calls if status == 429)
    counts = states(engine)
    engine.dispose()
    rss_max = max(s[1] for s in samples)
    threads = max(s[3] for s in samples)
    print(f"\n== memory: portal-notifier run, {N_ARTICLES:,} articles, {CHATS:,} chats, "
          f"{RATE:.0f}/s, a command every {COMMAND_EVERY:.0f} s ==")  # fmt: skip
    with open("/proc/loadavg") as f:
        print(f"   load average at the end: {' '.join(f.read().split()[:3])}")
    print(f"{'what':<48}{'MB':>8}")
    for what, mb in [
        ("baseline: bare interpreter (VmHWM)", bare),
        ("baseline: the service's imports alone (VmHWM)", imports),
        ("service idle after start and first poll (VmRSS)", _mb(idle[0])),
        ("service during the fan-out: max VmRSS", _mb(rss_max)),
        ("service peak, VmHWM", _mb(peak)),
    ]:
        print(f"{what:<48}{mb:>8.1f}")
    print(f"   threads: {idle[2]} idle, {threads} at most; fan-out {fan_out:.0f} s; "
          f"alerts sent {counts.get('sent', 0)}, commands {sent_commands}, replies {replies}, "
          f"429s {throttled}")  # fmt: skip
    assert counts.get("sent", 0) == CHATS, counts
    assert replies >= sent_commands - 1, (replies, sent_commands)
    assert _mb(peak) <= TARGET_MB, f"VmHWM {_mb(peak):.1f} MB > {TARGET_MB} MB"
