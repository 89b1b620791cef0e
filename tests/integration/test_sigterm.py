"""SIGTERM to `portal-notifier run` during a broadcast: it stops within a bound, loses nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from storage import broadcasts
from storage.chats import broadcast_recipients
from storage.db import session_scope
from storage.types import utcnow
from tests.fakes.telegram_api import FakeTelegram
from tests.integration.deliveryworld import db_url_of, seed_chats, states, wait_for_db

CHATS = 150
STOP_BOUND = 40.0  # seconds: the dispatcher drains in-flight sends for at most 35
ALL_SENT_WAIT = 120.0  # a bound, not a sleep: a loaded machine starts the service slowly
SCRIPT = Path(sys.executable).with_name("portal-notifier")


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram() as server:
        yield server


def service(engine: Engine, fake: FakeTelegram, tmp_path: Path) -> subprocess.Popen[bytes]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "DATABASE_URL": db_url_of(engine),
        "SOURCES_FILE": str(tmp_path / "none.toml"),  # no polling: no network in tests
        "TELEGRAM_BOT_TOKEN": fake.token,
        "TELEGRAM_API_URL": fake.url,
        "TELEGRAM_GLOBAL_RATE": "20",
        "LISTEN_PORT": "0",
        "LOG_LEVEL": "INFO",
    }
    command = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "bot.cli"]
    with (tmp_path / "service.log").open("ab") as log:
        return subprocess.Popen(
            [*command, "run"], cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT
        )


def test_sigterm_during_a_broadcast_loses_nothing(
    engine: Engine, fake: FakeTelegram, tmp_path: Path
) -> None:
    seed_chats(engine, CHATS)
    with session_scope(engine) as s:
        recipients = broadcast_recipients(s, platforms=("telegram",))
        row = broadcasts.draft(
            s, text="Họp khẩn", topic=None, author="t:1", author_chat_id=recipients[0],
            audience=len(recipients), now=utcnow(),
        )  # fmt: skip
        assert broadcasts.confirm(s, broadcast_id=row.id or 0, recipients=recipients, now=utcnow())
    first = service(engine, fake, tmp_path)
    try:
        fake.wait_for_messages(CHATS // 4, timeout=ALL_SENT_WAIT)
    finally:
        first.send_signal(signal.SIGTERM)
        started = time.monotonic()
        code = first.wait(STOP_BOUND)
        stopped_in = time.monotonic() - started
    log = (tmp_path / "service.log").read_text()
    assert code == 0, log
    assert stopped_in < STOP_BOUND and "Traceback" not in log
    done = states(engine)
    assert done["sending"] == 0  # in-flight sends finished or were released
    assert 0 < done["sent"] < CHATS and done["sent"] + done["pending"] == CHATS
    assert done["sent"] == len(fake.sent)  # every accepted message was recorded
    second = service(engine, fake, tmp_path)
    try:
        wait_for_db(lambda: states(engine) == {"sent": CHATS}, ALL_SENT_WAIT)
    finally:
        second.send_signal(signal.SIGTERM)
        assert second.wait(STOP_BOUND) == 0
    per_chat = Counter(m.chat_id for m in fake.sent)
    assert len(per_chat) == CHATS and max(per_chat.values()) == 1  # none lost, none twice
    print(f"\nSIGTERM during a broadcast: stopped in {stopped_in:.2f} s")
