"""The fake Bot API: Telegram's sending limits, window statistics and injected faults."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import httpx
import pytest
import telegram
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter

from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.telegram_testing import ManualClock


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram() as server:
        yield server
        assert server.errors == []


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def timed_fake(clock: ManualClock) -> Iterator[FakeTelegram]:
    with FakeTelegram(clock=clock) as server:
        yield server


# ----- sending limits ---------------------------------------------------------------------------
def test_second_message_to_a_private_chat_within_a_second_is_429(
    timed_fake: FakeTelegram, clock: ManualClock
) -> None:
    assert timed_fake.call_api("sendMessage", chat_id=42, text="1").status_code == 200
    clock.now += 0.5
    resp = timed_fake.call_api("sendMessage", chat_id=42, text="2")
    assert resp.status_code == 429
    assert resp.json() == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 1",
        "parameters": {"retry_after": 1},
    }
    assert timed_fake.count_429 == 1
    assert timed_fake.texts_to(42) == ["1"]
    clock.now += 0.5
    assert timed_fake.call_api("sendMessage", chat_id=42, text="3").status_code == 200
    assert timed_fake.max_per_window(1.0, chat_id=42) == 1


def test_private_burst_is_configurable(timed_fake: FakeTelegram, clock: ManualClock) -> None:
    timed_fake.limits.private_burst = 3
    codes = [
        timed_fake.call_api("sendMessage", chat_id=42, text=str(i)).status_code for i in range(4)
    ]
    assert codes == [200, 200, 200, 429]


def test_global_limit_is_30_per_second_across_chats(
    timed_fake: FakeTelegram, clock: ManualClock
) -> None:
    codes = [
        timed_fake.call_api("sendMessage", chat_id=i, text="x").status_code for i in range(1, 32)
    ]
    assert codes.count(200) == 30
    assert codes[-1] == 429
    assert timed_fake.max_per_window(1.0) == 30
    clock.now += 1.0
    assert timed_fake.call_api("sendMessage", chat_id=99, text="x").status_code == 200


def test_group_limit_is_20_per_minute(timed_fake: FakeTelegram, clock: ManualClock) -> None:
    for _ in range(20):
        clock.now += 1.0
        assert timed_fake.call_api("sendMessage", chat_id=-100, text="x").status_code == 200
    resp = timed_fake.call_api("sendMessage", chat_id=-100, text="x")
    assert resp.status_code == 429
    assert resp.json()["parameters"]["retry_after"] == 41  # the first send leaves the window
    clock.now += 41
    assert timed_fake.call_api("sendMessage", chat_id=-100, text="x").status_code == 200


async def test_ptb_gets_retry_after(fake: FakeTelegram, monkeypatch: pytest.MonkeyPatch) -> None:
    # PTB 22 warns (an error under -W error) when building RetryAfter unless opted in to timedelta
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    async with telegram.Bot(fake.token, base_url=fake.base_url) as bot:
        await bot.send_message(5, "một")
        with pytest.raises(RetryAfter) as info:
            await bot.send_message(5, "hai")
    assert info.value.retry_after == dt.timedelta(seconds=1)
    assert fake.texts_to(5) == ["một"]


def test_window_statistics_and_clear(timed_fake: FakeTelegram, clock: ManualClock) -> None:
    timed_fake.limits.enabled = False
    for chat in (1, 1, 2):
        timed_fake.call_api("sendMessage", chat_id=chat, text="x")
    clock.now += 1.0
    timed_fake.call_api("sendMessage", chat_id=1, text="x")
    assert timed_fake.max_per_window(1.0) == 3
    assert timed_fake.max_per_chat_window(1.0) == 2
    assert timed_fake.max_per_window(1.0, chat_id=2) == 1
    timed_fake.clear()
    assert (timed_fake.sent, timed_fake.calls, timed_fake.count_429) == ([], [], 0)


# ----- faults -----------------------------------------------------------------------------------
async def test_blocked_and_unknown_chats(fake: FakeTelegram) -> None:
    fake.block(5)
    fake.known_chats = {5, 6}
    async with telegram.Bot(fake.token, base_url=fake.base_url) as bot:
        with pytest.raises(Forbidden, match="bot was blocked by the user"):
            await bot.send_message(5, "x")
        with pytest.raises(BadRequest, match="Chat not found"):
            await bot.send_message(7, "x")
        assert (await bot.send_message(6, "x")).chat.id == 6
    assert [m.chat_id for m in fake.sent] == [6]


async def test_injected_5xx_then_success(fake: FakeTelegram) -> None:
    fake.fail_next(1, status=500)
    fake.fail_next(1, status=502)
    async with telegram.Bot(fake.token, base_url=fake.base_url) as bot:
        for _ in range(2):
            with pytest.raises(NetworkError):
                await bot.send_message(1, "x")
        await bot.get_me()  # faults target sendMessage only
        assert (await bot.send_message(1, "x")).text == "x"
    assert [code for method, code in fake.calls if method == "sendMessage"] == [500, 502, 200]


def test_delayed_answer_times_out_but_the_message_arrived(fake: FakeTelegram) -> None:
    fake.delay_next(1, 2.0)
    url = f"{fake.base_url}{fake.token}/sendMessage"
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(url, json={"chat_id": 1, "text": "có tới không?"}, timeout=0.3)
    assert fake.texts_to(1) == ["có tới không?"]


@pytest.mark.parametrize(("after_record", "recorded"), [(False, []), (True, ["x"])])
def test_dropped_connection(fake: FakeTelegram, after_record: bool, recorded: list[str]) -> None:
    fake.drop_next(1, after_record=after_record)
    with pytest.raises(httpx.TransportError):
        fake.call_api("sendMessage", chat_id=1, text="x")
    assert fake.texts_to(1) == recorded
    assert fake.call_api("sendMessage", chat_id=2, text="y").status_code == 200


def test_keep_alive_connection_is_reused(fake: FakeTelegram) -> None:
    with httpx.Client(base_url=f"{fake.base_url}{fake.token}/") as client:
        replies = [
            client.post("sendMessage", json={"chat_id": i, "text": "x"}) for i in range(1, 21)
        ]
        codes = [r.status_code for r in replies]
    assert codes == [200] * 20
    assert len(fake.sent) == 20
