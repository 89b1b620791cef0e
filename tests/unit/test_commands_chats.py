"""storage.chats on real SQLite and PostgreSQL: registration, preferences, subscriptions."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine

from storage import chats
from storage.chats import AddOutcome
from storage.db import session_scope


def _chat_id(engine: Engine, external_id: str = "42") -> int:
    with session_scope(engine) as s:
        chat = chats.ensure_chat(s, platform="telegram", external_id=external_id)
        assert chat.id is not None
        return chat.id


def test_start_registers_then_reactivates(engine: Engine) -> None:
    with session_scope(engine) as s:
        first = chats.start_chat(s, platform="telegram", external_id="7", kind="group", title="T")
        assert first.created and not first.reactivated
        assert first.chat.id is not None
        chats.deactivate_chat(s, chat_id=first.chat.id, reason="blocked")
    with session_scope(engine) as s:
        chat = chats.find_chat(s, platform="telegram", external_id="7")
        assert chat is not None and not chat.active and chat.inactive_reason == "blocked"
        again = chats.start_chat(s, platform="telegram", external_id="7", kind="group")
        assert not again.created and again.reactivated
        assert again.chat.active and again.chat.inactive_reason is None
        assert again.chat.title == "T"


def test_same_id_on_two_platforms_is_two_chats(engine: Engine) -> None:
    a = _chat_id(engine, "1")
    with session_scope(engine) as s:
        b = chats.ensure_chat(s, platform="console", external_id="1").id
    assert a != b


def test_preferences_are_stored(engine: Engine) -> None:
    cid = _chat_id(engine)
    with session_scope(engine) as s:
        chats.set_language(s, chat_id=cid, language="en")
        chats.set_digest(s, chat_id=cid, mode="daily", time="07:30")
        chats.set_quiet(s, chat_id=cid, start="22:00", end="06:00")
    with session_scope(engine) as s:
        chat = chats.find_chat(s, platform="telegram", external_id="42")
        assert chat is not None
        assert (chat.language, chat.digest_mode, chat.digest_time) == ("en", "daily", "07:30")
        assert (chat.quiet_start, chat.quiet_end) == ("22:00", "06:00")
        chats.set_digest(s, chat_id=cid, mode="instant")
        chats.set_quiet(s, chat_id=cid, start=None, end=None)
    with session_scope(engine) as s:
        chat = chats.find_chat(s, platform="telegram", external_id="42")
        assert chat is not None
        assert (chat.digest_mode, chat.digest_time, chat.quiet_start) == ("instant", None, None)


def test_bad_preferences_raise(engine: Engine) -> None:
    cid = _chat_id(engine)
    with session_scope(engine) as s, pytest.raises(ValueError):
        chats.set_digest(s, chat_id=cid, mode="weekly")
    with session_scope(engine) as s, pytest.raises(ValueError):
        chats.set_digest(s, chat_id=cid, mode="daily")
    with session_scope(engine) as s, pytest.raises(ValueError):
        chats.set_quiet(s, chat_id=cid, start="22:00", end=None)


def test_subscriptions_fold_dedupe_and_remove(engine: Engine) -> None:
    cid = _chat_id(engine)
    with session_scope(engine) as s:
        assert chats.add_subscription(s, chat_id=cid, topic="Quy chế dân chủ") is AddOutcome.ADDED
        assert chats.add_subscription(s, chat_id=cid, topic="QUY CHE  dan-chu") is AddOutcome.EXISTS
        assert chats.add_subscription(s, chat_id=cid, topic="") is AddOutcome.ADDED
        assert chats.add_subscription(s, chat_id=cid, topic="?!") is AddOutcome.NO_WORDS
        assert chats.add_subscription(s, chat_id=cid, topic="x" * 101) is AddOutcome.TOO_LONG
    with session_scope(engine) as s:
        subs = chats.list_subscriptions(s, chat_id=cid)
        assert [(x.topic, x.topic_folded) for x in subs] == [
            ("Quy chế dân chủ", "quy che dan chu"),
            ("", ""),
        ]
        assert chats.remove_subscription(s, chat_id=cid, topic="quy che dan chu")
        assert not chats.remove_subscription(s, chat_id=cid, topic="quy che dan chu")
        assert chats.remove_all_subscriptions(s, chat_id=cid) == 1
        assert chats.list_subscriptions(s, chat_id=cid) == []


def test_topic_limit_per_chat(engine: Engine) -> None:
    cid = _chat_id(engine)
    with session_scope(engine) as s:
        for i in range(3):
            assert (
                chats.add_subscription(s, chat_id=cid, topic=f"t{i}", max_topics=3).value == "added"
            )
        assert (
            chats.add_subscription(s, chat_id=cid, topic="t9", max_topics=3) is AddOutcome.TOO_MANY
        )
        assert len(chats.list_subscriptions(s, chat_id=cid)) == 3
