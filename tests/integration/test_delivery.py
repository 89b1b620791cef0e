"""Dispatcher against the fake Bot API over real HTTP: every state, limit and fault."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from bot.i18n import alert_words
from bot.telegram.client import TelegramClient
from bot.telegram.sender import TelegramSender
from jobs.delivery.dispatcher import Dispatcher
from jobs.delivery.outbound import Ambiguous, TemporaryFailure
from jobs.delivery.pacing import YIELD_SECONDS, RateLimiter
from storage.chats import remove_subscription, set_digest, set_quiet, start_chat
from storage.db import make_engine, session_scope, upgrade
from storage.deliveries import enqueue
from storage.models import Broadcast, Chat
from storage.types import utcnow
from tests.fakes.telegram_api import FakeTelegram
from tests.integration.deliveryworld import VN, Clock, delivery_rows, publish, seed_chats, states

SHORT = httpx.Timeout(connect=1.0, read=0.4, write=1.0, pool=1.0)


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram() as server:
        yield server
        assert server.errors == []


@pytest.fixture
async def client(fake: FakeTelegram) -> AsyncIterator[TelegramClient]:
    tg = TelegramClient(api_url=fake.url, token=fake.token, timeout=SHORT)
    yield tg
    await tg.aclose()


@pytest.fixture
def clock() -> Clock:
    c = Clock(now=None)  # type: ignore[arg-type]
    c.local(25, 10)
    return c


def dispatcher(engine: Engine, client: TelegramClient, clock: Clock, **kw: object) -> Dispatcher:
    sender = TelegramSender(client, global_rate=float(kw.pop("global_rate", 25)))  # type: ignore[arg-type]
    kw.setdefault("backoff_base", 10.0)
    if "limiter" in kw:
        kw["limiters"] = {"telegram": kw.pop("limiter")}
    return Dispatcher(words=alert_words, engine=engine, senders=[sender], tz=VN, clock=clock, **kw)  # type: ignore[arg-type]


async def test_alert_is_sent_once_with_topic_link_date_and_button(
    engine: Engine, fake: FakeTelegram, client: TelegramClient, clock: Clock
) -> None:
    [chat_id] = seed_chats(engine, 1, topic="dân chủ")
    body = "Sáng nay, Tỉnh ủy họp. Hội nghị bàn nhiều việc quan trọng & cần thiết."
    publish(engine, "Thực hiện Quy chế dân chủ <ở cơ sở>", now=clock.now, body=body)
    await dispatcher(engine, client, clock).run_until_idle()
    [msg] = fake.wait_for_messages(1)
    assert msg.chat_id == 1000 and msg.parse_mode == "HTML" and msg.previews_disabled
    assert msg.plain_text is not None
    assert "dân chủ" in msg.plain_text and "25/11/2026" in msg.plain_text
    assert "Quy chế dân chủ <ở cơ sở>" in msg.plain_text
    assert "Sáng nay, Tỉnh ủy họp." in msg.plain_text
    assert any(e["type"] == "text_link" for e in msg.entities)
    [button] = msg.buttons()
    assert button["text"] == "Hủy theo dõi chủ đề này"
    assert button["callback_data"].startswith("unsub:")
    [row] = delivery_rows(engine)
    assert (row["state"], row["message_id"], row["attempts"]) == ("sent", str(msg.message_id), 1)
    assert row["chat_id"] == chat_id and row["sent_at"] == clock.now
    await dispatcher(engine, client, clock).run_until_idle()
    assert len(fake.sent) == 1


async def test_server_errors_retry_with_backoff_then_send(
    engine: Engine, fake: FakeTelegram, client: TelegramClient, clock: Clock
) -> None:
    seed_chats(engine, 1)
    publish(engine, "Tin", now=clock.now)
    fake.fail_next(1, 500)
    fake.fail_next(1, 502)
    worker = dispatcher(engine, client, clock)
    await worker.run_until_idle()
    [row] = delivery_rows(engine)
    assert (row["state"], row["attempts"]) == ("pending", 1)
    assert (row["not_before"] - clock.now).total_seconds() == 10.0
    clock.advance(10)
    await worker.run_until_idle()
    [row] = delivery_rows(engine)
    assert (row["state"], row["attempts"]) == ("pending", 2)
    assert (row["not_before"] - clock.now).total_seconds() == 20.0  # doubled
    clock.advance(20)
    await worker.run_until_idle()
    assert states(engine) == {"sent": 1}
    assert len(fake.sent) == 1


async def test_gives_up_after_max_attempts(
    engine: Engine, fake: FakeTelegram, client: TelegramClient, clock: Clock
) -> None:
    seed_chats(engine, 1)
    publish(engine, "Tin", now=clock.now)
    fake.fail_next(5, 500)
    worker = dispatcher(engine, client, clock, max_attempts=3)
    for _ in range(3):
        await worker.run_until_idle()
        clock.advance(3600)
    [row] = delivery_rows(engine)
    assert (row["state"], row["attempts"]) == ("failed", 3)
    assert row["error"].startswith("gave up")
    assert fake.sent == []


async def test_connection_refused_is_transient(engine: Engine, clock: Clock) -> None:
    seed_chats(engine, 1)
    publish(engine, "Tin", now=clock.now)
    with FakeTelegram() as gone:
        url, token = gone.url, gone.token
    async with TelegramClient(api_url=url, token=token, timeout=SHORT) as dead:
        assert isinstance(await dead.send_message("1", "x"), TemporaryFailure)
        await dispatcher(engine, dead, clock).run_until_idle()
    [row] = delivery_rows(engine)
    assert (row["state"], row["attempts"]) == ("pending", 1)
    assert "ConnectError" in row["error"] and token not in row["error"]


async def test_late_answer_is_ambiguous_and_never_resent(
    engine: Engine, fake: FakeTelegram, client: TelegramClient, clock: Clock
) -> None:
    seed_chats(engine, 1)
    publish(engine, "Tin", now=clock.now)
    fake.delay_next(1, 1.5)
    worker = dispatcher(engine, client, clock)
    await worker.run_until_idle()
    [row] = delivery_rows(engine)
    assert row["state"] == "ambiguous" and "ReadTimeout" in row["error"]
    clock.advance(3600)
    await worker.run_until_idle()
    assert len(fake.sent) == 1  # Telegram got it once; the dispatcher did not send it again


@pytest.mark.parametrize("after_record", [False, True])
async def test_dropped_connection_is_ambiguous(
    engine: Engine, fake: FakeTelegram, client: TelegramClient, clock: Clock, after_record: bool
) -> None:
    seed_chats(engine, 1)
    publish(engine, "Tin", now=clock.now)
    fake.drop_next(1, after_record=after_record)
    assert isinstance(await client.send_message("5", "thử"), Ambiguous)
    fake.drop_next(1, after_record=after_record)
    await dispatcher(engine, client, clock).run_until_idle()
    assert states(engine) == {"ambiguous": 1}
    assert len(fake.sent) == (2 if after_record else 0)


@pytest.mark.parametrize("fault", ["blocked", "not found"])
async def test_blocked_or_unknown_chat_goes_inactive_and_its_queue_is_cancelled(
    engine: Engine, fake: FakeTelegram, client: TelegramClient, clock: Clock, fault: str
) -> None:
    gone, ok = seed_chats(engine, 2)
    for i in range(3):
        publish(engine, f"Tin {i}", now=clock.now)
    if fault == "blocked":
        fake.block(1000)
    else:
        fake.known_chats = {1001}
    await dispatcher(engine, client, clock, window=1).run_until_idle()
    rows = [r for r in delivery_rows(engine) if r["chat_id"] == gone]
    assert sorted(r["state"] for r in rows) == ["cancelled", "cancelled", "failed"]
    assert all(fault in r["error"] for r in rows)
    with session_scope(engine) as session:
        chat = session.get(Chat, gone)
        assert chat is not None and not chat.active and fault in (chat.inactive_reason or "")
    assert len(fake.messages_to(1001)) == 3 and fake.messages_to(1000) == []
    # /start brings the chat back: the next article reaches it.
    fake.unblock(1000)
    fake.known_chats = None
    with session_scope(engine) as session:
        assert start_chat(session, platform="telegram", external_id="1000").reactivated
    publish(engine, "Tin mới", now=clock.now)
    await dispatcher(engine, client, clock).run_until_idle()
    assert len(fake.messages_to(1000)) == 1
    assert ok


async def test_429_waits_retry_after_and_resends_without_loss(
    engine: Engine, fake: FakeTelegram, client: TelegramClient
) -> None:
    fake.limits.global_per_second = 4
    seed_chats(engine, 12)
    publish(engine, "Tin", now=utcnow())
    # The real clock: the dispatcher really waits retry_after before resending.
    worker = Dispatcher(
        words=alert_words, engine=engine, senders=[TelegramSender(client, global_rate=50)], tz=VN
    )
    await worker.run_until_done(limit_seconds=60)
    assert fake.count_429 > 0
    assert states(engine) == {"sent": 12}
    assert sorted(m.chat_id for m in fake.sent) == list(range(1000, 1012))
    assert all(r["attempts"] == 1 for r in delivery_rows(engine))  # 429 is not an attempt


async def test_paced_sends_never_trigger_429_per_chat(
    engine: Engine, fake: FakeTelegram, client: TelegramClient, clock: Clock
) -> None:
    seed_chats(engine, 1)
    for i in range(3):
        publish(engine, f"Tin {i}", now=clock.now)
    worker = dispatcher(engine, client, clock, window=3)
    await worker.run_until_idle()
    assert len(fake.sent) == 3 and fake.count_429 == 0
    assert fake.max_per_window(1.0, chat_id=1000) == 1


async def test_group_over_20_per_minute_is_held_back_not_refused(
    engine: Engine, fake: FakeTelegram, client: TelegramClient, clock: Clock
) -> None:
    [group] = seed_chats(engine, 1, first_ext=-100, kind="group")
    for i in range(22):
        publish(engine, f"Tin {i}", now=clock.now)
    worker = dispatcher(engine, client, clock, window=22, limiter=RateLimiter(global_rate=1000))
    await worker.run_until_idle()
    assert len(fake.messages_to(-100)) == 20 and fake.count_429 == 0
    held = [r for r in delivery_rows(engine) if r["state"] == "pending"]
    assert len(held) == 2 and all(r["chat_id"] == group for r in held)
    assert all((r["not_before"] - clock.now).total_seconds() > 50 for r in held)


async def test_quiet_hours_hold_alerts_until_the_end(
    engine: Engine, fake: FakeTelegram, client: TelegramClient, clock: Clock
) -> None:
    [quiet] = seed_chats(engine, 1, quiet_start="22:00", quiet_end="06:00")
    clock.local(25, 23)
    publish(engine, "Tin đêm", now=clock.now)
    worker = dispatcher(engine, client, clock)
    await worker.run_until_idle()
    assert fake.sent == []
    clock.local(26, 6)
    await worker.run_until_idle()
    assert len(fake.sent) == 1 and states(engine) == {"sent": 1}
    # Quiet hours set after an alert was queued still hold it at send time.
    clock.local(26, 21, 59)
    publish(engine, "Tin tối", now=clock.now)
    with session_scope(engine) as session:
        set_quiet(session, chat_id=quiet, start="21:00", end="07:00")
    await worker.run_until_idle()
    assert len(fake.sent) == 1
    [held] = [r for r in delivery_rows(engine) if r["state"] == "pending"]
    assert held["not_before"] == clock.local(27, 7)
    await worker.run_until_idle()
    assert len(fake.sent) == 2


async def test_daily_digest_is_one_message_at_the_chats_hour(
    engine: Engine, fake: FakeTelegram, client: TelegramClient, clock: Clock
) -> None:
    [chat] = seed_chats(engine, 1)
    with session_scope(engine) as session:
        set_digest(session, chat_id=chat, mode="daily", time="18:00")
    titles = [f"Tin số {i}" for i in range(5)]
    for title in titles:
        publish(engine, title, now=clock.now)
    worker = dispatcher(engine, client, clock)
    await worker.run_until_idle()
    assert fake.sent == []
    clock.local(25, 18)
    await worker.run_until_idle()
    [msg] = fake.sent
    assert msg.plain_text is not None and msg.plain_text.startswith("Bản tin ngày 25/11/2026")
    assert all(t in msg.plain_text for t in titles)
    assert {(r["state"], r["message_id"]) for r in delivery_rows(engine)} == {
        ("sent", str(msg.message_id))
    }


async def test_long_digest_is_split_under_4096(
    engine: Engine, fake: FakeTelegram, client: TelegramClient, clock: Clock
) -> None:
    [chat] = seed_chats(engine, 1)
    with session_scope(engine) as session:
        set_digest(session, chat_id=chat, mode="daily", time="07:00")
    for i in range(60):
        publish(engine, f"Tin {i:02d} " + "rất dài về cải cách hành chính " * 6, now=clock.now)
    clock.local(26, 7)
    await dispatcher(engine, client, clock).run_until_idle()
    assert len(fake.sent) >= 2 and fake.count_429 == 0
    assert all(len(m.plain_text or "") <= 4096 for m in fake.sent)
    text = "\n".join(m.plain_text or "" for m in fake.sent)
    assert all(f"Tin {i:02d} " in text for i in range(60))
    assert states(engine) == {"sent": 60}


async def test_unsubscribed_topic_cancels_queued_alert(
    engine: Engine, fake: FakeTelegram, client: TelegramClient, clock: Clock
) -> None:
    [chat] = seed_chats(engine, 1, topic="bão")
    publish(engine, "Cảnh báo bão", now=clock.now)
    with session_scope(engine) as session:
        assert remove_subscription(session, chat_id=chat, topic="bão")
    await dispatcher(engine, client, clock).run_until_idle()
    assert fake.sent == [] and states(engine) == {"cancelled": 1}


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
async def test_two_dispatchers_on_one_postgres_never_send_a_row_twice(
    engine: Engine, fake: FakeTelegram, client: TelegramClient
) -> None:
    fake.limits.enabled = False  # this test is about claiming, not pacing
    seed_chats(engine, 400)
    publish(engine, "Tin cho mọi người", now=utcnow())
    other_engine = make_engine(engine.url.render_as_string(hide_password=False))
    other_client = TelegramClient(api_url=fake.url, token=fake.token, timeout=SHORT)
    try:
        replicas = [
            Dispatcher(
                words=alert_words,
                engine=db,
                senders=[TelegramSender(tg, global_rate=2000)],
                tz=VN,
                window=8,
            )
            for db, tg in ((engine, client), (other_engine, other_client))
        ]
        await asyncio.gather(*(replica.run_until_done() for replica in replicas))
    finally:
        await other_client.aclose()
        other_engine.dispose()
    chats = [m.chat_id for m in fake.sent]
    assert len(chats) == 400 and len(set(chats)) == 400
    assert all(r.sent > 0 for r in replicas) and sum(r.sent for r in replicas) == 400
    assert states(engine) == {"sent": 400}


async def test_broadcast_rows_go_through_the_same_queue(
    engine: Engine, fake: FakeTelegram, client: TelegramClient, clock: Clock
) -> None:
    chats = seed_chats(engine, 3)
    with session_scope(engine) as session:
        note = Broadcast(text="Thông báo: họp lúc 8 giờ\nĐịa điểm <phòng 2>", author="admin")
        session.add(note)
        session.flush()
        base = {
            **dict.fromkeys(("article_id", "topic", "lease_owner", "lease_until", "message_id")),
            **dict.fromkeys(("error", "sent_at")),
            "kind": "broadcast", "state": "pending", "attempts": 0,
            "not_before": clock.now, "created_at": clock.now,
        }  # fmt: skip
        rows = [{**base, "chat_id": c, "broadcast_id": note.id} for c in chats]
        assert enqueue(session, rows=rows) == 3
        assert enqueue(session, rows=rows) == 0  # the same broadcast twice is ignored
    await dispatcher(engine, client, clock).run_until_idle()
    assert sorted(m.chat_id for m in fake.sent) == [1000, 1001, 1002]
    assert fake.sent[0].plain_text == "Thông báo: họp lúc 8 giờ\nĐịa điểm <phòng 2>"
    assert states(engine) == {"sent": 3}


async def test_claims_wait_while_a_person_is_answered(
    engine: Engine, fake: FakeTelegram, client: TelegramClient, clock: Clock
) -> None:
    """A claim composes its rows' messages (milliseconds of the interpreter a command shares):
    while pushes step aside for a person, the dispatcher does not claim either."""
    seed_chats(engine, 3, topic="dân chủ")
    publish(engine, "Quy chế dân chủ ở cơ sở", now=clock.now)
    limiter = RateLimiter(global_rate=25)
    worker = dispatcher(engine, client, clock, limiter=limiter)
    limiter.person_waiting(time.monotonic())
    running = asyncio.create_task(worker.run())
    # The absence of a claim can only be watched for a while (well within the yield credit).
    await asyncio.sleep(0.2)
    assert states(engine) == {"pending": 3} and fake.sent == []
    limiter.person_answered(time.monotonic())
    await fake.wait_for_messages_async(3)
    worker.stop()
    await running
    assert states(engine) == {"sent": 3}


async def test_a_send_finishing_while_a_person_waits_does_not_spin_the_loop(
    engine: Engine, fake: FakeTelegram, client: TelegramClient, clock: Clock
) -> None:
    """A finished send left in the loop's wait ended it at once: the loop spun, holding the
    interpreter from the command it waited for (replies took 1.03 s during a fan-out)."""
    seed_chats(engine, 1, topic="dân chủ")
    publish(engine, "Quy chế dân chủ ở cơ sở", now=clock.now)
    limiter = RateLimiter(global_rate=25)
    beats: list[float] = []
    worker = dispatcher(engine, client, clock, limiter=limiter, heartbeat=lambda: beats.append(1))
    fake.delay_next(1, 0.1)  # answered while the person below waits
    running = asyncio.create_task(worker.run())
    await fake.wait_for_messages_async(1)
    limiter.person_waiting(time.monotonic())
    beats.clear()
    # The send is answered and recorded within this watch, which ends well within the
    # yield credit (claims still wait for the person).
    await asyncio.sleep(0.3)
    assert states(engine) == {"sent": 1}
    assert len(beats) <= 0.3 / YIELD_SECONDS + 5
    limiter.person_answered(time.monotonic())
    worker.stop()
    await running


async def test_run_until_idle_raises_what_the_database_raised_under_a_send(
    tmp_path: Path, fake: FakeTelegram, client: TelegramClient, clock: Clock
) -> None:
    """A send the platform accepted but the database could not record ends the run with the
    error (it neither vanishes nor keeps the loop waiting); its row stays leased."""
    path = tmp_path / "locked.db"
    quick = {"check_same_thread": False, "timeout": 0.2}  # a busy wait of 0.2 s, not 30
    engine = make_engine(f"sqlite:///{path}", connect_args=quick)
    upgrade(engine)
    seed_chats(engine, 1, topic="dân chủ")
    publish(engine, "Quy chế dân chủ ở cơ sở", now=clock.now)
    fake.delay_next(1, 0.3)  # the write lock below is taken while the send waits for its answer
    worker = dispatcher(engine, client, clock, window=1)  # the window full: no claim raises
    idle = asyncio.create_task(worker.run_until_idle(limit_seconds=5))
    await fake.wait_for_messages_async(1)
    blocker = sqlite3.connect(path)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(OperationalError, match="locked"):
            await idle
    finally:
        blocker.rollback()
        blocker.close()
    assert states(engine) == {"sending": 1}  # the next run records it before anything else
    engine.dispose()
