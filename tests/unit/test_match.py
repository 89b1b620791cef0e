"""Topic matching: folded phrases at syllable boundaries, every-article subscriptions."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine

from jobs.delivery.match import Matcher, MatcherCache, Topic, article_haystack, plain_match
from storage.chats import add_subscription, ensure_chat, remove_subscription
from storage.db import session_scope
from storage.text import fold_words


def topic(sub: int, chat: int, text: str) -> Topic:
    return Topic(subscription_id=sub, chat_id=chat, topic=text, folded=fold_words(text))


def chats(matcher: Matcher, title: str, body: str = "") -> set[int]:
    return set(matcher.match_article(title, "", body))


def test_phrase_matches_with_or_without_diacritics() -> None:
    matcher = Matcher([topic(1, 10, "dân chủ"), topic(2, 20, "quy che dan chu")])
    assert chats(matcher, "Thực hiện Quy chế dân chủ ở cơ sở") == {10, 20}
    assert chats(matcher, "QUY CHẾ DÂN CHỦ") == {10, 20}


def test_no_match_inside_a_syllable_or_across_words() -> None:
    matcher = Matcher([topic(1, 10, "dân chủ")])
    assert chats(matcher, "Bàn về dânchủ") == set()
    assert chats(matcher, "dân tộc và chủ quyền") == set()
    assert chats(matcher, "Dân chủ, công bằng") == {10}
    assert chats(matcher, "vấn đề dân chủ.") == {10}


def test_single_syllable_topic_does_not_match_a_longer_syllable() -> None:
    matcher = Matcher([topic(1, 10, "hue")])
    assert chats(matcher, "Tin Huế hôm nay") == {10}
    assert chats(matcher, "Huệ và Huệch") == {10}  # "huệ" folds to "hue" too, by design
    assert chats(matcher, "thuế quan") == set()


def test_d_stroke_and_eth_lookalike_fold_alike() -> None:
    matcher = Matcher([topic(1, 10, "Đảng bộ")])
    assert chats(matcher, "\u00d0ảng bộ khối") == {10}
    assert chats(matcher, "dang bo khoi") == {10}


def test_match_in_summary_or_body_not_only_title() -> None:
    matcher = Matcher([topic(1, 10, "cải cách hành chính")])
    assert matcher.match_article("Hội nghị", "đẩy mạnh cải cách hành chính", "") == {
        10: topic(1, 10, "cải cách hành chính")
    }
    assert chats(matcher, "Hội nghị", "Nội dung: Cải cách hành chính năm 2026.") == {10}


def test_every_article_subscription_matches_everything_once() -> None:
    matcher = Matcher([topic(1, 10, ""), topic(2, 10, "bão"), topic(3, 30, "")])
    found = matcher.match_article("Cảnh báo bão số 5", "", "")
    assert set(found) == {10, 30}
    assert found[10].subscription_id == 2  # a real topic wins over "every article"
    assert set(matcher.match_article("Tin khác", "", "")) == {10, 30}


def test_one_entry_per_chat_even_with_many_matching_topics() -> None:
    matcher = Matcher([topic(1, 10, "bão"), topic(2, 10, "lũ"), topic(3, 11, "lũ")])
    found = matcher.match_article("Bão và lũ", "", "lũ lụt, bão lớn")
    assert set(found) == {10, 11}
    assert found[10].subscription_id == 1  # the topic found first in the text


def test_empty_matcher_matches_nothing() -> None:
    assert Matcher([]).match(article_haystack("a", "b", "c")) == {}


WORDS = ["dan", "chu", "quy", "che", "hue", "bao", "lu", "cai", "cach", "hanh", "chinh", "so"]


@settings(max_examples=100, deadline=None)
@given(
    topics=st.lists(st.lists(st.sampled_from(WORDS), min_size=0, max_size=3), max_size=20),
    text=st.lists(st.sampled_from([*WORDS, ",", "dânchủ", "Đ"]), max_size=40),
)
def test_automaton_agrees_with_a_plain_loop(topics: list[list[str]], text: list[str]) -> None:
    subs = [topic(i, i % 7, " ".join(words)) for i, words in enumerate(topics)]
    haystack = article_haystack(" ".join(text), "", "")
    expected = plain_match(subs, haystack)
    got = Matcher(subs).match(haystack)
    assert {c: t.subscription_id for c, t in got.items()} == {
        c: t.subscription_id for c, t in expected.items()
    }


def test_random_large_topic_set_agrees_with_plain_loop() -> None:
    rng = random.Random(7)
    subs = [
        topic(i, rng.randrange(300), " ".join(rng.sample(WORDS, rng.randint(1, 3))))
        for i in range(2000)
    ]
    haystack = article_haystack(" ".join(rng.choice(WORDS) for _ in range(300)), "", "")
    assert set(Matcher(subs).match(haystack)) == set(plain_match(subs, haystack))


def test_cache_rebuilds_only_when_subscriptions_change(engine: Engine) -> None:
    cache = MatcherCache()
    with session_scope(engine) as session:
        chat = ensure_chat(session, platform="telegram", external_id="1")
        add_subscription(session, chat_id=chat.id or 0, topic="dân chủ")
        chat_id = chat.id or 0
    for _ in range(3):
        with session_scope(engine) as session:
            assert set(cache.get(session).match_article("Quy chế dân chủ", "", "")) == {chat_id}
    assert cache.builds == 1
    with session_scope(engine) as session:
        remove_subscription(session, chat_id=chat_id, topic="dân chủ")
        add_subscription(session, chat_id=chat_id, topic="bão")
    with session_scope(engine) as session:
        matcher = cache.get(session)
        assert matcher.match_article("Quy chế dân chủ", "", "") == {}
        assert set(matcher.match_article("Cảnh báo bão", "", "")) == {chat_id}
    assert cache.builds == 2
