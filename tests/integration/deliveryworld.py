"""Shared set-up for delivery tests and benchmarks: chats, articles, clocks, queue counts."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select
from sqlalchemy.engine import Engine

from jobs.delivery.enqueue import make_on_stored
from jobs.delivery.match import MatcherCache
from storage.articles import StoreResult
from storage.db import session_scope
from storage.deliveries import DELIVERIES
from storage.models import Article, Chat, Subscription

VN = ZoneInfo("Asia/Ho_Chi_Minh")
CHATS: Any = Chat.__table__  # type: ignore[attr-defined]
SUBS: Any = Subscription.__table__  # type: ignore[attr-defined]


@dataclass
class Clock:
    """An injected wall clock that tests move by hand."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def local(self, day: int, hour: int, minute: int = 0) -> datetime:
        """Set the clock to a local time in Hue on 2026-11-<day>; return it."""
        self.now = datetime(2026, 11, day, hour, minute, tzinfo=VN).astimezone(UTC)
        return self.now

    def advance(self, seconds: float) -> datetime:
        """Move the clock forward."""
        self.now += timedelta(seconds=seconds)
        return self.now


def seed_chats(
    engine: Engine, n: int, *, topic: str = "", first_ext: int = 1000, **chat: Any
) -> list[int]:
    """n Telegram chats (external ids first_ext..) each subscribed to `topic`; their row ids."""
    from storage.text import fold_words

    rows = [{"platform": "telegram", "external_id": str(first_ext + i), "kind": "private",
             "title": "", "active": True, "digest_mode": "instant", "language": None,
             "created_at": datetime.now(UTC), **chat} for i in range(n)]  # fmt: skip
    with session_scope(engine) as session:
        for start in range(0, n, 1000):
            session.execute(insert(CHATS), rows[start : start + 1000])
        exts = [r["external_id"] for r in rows]
        ids = [
            cid
            for start in range(0, n, 1000)
            for cid in session.execute(
                select(CHATS.c.id).where(CHATS.c.external_id.in_(exts[start : start + 1000]))
            ).scalars()
        ]
        subs = [{"chat_id": cid, "topic": topic, "topic_folded": fold_words(topic),
                 "created_at": datetime.now(UTC)} for cid in ids]  # fmt: skip
        for start in range(0, len(subs), 1000):
            session.execute(insert(SUBS), subs[start : start + 1000])
    return sorted(ids)


def publish(
    engine: Engine,
    title: str,
    *,
    now: datetime,
    body: str = "Nội dung bài viết. Câu thứ hai của bài.",
    key: str | None = None,
    cache: MatcherCache | None = None,
) -> Article:
    """Store a new article and run the poll's enqueue hook in the same transaction."""
    hook = make_on_stored(tz=VN, cache=cache, clock=lambda: now)
    with session_scope(engine) as session:
        art = Article(
            key=key or title,
            source="test",
            url=f"https://thuathienhue.gov.vn/tin/{abs(hash(key or title))}",
            title=title,
            summary="",
            body=body,
            published_at=now,
            content_hash=str(hash(body)),
        )
        session.add(art)
        session.flush()
        hook(session, StoreResult(new=[art]))
    return art


def states(engine: Engine) -> Counter[str]:
    """How many delivery rows are in each state."""
    with session_scope(engine) as session:
        return Counter(session.execute(select(DELIVERIES.c.state)).scalars())


def delivery_rows(engine: Engine) -> list[dict[str, Any]]:
    """Every delivery row as a dict, by id."""
    with session_scope(engine) as session:
        result = session.execute(select(DELIVERIES).order_by(DELIVERIES.c.id))
        return [dict(row._mapping) for row in result]


ROOT = Path(__file__).resolve().parents[2]


def start_dispatcher_process(
    db_url: str,
    *,
    api_url: str,
    token: str,
    workdir: Path,
    owner: str,
    window: int,
    rate: float = 25.0,
    lease_seconds: float = 60.0,
) -> subprocess.Popen[bytes]:
    """`python -m bot.worker` as a real child process (its log goes to workdir)."""
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": db_url,
        "TELEGRAM_API_URL": api_url,
        "TELEGRAM_BOT_TOKEN": token,
        "TELEGRAM_GLOBAL_RATE": str(rate),
        "LOG_LEVEL": "INFO",
    }
    args = ["--owner", owner, "--window", str(window), "--idle-poll", "0.2"]
    args += ["--lease-seconds", str(lease_seconds)]
    # cwd is the scratch folder so no developer .env is read by the child.
    with (workdir / f"dispatch-{owner}.log").open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "bot.worker", *args],
            cwd=workdir,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def wait_for_db(check: Callable[[], bool], timeout: float, every: float = 0.05) -> None:
    """Poll a database condition (rows change without any event a test could await)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"database condition not met within {timeout} s")
        time.sleep(every)


def db_url_of(engine: Engine) -> str:
    """The engine's URL with its password, for a child process."""
    return engine.url.render_as_string(hide_password=False)
