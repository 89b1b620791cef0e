"""The OA client and the token keeper against the fake Zalo OA + OAuth server, on both databases."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.zalo.oa_client import OAButton, ZaloOAClient
from bot.zalo.results import Kind
from bot.zalo.tokens import ConfigurationAlarm, TokenKeeper
from storage.db import make_engine, session_scope, upgrade
from storage.models import ZaloToken
from tests.fakes.zalo_oa import WINDOW, FakeZaloOA


class Clock:
    """One settable clock for the fake (epoch seconds) and the keeper (aware datetime)."""

    def __init__(self) -> None:
        self.now = 1_764_000_000.0

    def epoch(self) -> float:
        return self.now

    def dt(self) -> datetime:
        return datetime.fromtimestamp(self.now, UTC)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def fake(clock: Clock) -> Iterator[FakeZaloOA]:
    with FakeZaloOA(clock=clock.epoch, per_minute=5) as f:
        yield f


@pytest.fixture
async def client(fake: FakeZaloOA) -> AsyncIterator[ZaloOAClient]:
    c = ZaloOAClient(api_url=fake.url)
    yield c
    await c.aclose()


def keeper(engine: Engine, fake: FakeZaloOA, clock: Clock, first: str | None) -> TokenKeeper:
    k = TokenKeeper(
        engine,
        app_id=fake.app_id,
        app_secret=fake.app_secret,
        oauth_url=fake.url,
        first_refresh_token=first,
        clock=clock.dt,
    )
    k.seed()
    return k


async def test_send_text_with_buttons_and_each_error_code(
    sqlite_engine: Engine, fake: FakeZaloOA, client: ZaloOAClient, clock: Clock
) -> None:
    token = await keeper(sqlite_engine, fake, clock, fake.issue_refresh_token()).access_token()
    fake.follow("u1")
    sent = await client.send_text(token, "u1", "Xin chào", [OAButton("Trang sau", "s:2:x")])
    assert sent.kind is Kind.SENT and len(sent.message_id) == 32
    assert fake.sent[0].buttons == [
        {"title": "Trang sau", "type": "oa.query.hide", "payload": "s:2:x"}
    ]
    assert (await client.send_text(token, "nobody", "x")).kind is Kind.GONE  # -213
    fake.follow("old", interacted_at=clock.now - WINDOW - 1)
    outside = await client.send_text(token, "old", "x")
    assert (outside.kind, outside.code) == (Kind.GONE, -230)
    assert "7-day" in outside.reason
    assert (await client.send_text("at-unknown", "u1", "x")).kind is Kind.TOKEN  # -216
    assert (await client.send_text(token, "u1", "x" * 2001)).kind is Kind.PERMANENT  # -201
    for code, kind in [(-32, Kind.RETRY_AFTER), (-211, Kind.QUOTA), (-220, Kind.TOKEN)]:
        fake.fail_next(code)
        result = await client.send_text(token, "u1", "x")
        assert (result.kind, result.code) == (kind, code)


async def test_the_fake_enforces_its_rate_and_quota(
    sqlite_engine: Engine, fake: FakeZaloOA, client: ZaloOAClient, clock: Clock
) -> None:
    token = await keeper(sqlite_engine, fake, clock, fake.issue_refresh_token()).access_token()
    fake.follow("u1")
    kinds = [(await client.send_text(token, "u1", str(i))).kind for i in range(6)]
    assert kinds == [Kind.SENT] * 5 + [Kind.RETRY_AFTER]  # per_minute=5
    fake.per_minute, fake.quota = 100, 1
    kinds = [(await client.send_text(token, "u1", str(i))).kind for i in range(2)]
    assert kinds == [Kind.SENT, Kind.QUOTA]


async def test_tokens_refresh_before_expiry_and_when_refused(
    engine: Engine, fake: FakeZaloOA, client: ZaloOAClient, clock: Clock
) -> None:
    first = fake.issue_refresh_token()
    k = keeper(engine, fake, clock, first)
    token = await k.access_token()
    assert fake.refresh_calls == 1 and first not in fake.live_refresh_tokens()
    assert await k.access_token() == token and fake.refresh_calls == 1  # still fresh
    clock.now += 90_000 - 300  # inside the margin before expiry: refreshed ahead of time
    second = await k.access_token()
    assert second != token and fake.refresh_calls == 2
    fake.expire_access_tokens()  # Zalo removed it early: -220, then one refresh
    fake.follow("u1")
    assert (await client.send_text(second, "u1", "x")).kind is Kind.TOKEN
    third = await k.refresh(stale=second)
    assert (await client.send_text(third, "u1", "x")).kind is Kind.SENT
    assert await k.refresh(stale=second) == third  # someone else's refresh is reused
    assert fake.refresh_calls == 3
    with session_scope(engine) as s:
        rows = s.exec(select(ZaloToken).order_by(ZaloToken.id)).all()  # type: ignore[arg-type]
    assert [r.used_at is None for r in rows] == [False, False, False, True]
    assert rows[-1].refresh_token in fake.live_refresh_tokens()


async def test_a_refused_refresh_raises_the_alarm_until_a_new_token_is_configured(
    engine: Engine, fake: FakeZaloOA, clock: Clock
) -> None:
    spent = fake.issue_refresh_token()
    fake.refresh_tokens[spent] = (fake.refresh_tokens[spent][0], True)  # used elsewhere
    k = keeper(engine, fake, clock, spent)
    with pytest.raises(ConfigurationAlarm, match="-14014"):
        await k.access_token()
    assert "Invalid refresh token" in (k.alarm() or "")
    calls = fake.refresh_calls
    with pytest.raises(ConfigurationAlarm):
        await k.access_token()
    assert fake.refresh_calls == calls  # the alarm stands: no more spent calls
    k2 = keeper(engine, fake, clock, fake.issue_refresh_token())  # the admin's new token
    assert (await k2.access_token()).startswith("at-") and k2.alarm() is None


def test_two_refreshes_never_race(db_url: str, fake: FakeZaloOA, clock: Clock) -> None:
    setup = make_engine(db_url)
    upgrade(setup)
    keeper(setup, fake, clock, fake.issue_refresh_token())
    engines = [make_engine(db_url) for _ in range(2)]  # two "replicas"
    keepers = [keeper(e, fake, clock, None) for e in engines]
    fake.hold_refresh()
    got: list[str] = []
    threads = [threading.Thread(target=lambda k=k: got.append(k.current_sync())) for k in keepers]
    threads[0].start()
    assert fake.refresh_arrived.wait(10)
    threads[1].start()  # waits on the database lock while the first refresh is held
    # Without the lock the second replica would spend the same refresh token right now.
    assert not fake.server.wait_for("/v4/oa/access_token", count=2, timeout=1.0)
    fake.release_refresh()
    for th in threads:
        th.join(20)
    assert len(got) == 2 and got[0] == got[1]
    assert fake.refresh_calls == 1
    for e in [setup, *engines]:
        e.dispose()
