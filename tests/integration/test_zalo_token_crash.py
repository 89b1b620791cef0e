"""kill -9 during an OA token refresh loses no token (a real child process, both databases)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from bot.zalo.tokens import TokenKeeper
from storage import zalo_tokens
from storage.db import session_scope
from tests.fakes.zalo_oa import FakeZaloOA

ROOT = Path(__file__).resolve().parents[2]
CHILD = """
import os, sys
from bot.zalo.tokens import TokenKeeper
from storage.db import make_engine
keeper = TokenKeeper(make_engine(os.environ["DB"]), app_id=os.environ["APP"],
                     app_secret=os.environ["SECRET"], oauth_url=os.environ["OAUTH"])
print(keeper.current_sync(), flush=True)
sys.stdin.readline()  # wait here until killed
"""


@pytest.fixture
def fake() -> Iterator[FakeZaloOA]:
    with FakeZaloOA() as f:
        yield f


def _child(db_url: str, fake: FakeZaloOA) -> subprocess.Popen[str]:
    env = os.environ | {
        "DB": db_url, "APP": fake.app_id, "SECRET": fake.app_secret, "OAUTH": fake.url,
    }  # fmt: skip
    return subprocess.Popen(
        [sys.executable, "-c", CHILD],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def _kill(child: subprocess.Popen[str]) -> None:
    os.kill(child.pid, signal.SIGKILL)
    child.wait(10)
    for stream in (child.stdin, child.stdout):
        if stream is not None:
            stream.close()


def _live(engine: Engine, fake: FakeZaloOA) -> zalo_tokens.TokenPair:
    with session_scope(engine) as s:
        pair = zalo_tokens.live(s, app_id=fake.app_id)
    assert pair is not None
    return pair


def _keeper(engine: Engine, fake: FakeZaloOA, first: str | None = None) -> TokenKeeper:
    k = TokenKeeper(
        engine,
        app_id=fake.app_id,
        app_secret=fake.app_secret,
        oauth_url=fake.url,
        first_refresh_token=first,
    )
    k.seed()
    return k


def test_kill_while_zalo_holds_the_refresh(db_url: str, engine: Engine, fake: FakeZaloOA) -> None:
    first = fake.issue_refresh_token()
    _keeper(engine, fake, first)
    fake.hold_refresh()
    child = _child(db_url, fake)
    try:
        assert fake.refresh_arrived.wait(30), "the child never reached Zalo"
    finally:
        _kill(child)  # mid-exchange, inside its database transaction and lock
    fake.release_refresh(answer=False)  # the request dies unanswered: nothing spent
    pair = _live(engine, fake)
    assert pair.refresh_token == first and pair.access_token is None
    token = _keeper(engine, fake).current_sync()  # the lock died with the child
    assert token in fake.access_tokens and _live(engine, fake).access_token == token


def test_kill_right_after_the_refresh(db_url: str, engine: Engine, fake: FakeZaloOA) -> None:
    _keeper(engine, fake, fake.issue_refresh_token())
    child = _child(db_url, fake)
    try:
        assert child.stdout is not None
        printed = child.stdout.readline().strip()
    finally:
        _kill(child)
    pair = _live(engine, fake)
    assert printed.startswith("at-") and pair.access_token == printed  # stored before used
    assert fake.live_refresh_tokens() == [pair.refresh_token]  # the one Zalo still honours
    fake.expire_access_tokens()
    k = _keeper(engine, fake)
    assert k.refresh_sync(stale=printed) != printed and fake.refresh_calls == 2
