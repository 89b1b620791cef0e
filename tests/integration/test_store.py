"""The store returns only new or edited rows, once, on both databases, even under concurrency."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import select

from storage.articles import (
    StoreResult,
    articles_by_key,
    get_source_state,
    get_validators,
    list_source_states,
    save_source_state,
    save_validators,
    set_validators,
    store_articles,
)
from storage.db import session_scope
from storage.models import Article, ArticleBase

NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
SEED_TITLE = "Hội nghị triển khai Quy chế dân chủ ở cơ sở"


def _art(n: int, *, title: str | None = None, body: str = "Nội dung.") -> ArticleBase:
    return ArticleBase(
        key=f"newsid:{n}",
        source="portal",
        url=f"http://portal.test/newsid/{n}",
        title=title or f"Tin số {n}",
        body=body,
        attachments=[{"name": "QĐ.pdf", "url": f"http://portal.test/{n}.pdf"}],
        published_at=datetime(2011, 12, 16, 1, 30, tzinfo=UTC),
        local_date=date(2011, 12, 16),
    )


def _item(n: int, version: str = "v1", **kw: str) -> tuple[ArticleBase, str]:
    return _art(n, **kw), f"hash-{n}-{version}"


def _store(
    engine: Engine, items: list[tuple[ArticleBase, str]], now: datetime = NOW
) -> StoreResult:
    with session_scope(engine) as s:
        return store_articles(s, items=items, now=now)


def _count(engine: Engine) -> int:
    with session_scope(engine) as s:
        return s.exec(select(func.count()).select_from(Article)).one()


def test_first_store_inserts_all_with_folded_text(engine: Engine) -> None:
    res = _store(engine, [_item(1, title=SEED_TITLE), _item(2)])
    assert [a.key for a in res.new] == ["newsid:1", "newsid:2"]
    assert res.edited == [] and res.unchanged == 0
    first = res.new[0]
    assert first.id is not None
    assert first.title == SEED_TITLE
    assert first.title_folded == "hoi nghi trien khai quy che dan chu o co so"
    assert first.body_folded == "noi dung."
    assert first.first_seen_at == NOW and first.edit_count == 0
    assert first.attachments == [{"name": "QĐ.pdf", "url": "http://portal.test/1.pdf"}]
    assert first.local_date == date(2011, 12, 16)


def test_second_store_of_the_same_content_returns_nothing(engine: Engine) -> None:
    _store(engine, [_item(1), _item(2)])
    res = _store(engine, [_item(1), _item(2)], NOW + timedelta(minutes=10))
    assert res.new == [] and res.edited == [] and res.unchanged == 2
    assert _count(engine) == 2


def test_changed_content_is_edited_not_new_and_reported_once(engine: Engine) -> None:
    _store(engine, [_item(1), _item(2)])
    later = NOW + timedelta(hours=1)
    res = _store(engine, [_item(1, "v2", body="Nội dung đã sửa."), _item(2)], later)
    assert res.new == [] and res.unchanged == 1
    assert [a.key for a in res.edited] == ["newsid:1"]
    edited = res.edited[0]
    assert edited.body == "Nội dung đã sửa." and edited.body_folded == "noi dung da sua."
    assert edited.edit_count == 1 and edited.updated_at == later
    assert edited.first_seen_at == NOW
    again = _store(engine, [_item(1, "v2", body="Nội dung đã sửa.")], later)
    assert again.edited == [] and again.unchanged == 1
    assert _count(engine) == 2


def test_article_that_leaves_and_returns_is_not_new(engine: Engine) -> None:
    _store(engine, [_item(1), _item(2)])
    _store(engine, [_item(2)])  # item 1 left the listing
    res = _store(engine, [_item(1), _item(2)])
    assert res.new == [] and res.edited == [] and res.unchanged == 2


def test_a_key_twice_in_one_batch_is_stored_once(engine: Engine) -> None:
    res = _store(engine, [_item(1), _item(1, "v2", title="Tiêu đề mới")])
    assert len(res.new) == 1 and res.new[0].title == "Tiêu đề mới"
    assert _count(engine) == 1


def _race(engine: Engine, items: list[tuple[ArticleBase, str]]) -> list[StoreResult]:
    """Two threads store the same batch, each in its own transaction, released together."""
    barrier = threading.Barrier(2)
    results: list[StoreResult] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            results.append(_store(engine, items))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    return results


def test_concurrent_stores_of_the_same_articles_insert_each_once(engine: Engine) -> None:
    items = [_item(n) for n in range(1, 31)]
    results = _race(engine, items)
    assert sum(len(r.new) for r in results) == 30
    assert sum(r.unchanged for r in results) == 30
    assert _count(engine) == 30


def test_concurrent_stores_of_one_edit_report_it_once(engine: Engine) -> None:
    _store(engine, [_item(n) for n in range(1, 11)])
    results = _race(engine, [_item(n, "v2", body="Sửa") for n in range(1, 11)])
    assert sum(len(r.edited) for r in results) == 10
    with session_scope(engine) as s:
        rows = articles_by_key(s, keys=[f"newsid:{n}" for n in range(1, 11)])
    assert {a.edit_count for a in rows.values()} == {1}


def test_validators_are_stored_overwritten_and_forgotten(engine: Engine) -> None:
    with session_scope(engine) as s:
        set_validators(s, url="http://a/", etag='"e1"', last_modified=None, now=NOW)
        set_validators(s, url="http://b/", etag=None, last_modified="Fri, 16 Dec 2011", now=NOW)
    with session_scope(engine) as s:
        set_validators(s, url="http://a/", etag='"e2"', last_modified="x", now=NOW)
    with session_scope(engine) as s:
        got = get_validators(s, urls=["http://a/", "http://b/", "http://c/"])
    assert got == {"http://a/": ('"e2"', "x"), "http://b/": (None, "Fri, 16 Dec 2011")}
    with session_scope(engine) as s:
        set_validators(s, url="http://a/", etag=None, last_modified=None, now=NOW)
    with session_scope(engine) as s:
        assert set(get_validators(s, urls=["http://a/", "http://b/"])) == {"http://b/"}
        assert get_validators(s, urls=[]) == {}


def test_many_validators_are_saved_in_one_call(engine: Engine) -> None:
    with session_scope(engine) as s:
        set_validators(s, url="http://a/", etag='"old"', last_modified=None, now=NOW)
        set_validators(s, url="http://gone/", etag='"g"', last_modified=None, now=NOW)
    entries = {"http://a/": ('"new"', None), "http://b/": (None, "x"), "http://gone/": (None, None)}
    with session_scope(engine) as s:
        save_validators(s, entries=entries, now=NOW)
    with session_scope(engine) as s:
        got = get_validators(s, urls=list(entries))
    assert got == {"http://a/": ('"new"', None), "http://b/": (None, "x")}


def test_source_state_is_upserted(engine: Engine) -> None:
    with session_scope(engine) as s:
        assert get_source_state(s, name="portal") is None
        save_source_state(s, name="portal", values={"consecutive_failures": 1, "last_error": "x"})
        save_source_state(s, name="feed", values={})
    with session_scope(engine) as s:
        state = get_source_state(s, name="portal")
        assert state is not None and state.consecutive_failures == 1
        save_source_state(s, name="portal", values={"consecutive_failures": 0, "last_error": None})
        state = get_source_state(s, name="portal")
        assert state is not None and state.consecutive_failures == 0 and state.last_error is None
    with session_scope(engine) as s:
        assert list(list_source_states(s)) == ["feed", "portal"]
