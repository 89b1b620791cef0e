"""The delivery queue in storage and the poll's enqueue hook, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from jobs.delivery.enqueue import make_on_stored
from jobs.delivery.match import MatcherCache
from storage import deliveries as q
from storage.articles import StoreResult
from storage.chats import add_subscription, ensure_chat, set_digest, set_quiet
from storage.db import make_engine, session_scope
from storage.models import Article, Chat, Delivery

VN = ZoneInfo("Asia/Ho_Chi_Minh")
NOON = datetime(2026, 11, 25, 5, 0, tzinfo=UTC)  # 12:00 in Hue
TG = ["telegram"]  # the platforms this test's worker has a sender for


def article(session: Session, key: str, title: str, body: str = "") -> Article:
    row = Article(key=key, source="s", url=f"https://example.vn/{key}", title=title, body=body,
                  content_hash=key)  # fmt: skip
    session.add(row)
    session.flush()
    return row


def chat(session: Session, ext: str, *topics: str) -> Chat:
    row = ensure_chat(session, platform="telegram", external_id=ext)
    for topic in topics:
        add_subscription(session, chat_id=row.id or 0, topic=topic)
    return row


def rows(engine: Engine) -> list[Delivery]:
    with session_scope(engine) as session:
        return list(session.exec(select(Delivery).order_by(Delivery.id)).all())  # type: ignore[arg-type]


def test_new_articles_queue_one_row_per_matching_chat(engine: Engine) -> None:
    hook = make_on_stored(tz=VN, cache=MatcherCache(), clock=lambda: NOON)
    with session_scope(engine) as session:
        a = chat(session, "1", "dân chủ")
        b = chat(session, "2", "")  # every article
        chat(session, "3", "bão")
        art = article(session, "k1", "Quy chế dân chủ ở cơ sở")
        written = hook(session, StoreResult(new=[art]))
    assert written == 2
    got = {(r.chat_id, r.topic, r.kind, r.state) for r in rows(engine)}
    assert got == {(a.id, "dân chủ", "alert", "pending"), (b.id, "", "alert", "pending")}


def test_a_retried_poll_cannot_double_a_delivery(engine: Engine) -> None:
    hook = make_on_stored(tz=VN, clock=lambda: NOON)
    with session_scope(engine) as session:
        chat(session, "1", "")
        art = article(session, "k1", "Tin")
        assert hook(session, StoreResult(new=[art])) == 1
    with session_scope(engine) as session:
        stored = session.get(Article, art.id)
        assert stored is not None
        assert hook(session, StoreResult(new=[stored])) == 0
    assert len(rows(engine)) == 1


def test_edited_articles_and_inactive_chats_get_nothing(engine: Engine) -> None:
    hook = make_on_stored(tz=VN, clock=lambda: NOON)
    with session_scope(engine) as session:
        gone = chat(session, "1", "")
        gone.active = False
        live = chat(session, "2", "")
        art = article(session, "k1", "Tin")
        assert hook(session, StoreResult(edited=[art])) == 0
        assert hook(session, StoreResult(new=[art])) == 1
    assert [r.chat_id for r in rows(engine)] == [live.id]


def test_daily_digest_and_quiet_hours_set_not_before(engine: Engine) -> None:
    late = datetime(2026, 11, 25, 16, 0, tzinfo=UTC)  # 23:00 in Hue
    hook = make_on_stored(tz=VN, clock=lambda: late)
    with session_scope(engine) as session:
        daily = chat(session, "1", "")
        set_digest(session, chat_id=daily.id or 0, mode="daily", time="18:00")
        quiet = chat(session, "2", "")
        set_quiet(session, chat_id=quiet.id or 0, start="22:00", end="06:30")
        plain = chat(session, "3", "")
        hook(session, StoreResult(new=[article(session, "k1", "Tin")]))
    due = {r.chat_id: (r.kind, r.not_before) for r in rows(engine)}
    assert due[daily.id or 0] == ("digest", datetime(2026, 11, 26, 11, 0, tzinfo=UTC))
    assert due[quiet.id or 0] == ("alert", datetime(2026, 11, 25, 23, 30, tzinfo=UTC))
    assert due[plain.id or 0] == ("alert", late)


def queue(engine: Engine, n: int, *, not_before: datetime = NOON) -> list[int]:
    with session_scope(engine) as session:
        c = chat(session, "9")
        arts = [article(session, f"q{i}", f"T{i}") for i in range(n)]
        base = {"chat_id": c.id, "kind": "alert", "broadcast_id": None, "topic": "",
                "state": "pending", "attempts": 0, "not_before": not_before,
                "lease_owner": None, "lease_until": None, "message_id": None, "error": None,
                "created_at": NOON, "sent_at": None}  # fmt: skip
        q.enqueue(session, rows=[{**base, "article_id": a.id} for a in arts])
    return [r.id or 0 for r in rows(engine)]


def test_claim_takes_due_rows_once_under_a_lease(engine: Engine) -> None:
    queue(engine, 5)
    with session_scope(engine) as session:
        first = q.claim_due(session, owner="w1", now=NOON, limit=3, lease_seconds=60, platforms=TG)
        second = q.claim_due(
            session, owner="w2", now=NOON, limit=10, lease_seconds=60, platforms=TG
        )
        third = q.claim_due(session, owner="w3", now=NOON, limit=10, lease_seconds=60, platforms=TG)
    assert len(first) == 3 and len(second) == 2 and third == []
    assert not {r.id for r in first} & {r.id for r in second}
    states = {r.lease_owner for r in rows(engine)}
    assert states == {"w1", "w2"}


def test_claim_ignores_rows_not_yet_due(engine: Engine) -> None:
    queue(engine, 2, not_before=NOON + timedelta(hours=1))
    with session_scope(engine) as session:
        assert (
            q.claim_due(session, owner="w", now=NOON, limit=5, lease_seconds=60, platforms=TG) == []
        )
        assert q.next_due(session, platforms=TG) == NOON + timedelta(hours=1)
        later = NOON + timedelta(hours=1)
        assert (
            len(q.claim_due(session, owner="w", now=later, limit=5, lease_seconds=60, platforms=TG))
            == 2
        )


def test_state_changes_need_the_lease_and_expired_leases_requeue(engine: Engine) -> None:
    ids = queue(engine, 3)
    with session_scope(engine) as session:
        q.claim_due(session, owner="w1", now=NOON, limit=3, lease_seconds=60, platforms=TG)
        assert q.mark_sent(session, ids=[ids[0]], owner="intruder", message_id="1", now=NOON) == 0
        assert q.mark_sent(session, ids=[ids[0]], owner="w1", message_id="7", now=NOON) == 1
        assert q.mark_ambiguous(session, ids=[ids[1]], owner="w1", error="read timeout") == 1
    with session_scope(engine) as session:
        assert q.requeue_expired(session, now=NOON + timedelta(seconds=30)) == 0
        assert q.requeue_expired(session, now=NOON + timedelta(seconds=61)) == 1
        counts = q.counts_by_state(session)
    assert counts == {"pending": 1, "sending": 0, "sent": 1, "failed": 0, "cancelled": 0,
                      "ambiguous": 1}  # fmt: skip
    sent = rows(engine)[0]
    assert (sent.state, sent.message_id, sent.attempts, sent.lease_owner) == ("sent", "7", 1, None)


def test_requeue_owner_recovers_a_restarted_worker(engine: Engine) -> None:
    queue(engine, 2)
    with session_scope(engine) as session:
        q.claim_due(session, owner="w1", now=NOON, limit=2, lease_seconds=600, platforms=TG)
        assert q.requeue_owner(session, owner="w2") == 0
        assert q.requeue_owner(session, owner="w1") == 2


def test_cancel_chat_and_purge_after_retention(engine: Engine) -> None:
    ids = queue(engine, 3)
    with session_scope(engine) as session:
        q.claim_due(session, owner="w", now=NOON, limit=1, lease_seconds=60, platforms=TG)
        q.mark_sent(session, ids=[ids[0]], owner="w", message_id="1", now=NOON)
        chat_id = rows(engine)[0].chat_id
        assert q.cancel_chat_pending(session, chat_id=chat_id, reason="blocked") == 2
    with session_scope(engine) as session:
        assert q.purge_old(session, now=NOON + timedelta(days=29), retention_days=30) == 0
        assert q.purge_old(session, now=NOON + timedelta(days=31), retention_days=30) == 3
    assert rows(engine) == []


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_postgres_claims_skip_rows_locked_by_another_replica(engine: Engine) -> None:
    queue(engine, 4)
    other = make_engine(engine.url.render_as_string(hide_password=False))
    try:
        with session_scope(engine) as first:
            mine = q.claim_due(first, owner="a", now=NOON, limit=2, lease_seconds=60, platforms=TG)
            # The first transaction is still open: its rows are locked, not yet committed.
            with session_scope(other) as second:
                theirs = q.claim_due(
                    second, owner="b", now=NOON, limit=4, lease_seconds=60, platforms=TG
                )
        assert len(mine) == 2 and len(theirs) == 2
        assert not {r.id for r in mine} & {r.id for r in theirs}
    finally:
        other.dispose()


def test_a_baseline_store_alerts_nobody(engine: Engine) -> None:
    hook = make_on_stored(tz=VN, clock=lambda: NOON)
    with session_scope(engine) as s:
        chat(s, "u-all", "")  # every article
        first = article(s, "k-old", "Tin cũ về quy chế dân chủ")
        assert hook(s, StoreResult(new=[first], baseline=True)) == 0
        later = article(s, "k-new", "Tin mới về quy chế dân chủ")
        assert hook(s, StoreResult(new=[later])) == 1
    assert [r.article_id for r in rows(engine)] == [later.id]
