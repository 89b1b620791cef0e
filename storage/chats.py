"""Chats and their preferences: registration, language, digest, quiet hours, subscriptions."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from sqlalchemy import func
from sqlmodel import Session, col, delete, select

from storage.models import Chat, Subscription
from storage.text import fold_words, normalize

MAX_TOPIC_CHARS = 100
MAX_TOPICS_PER_CHAT = 30
DIGEST_MODES = ("instant", "daily")


class AddOutcome(Enum):
    """What `add_subscription` did."""

    ADDED = "added"
    EXISTS = "exists"
    TOO_MANY = "too_many"
    TOO_LONG = "too_long"
    NO_WORDS = "no_words"


@dataclass(frozen=True)
class Started:
    """The chat after `/start`, and whether it was new or came back from inactive."""

    chat: Chat
    created: bool
    reactivated: bool


def find_chat(session: Session, *, platform: str, external_id: str) -> Chat | None:
    """The chat with this platform id, or None."""
    stmt = select(Chat).where(Chat.platform == platform, Chat.external_id == external_id)
    return session.exec(stmt).first()


def ensure_chat(
    session: Session,
    *,
    platform: str,
    external_id: str,
    kind: str = "private",
    title: str = "",
    access: str = "approved",
) -> Chat:
    """The chat, created (active; `access` approved or pending) when it first talks to the bot."""
    chat = find_chat(session, platform=platform, external_id=external_id)
    if chat is not None:
        return chat
    return _add_chat(session, platform, external_id, kind, title, access)


def _add_chat(
    session: Session,
    platform: str,
    external_id: str,
    kind: str,
    title: str,
    access: str = "approved",
) -> Chat:
    chat = Chat(platform=platform, external_id=external_id, kind=kind, title=title, access=access)
    session.add(chat)
    session.flush()
    return chat


def start_chat(
    session: Session, *, platform: str, external_id: str, kind: str = "private", title: str = ""
) -> Started:
    """Register the chat, or reactivate it when deliveries had stopped (blocked, not found)."""
    chat = find_chat(session, platform=platform, external_id=external_id)
    created = chat is None
    if chat is None:  # one lookup, not a second one inside ensure_chat
        chat = _add_chat(session, platform, external_id, kind, title)
    reactivated = not chat.active
    chat.active, chat.inactive_reason = True, None
    chat.kind = kind or chat.kind
    chat.title = title or chat.title
    session.add(chat)
    session.flush()
    return Started(chat=chat, created=created, reactivated=reactivated)


def deactivate_chat(session: Session, *, chat_id: int, reason: str) -> None:
    """Stop deliveries to a chat (e.g. the bot was blocked); `/start` undoes it."""
    chat = session.get(Chat, chat_id)
    if chat is not None:
        chat.active, chat.inactive_reason = False, reason
        session.add(chat)


def set_language(session: Session, *, chat_id: int, language: str | None) -> None:
    """The chat's language ("vi", "en"), or None to follow each user's client."""
    _update(session, chat_id, language=language)


def set_digest(session: Session, *, chat_id: int, mode: str, time: str | None = None) -> None:
    """Instant alerts, or one daily digest at local "HH:MM"."""
    if mode not in DIGEST_MODES:
        raise ValueError(f"unknown digest mode {mode!r}")
    if mode == "daily" and not time:
        raise ValueError("a daily digest needs a time")
    _update(session, chat_id, digest_mode=mode, digest_time=time if mode == "daily" else None)


def set_quiet(session: Session, *, chat_id: int, start: str | None, end: str | None) -> None:
    """Quiet hours "HH:MM"-"HH:MM" local (both None: no quiet hours)."""
    if (start is None) != (end is None):
        raise ValueError("quiet hours need both a start and an end")
    _update(session, chat_id, quiet_start=start, quiet_end=end)


def _update(session: Session, chat_id: int, **values: object) -> None:
    chat = session.get(Chat, chat_id)
    if chat is None:
        raise LookupError(f"no chat {chat_id}")
    for name, value in values.items():
        setattr(chat, name, value)
    session.add(chat)
    session.flush()


def topic_key(topic: str) -> str:
    """The folded form a topic is stored and matched under ("" = every article)."""
    return fold_words(topic)


def add_subscription(
    session: Session,
    *,
    chat_id: int,
    topic: str,
    source: str = "",
    max_topics: int = MAX_TOPICS_PER_CHAT,
) -> AddOutcome:
    """Subscribe the chat to a topic (empty topic = every new article), within one source's
    articles when `source` names one ("" = every source)."""
    shown = normalize(topic)
    if len(shown) > MAX_TOPIC_CHARS:
        return AddOutcome.TOO_LONG
    folded = topic_key(shown)
    if shown and not folded:
        return AddOutcome.NO_WORDS
    exists = select(Subscription.id).where(
        Subscription.chat_id == chat_id,
        Subscription.topic_folded == folded,
        Subscription.source == source,
    )
    if session.exec(exists).first() is not None:
        return AddOutcome.EXISTS
    count = session.exec(
        select(func.count()).select_from(Subscription).where(Subscription.chat_id == chat_id)
    ).one()
    if count >= max_topics:
        return AddOutcome.TOO_MANY
    session.add(Subscription(chat_id=chat_id, topic=shown, topic_folded=folded, source=source))
    session.flush()
    return AddOutcome.ADDED


def remove_subscription(session: Session, *, chat_id: int, topic: str, source: str = "") -> bool:
    """Drop one topic (matched by its folded form, within `source`); False when absent."""
    stmt = delete(Subscription).where(
        col(Subscription.chat_id) == chat_id,
        col(Subscription.topic_folded) == topic_key(normalize(topic)),
        col(Subscription.source) == source,
    )
    return bool(session.exec(stmt).rowcount)


def remove_all_subscriptions(session: Session, *, chat_id: int) -> int:
    """Drop every topic of the chat; how many there were."""
    stmt = delete(Subscription).where(col(Subscription.chat_id) == chat_id)
    return int(session.exec(stmt).rowcount)


def list_subscriptions(session: Session, *, chat_id: int) -> list[Subscription]:
    """The chat's topics, oldest first."""
    stmt = (
        select(Subscription)
        .where(Subscription.chat_id == chat_id)
        .order_by(col(Subscription.created_at), col(Subscription.id))
    )
    return list(session.exec(stmt).all())


def broadcast_recipients(
    session: Session, *, topic: str | None = None, platforms: tuple[str, ...] | None = None
) -> list[int]:
    """Active approved chats on the delivering `platforms` (default: all but the console);
    with a topic, only that topic's subscribers."""
    stmt = select(Chat.id).where(Chat.active == True, Chat.access == "approved")  # noqa: E712
    if platforms is None:
        stmt = stmt.where(Chat.platform != "console")
    else:
        stmt = stmt.where(col(Chat.platform).in_(platforms))
    if topic is not None:
        subscribed = select(Subscription.chat_id).where(
            Subscription.topic_folded == topic_key(normalize(topic))
        )
        stmt = stmt.where(col(Chat.id).in_(subscribed))
    return [int(cid) for cid in session.exec(stmt.order_by(col(Chat.id))).all() if cid]


def remove_subscription_by_id(
    session: Session, *, chat_id: int, subscription_id: int
) -> Subscription | None:
    """Drop one subscription of this chat by id (an alert's button); None if it is gone."""
    sub = session.get(Subscription, subscription_id)
    if sub is None or sub.chat_id != chat_id:
        return None
    session.delete(sub)
    session.flush()
    return sub
