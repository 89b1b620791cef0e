"""Alerts by source: /sources for everyone, /subscribe nguồn <source> [topic], the matcher's
source filter, and alerts and /latest naming their source."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.commands import Request, Services, handle
from bot.console.chat import render
from bot.flood import RateLimiter
from bot.i18n import alert_words
from jobs.delivery.alerts import AlertArticle, alert_reply
from jobs.delivery.enqueue import enqueue_alerts
from jobs.delivery.match import Matcher, Topic, article_haystack, load_topics
from jobs.ingest.sources import SourceConfig, remember_titles
from storage.db import session_scope
from storage.models import Article, Delivery, Subscription
from tests.bot_articles import seed_corpus

NOW = datetime(2011, 12, 16, 5, 0, tzinfo=UTC)
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
TITLE = "Đảng ủy Khối các cơ quan tỉnh"


@pytest.fixture
def svc(engine: Engine) -> Iterator[Services]:
    seed_corpus(engine)
    remember_titles(
        [
            SourceConfig(name="dukcqt", title=TITLE, kind="html", urls=["https://a.vn/"]),
            SourceConfig(name="tinh", kind="html", urls=["https://b.vn/"]),
        ]
    )
    yield Services(engine=engine, clock=lambda: NOW, limiter=RateLimiter(burst=10_000))
    remember_titles([])


def ask(svc: Services, text: str, *, chat: str = "1", admin: bool = False) -> str:
    reply = handle(svc, Request("telegram", chat, text, is_admin=admin))
    assert reply is not None
    return render(reply)


def test_everyone_lists_sources_by_display_name(svc: Services) -> None:
    out = ask(svc, "/sources")
    assert out.startswith("Các nguồn tin:")
    assert f"• dukcqt — {TITLE}" in out and "• tinh" in out
    assert "/subscribe nguồn dukcqt" in out
    assert "Tình trạng" not in out and "Chưa nguồn nào được quét" not in out
    assert "Chưa nguồn nào được quét" in ask(svc, "/sources", admin=True)  # health first


def test_subscribe_to_a_source_and_to_a_topic_within_it(svc: Services, engine: Engine) -> None:
    assert ask(svc, "/subscribe nguồn dukcqt") == (
        f"Đã đăng ký chủ đề “(mọi tin mới) (nguồn {TITLE})”."
    )
    assert ask(svc, "/subscribe nguon DUKCQT dân chủ") == (
        f"Đã đăng ký chủ đề “dân chủ (nguồn {TITLE})”."
    )
    assert "đã đăng ký" in ask(svc, "/subscribe nguồn dukcqt dân chủ")
    assert ask(svc, "/subscribe dân chủ") == "Đã đăng ký chủ đề “dân chủ”."  # any source
    unknown = ask(svc, "/subscribe nguồn xyz")
    assert unknown.startswith("Không có nguồn “xyz”. Các nguồn:") and "• tinh" in unknown
    subs = ask(svc, "/subscriptions")
    assert f"• (mọi tin mới) (nguồn {TITLE})" in subs and f"• dân chủ (nguồn {TITLE})" in subs
    assert ask(svc, "/unsubscribe nguồn dukcqt dân chủ") == (
        f"Đã bỏ theo dõi “dân chủ (nguồn {TITLE})”."
    )
    with session_scope(engine) as s:
        rows = s.exec(select(Subscription).order_by(Subscription.id)).all()  # type: ignore[arg-type]
        assert [(r.source, r.topic) for r in rows] == [("dukcqt", ""), ("", "dân chủ")]


def test_the_matcher_keeps_source_bound_topics_to_their_source() -> None:
    matcher = Matcher(
        [
            Topic(1, 10, "", "", source="dukcqt"),
            Topic(2, 11, "dân chủ", "dan chu", source="dukcqt"),
            Topic(3, 12, "dân chủ", "dan chu"),
        ]
    )
    text = article_haystack("Quy chế dân chủ ở cơ sở", "", "")
    assert set(matcher.match(text, "tinh")) == {12}
    assert set(matcher.match(text, "dukcqt")) == {10, 11, 12}
    assert set(matcher.match(article_haystack("Thời tiết", "", ""), "dukcqt")) == {10}


def test_enqueue_alerts_only_the_sources_subscribers(svc: Services, engine: Engine) -> None:
    ask(svc, "/subscribe nguồn tinh", chat="20")
    ask(svc, "/subscribe nguồn dukcqt", chat="21")
    with session_scope(engine) as s:
        articles = list(s.exec(select(Article).order_by(Article.id)))  # type: ignore[arg-type]
        sources = {a.source for a in articles}
        n = enqueue_alerts(s, articles=articles, matcher=Matcher(load_topics(s)), now=NOW, tz=TZ)
        rows = s.exec(select(Delivery)).all()
        by_chat = {r.chat_id for r in rows}
    assert n == len(rows) and len(by_chat) == len(sources & {"tinh", "dukcqt"})


def test_alert_names_its_source() -> None:
    article = AlertArticle(
        title="Hội nghị", url="https://a.vn/1", published_at=NOW, local_date=None,
        summary="Tóm tắt bài.", body="", source=TITLE,
    )  # fmt: skip
    reply = alert_reply(article, topic="", subscription_id=None, tz=TZ, words=alert_words("vi"))
    text = render(reply)
    assert f"16/12/2011 · {TITLE}" in text
