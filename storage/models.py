"""SQLModel tables: articles, source state, chats, subscriptions, broadcasts, deliveries."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime, utcnow


def _utc(**kw: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kw)


class ArticleBase(SQLModel):
    """What a parser produces for one article, after normalisation (plain values)."""

    key: str = Field(max_length=512)
    source: str = Field(max_length=100)
    url: str
    title: str
    summary: str = ""
    body: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    attachments: list[dict[str, str]] = Field(default_factory=list, sa_column=Column(JSON))
    published_at: datetime | None = _utc(default=None)
    local_date: date | None = Field(default=None, index=True)
    # published_at was in the future when first seen, so it holds that moment instead.
    published_clamped: bool = False


class Article(ArticleBase, table=True):
    """A stored article; `key` is its stable identity, `content_hash` detects edits."""

    __tablename__ = "articles"
    __table_args__ = (
        UniqueConstraint("key", name="uq_articles_key"),
        Index("ix_articles_published_at_id", "published_at", "id"),
        Index("ix_articles_source_published_at_id", "source", "published_at", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    content_hash: str = Field(max_length=64)
    # Folded copies (storage.text.fold) feed the search index and the topic matcher.
    title_folded: str = ""
    body_folded: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    first_seen_at: datetime = _utc(default_factory=utcnow)
    updated_at: datetime = _utc(default_factory=utcnow)
    edit_count: int = 0


class SourceState(SQLModel, table=True):
    """Health and back-off of one configured source (sources themselves live in TOML)."""

    __tablename__ = "source_states"

    name: str = Field(primary_key=True, max_length=100)
    last_attempt_at: datetime | None = _utc(default=None)
    last_success_at: datetime | None = _utc(default=None)
    last_error: str | None = None
    last_error_at: datetime | None = _utc(default=None)
    consecutive_failures: int = 0
    next_attempt_at: datetime | None = _utc(default=None)
    last_item_count: int = 0
    ever_yielded: bool = False
    layout_changed: bool = False
    skipped_items: int = 0  # items left out by the last poll (unreadable or unstorable)
    last_skip_reason: str | None = None
    # "dmy" | "mdy" once the source's own dates settled it (jobs.ingest.date_order).
    date_order: str | None = Field(default=None, max_length=3)
    ambiguous_dates: int = 0  # dates of the last read left empty: day/month order unsettled
    alarmed: bool = False  # the admins were told it is failing; they hear once when it recovers


class BackfillState(SQLModel, table=True):
    """Progress of one source's archive crawl, saved after every listing page (resumable)."""

    __tablename__ = "backfill_states"

    source: str = Field(primary_key=True, max_length=100)
    next_url: str | None = None  # the listing page to read next; None once the walk ended
    next_day: date | None = None  # by-date pages: the next day to read (walking back)
    pages_done: int = 0
    pages_limit: int | None = None
    since: date | None = None
    articles_stored: int = 0
    requests: int = 0
    failures: int = 0
    last_error: str | None = None
    started_at: datetime = _utc(default_factory=utcnow)
    updated_at: datetime = _utc(default_factory=utcnow)
    finished_at: datetime | None = _utc(default=None)


class HttpCacheEntry(SQLModel, table=True):
    """Validators of the last 200 answer per URL, for conditional GET."""

    __tablename__ = "http_cache"

    url: str = Field(primary_key=True, max_length=2048)
    etag: str | None = None
    last_modified: str | None = None
    checked_at: datetime = _utc(default_factory=utcnow)


