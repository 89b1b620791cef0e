"""kill -9 a real dispatcher process mid-run: nothing lost, duplicates bounded by the window."""

from __future__ import annotations

import signal
import subprocess
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from storage.types import utcnow
from tests.fakes.telegram_api import FakeTelegram
from tests.integration.deliveryworld import (
    db_url_of,
    publish,
    seed_chats,
    start_dispatcher_process,
    states,
    wait_for_db,
)

CHATS = 60
WINDOW = 4
EXIT_WAIT = 30.0  # seconds a stopped process gets to exit
ALL_SENT_WAIT = 60.0


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram() as server:
        yield server


def run(
    engine: Engine, fake: FakeTelegram, tmp_path: Path, owner: str, *, lease: float
) -> subprocess.Popen[bytes]:
    """A dispatcher process on the test database, sending to the fake."""
    return start_dispatcher_process(
        db_url_of(engine), api_url=fake.url, token=fake.token, workdir=tmp_path, owner=owner,
        window=WINDOW, lease_seconds=lease,
    )  # fmt: skip


@pytest.mark.parametrize("same_owner", [True, False])
def test_kill_9_mid_fanout_loses_nothing(
    engine: Engine, fake: FakeTelegram, tmp_path: Path, same_owner: bool
) -> None:
    seed_chats(engine, CHATS)
    publish(engine, "Thông báo khẩn", now=utcnow())
    first = run(engine, fake, tmp_path, "replica-1", lease=3)
    try:
        fake.wait_for_messages(CHATS // 3, timeout=ALL_SENT_WAIT)
    finally:
        first.send_signal(signal.SIGKILL)
        assert first.wait(EXIT_WAIT) == -signal.SIGKILL
    before = len(fake.sent)
    assert 0 < before < CHATS  # really killed mid-run
    # Restarted under the same name it takes its rows back at once; under another name,
    # the dead worker's rows return when their lease expires.
    second = run(engine, fake, tmp_path, "replica-1" if same_owner else "replica-2", lease=3)
    try:
        fake.wait_until(lambda: len({m.chat_id for m in fake.state.sent}) == CHATS, ALL_SENT_WAIT)
        wait_for_db(lambda: states(engine) == {"sent": CHATS}, ALL_SENT_WAIT)
    finally:
        second.send_signal(signal.SIGTERM)
        assert second.wait(EXIT_WAIT) == 0  # a graceful stop
    per_chat = Counter(m.chat_id for m in fake.sent)
    lost = CHATS - len(per_chat)
    duplicated = sum(n - 1 for n in per_chat.values())
    assert lost == 0
    assert duplicated <= WINDOW