class Chat(SQLModel, table=True):
    """A chat on one platform that talks to the bot, with its preferences."""

    __tablename__ = "chats"
    __table_args__ = (UniqueConstraint("platform", "external_id", name="uq_chats_platform_ext"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)  # telegram | zalo | console
    external_id: str = Field(max_length=64)
    kind: str = Field(default="private", max_length=16)  # private | group | supergroup | channel
    title: str = ""
    language: str | None = Field(default=None, max_length=8)  # None: follow the client
    active: bool = True
    inactive_reason: str | None = None
    digest_mode: str = Field(default="instant", max_length=16)  # instant | daily
    digest_time: str | None = Field(default=None, max_length=5)  # "HH:MM" local
    quiet_start: str | None = Field(default=None, max_length=5)
    quiet_end: str | None = Field(default=None, max_length=5)
    last_digest_at: datetime | None = _utc(default=None)
    created_at: datetime = _utc(default_factory=utcnow)
    # approved | pending | rejected (ACCESS_MODE=approval: a new chat waits for an admin)
    access: str = Field(default="approved", max_length=16)
    # Zalo OA: proactive messages cannot reach the chat (-230 window, -213 not following);
    # alerts still queue and fail with this reason until the user writes again.
    unreachable_reason: str | None = None
    unreachable_since: datetime | None = _utc(default=None)


class Subscription(SQLModel, table=True):
    """A chat's topic, within one source or any; an empty `topic_folded` means every article."""

    __tablename__ = "subscriptions"
    __table_args__ = (
        UniqueConstraint("chat_id", "source", "topic_folded", name="uq_subscriptions_topic"),
    )

    id: int | None = Field(default=None, primary_key=True)
    chat_id: int = Field(foreign_key="chats.id", ondelete="CASCADE", index=True)
    topic: str = ""
    topic_folded: str = Field(default="", index=True)
    source: str = Field(default="", max_length=100)  # a source's name; "" = every source
    created_at: datetime = _utc(default_factory=utcnow)


class Broadcast(SQLModel, table=True):
    """An admin announcement (or a notice to admins), fanned out through the delivery queue.

    An announcement is a draft until its author confirms it; its counts are its audit trail.
    """

    __tablename__ = "broadcasts"

    id: int | None = Field(default=None, primary_key=True)
    text: str = Field(sa_column=Column(Text, nullable=False))
    topic: str | None = None
    author: str = ""
    created_at: datetime = _utc(default_factory=utcnow)
    kind: str = Field(default="announcement", max_length=16)  # announcement | notice
    # draft | confirmed | cancelled (by /broadcast cancel) | discarded (Cancel button) | done
    state: str = Field(default="draft", max_length=16)
    author_chat_id: int | None = None  # the chat that asked (chats.id): preview, report
    audience: int = 0
    confirmed_at: datetime | None = _utc(default=None)
    finished_at: datetime | None = _utc(default=None)
    sent: int = 0
    failed: int = 0
    unreachable: int = 0
    left: int = 0
    # A notice's inline buttons: [[{"text": ..., "data": ...}]] (e.g. approve / reject).
    buttons: list[list[dict[str, str]]] | None = Field(default=None, sa_column=Column(JSON))
    parent_id: int | None = None  # a progress notice: the announcement it follows
    lang: str | None = Field(default=None, max_length=8)  # the author's: progress, report


class Admin(SQLModel, table=True):
    """An admin added with /admin add (those in TELEGRAM_ADMIN_IDS are not stored)."""

    __tablename__ = "admins"
    __table_args__ = (UniqueConstraint("platform", "user_id", name="uq_admins_platform_user"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    user_id: str = Field(max_length=64)
    added_by: str = ""
    created_at: datetime = _utc(default_factory=utcnow)


class AuditEntry(SQLModel, table=True):
    """Who did what as an admin, and when: admins added or removed, chats approved, etc."""

    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _utc(default_factory=utcnow, index=True)
    actor: str = Field(max_length=100)  # "telegram:123"
    action: str = Field(max_length=32)  # admin_add | admin_remove | approve | reject | broadcast
    subject: str = ""
    detail: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))


class Delivery(SQLModel, table=True):
    """One message owed to one chat: an alert, a broadcast or a digest part."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("article_id", "chat_id", name="uq_deliveries_article_chat"),
        UniqueConstraint("broadcast_id", "chat_id", name="uq_deliveries_broadcast_chat"),
        Index("ix_deliveries_state_due", "state", "not_before"),
        Index("ix_deliveries_sent_at", "sent_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    chat_id: int = Field(foreign_key="chats.id", ondelete="CASCADE", index=True)
    kind: str = Field(default="alert", max_length=16)  # alert | broadcast | digest
    article_id: int | None = Field(default=None, foreign_key="articles.id", ondelete="CASCADE")
    broadcast_id: int | None = Field(default=None, foreign_key="broadcasts.id", ondelete="CASCADE")
    topic: str | None = None
    # pending | sending | sent | failed | cancelled | ambiguous
    state: str = Field(default="pending", max_length=16)
    attempts: int = 0
    not_before: datetime = _utc(default_factory=utcnow)
    lease_owner: str | None = Field(default=None, max_length=64)
    lease_until: datetime | None = _utc(default=None)
    message_id: str | None = None
    error: str | None = None
    created_at: datetime = _utc(default_factory=utcnow)
    sent_at: datetime | None = _utc(default=None)


class SendPace(SQLModel, table=True):
    """The next free send slot of a platform, shared by every replica (global rate limit)."""

    __tablename__ = "send_pace"

    platform: str = Field(primary_key=True, max_length=16)
    # Seconds since the epoch (the database's clock on PostgreSQL): arithmetic in one UPDATE
    # on both databases, which an interval on a SQLite text timestamp would not allow.
    next_at: float = 0.0


class ZaloToken(SQLModel, table=True):
    """One Zalo OA token pair; the newest row with `used_at` unset is the live one.

    A refresh token works once: the row that refreshed is marked used in the same transaction
    that stores its successor, so a crash can never leave only a spent token behind.
    """

    __tablename__ = "zalo_tokens"
    __table_args__ = (Index("ix_zalo_tokens_app_used", "app_id", "used_at"),)

    id: int | None = Field(default=None, primary_key=True)
    app_id: str = Field(max_length=64)
    access_token: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    refresh_token: str = Field(sa_column=Column(Text, nullable=False))
    expires_at: datetime | None = _utc(default=None)  # of the access token
    created_at: datetime = _utc(default_factory=utcnow)
    used_at: datetime | None = _utc(default=None)  # when its refresh token was spent
    failure: str | None = None  # a permanent refresh failure: the configuration alarm


class InboundEvent(SQLModel, table=True):
    """An inbound event already taken in (Zalo retries webhooks; getUpdates has no offset)."""

    __tablename__ = "inbound_events"
    __table_args__ = (UniqueConstraint("platform", "event_id", name="uq_inbound_events"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    event_id: str = Field(max_length=128)
    received_at: datetime = _utc(default_factory=utcnow, index=True)
