"""What every command gets: the request, the services, the chat row, the language."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.commands.paging import QueryStore
from bot.flood import RateLimiter
from jobs.delivery.quiet import parse_hhmm as parse_time_of_day
from jobs.delivery.reply import Reply
from storage.models import Chat
from storage.types import utcnow

PER_PAGE = 10
_COMMAND = re.compile(r"/([A-Za-z0-9_]{1,32})(?:@[A-Za-z0-9_]{1,64})?(?=\s|$)")


@dataclass(frozen=True)
class Request:
    """One message to the bot, as any channel sees it."""

    platform: str  # telegram | zalo | console
    chat_id: str  # the platform's chat id
    text: str
    chat_kind: str = "private"  # private | group | supergroup | channel
    user_id: str | None = None
    language_code: str | None = None  # the client's language, e.g. "en-US"
    is_admin: bool = False
    chat_title: str = ""


@dataclass
class Services:
    """Long-lived things the command logic needs; the composition root builds one."""

    engine: Engine
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Ho_Chi_Minh"))
    clock: Callable[[], datetime] = utcnow
    monotonic: Callable[[], float] = time.monotonic
    limiter: RateLimiter = field(default_factory=RateLimiter)
    queries: QueryStore = field(default_factory=QueryStore)
    per_page: int = PER_PAGE


@dataclass
class Ctx:
    """One command's context: services, request, open session, chat row, language."""

    services: Services
    request: Request
    session: Session
    chat: Chat
    lang: str

    @property
    def chat_pk(self) -> int:
        """The chat's row id."""
        assert self.chat.id is not None
        return self.chat.id


Command = Callable[[Ctx, str], Reply]


def split_command(text: str) -> tuple[str, str] | None:
    """("latest", "5") for "/latest@Bot 5"; None when the text is not a command."""
    text = text.strip()
    m = _COMMAND.match(text)
    if m is None:
        return None
    return m[1].lower(), text[m.end() :].strip()


def normalize_hhmm(text: str) -> str | None:
    """What a user typed as a time ("7:30", "7h30", "7h", "7"), stored as "07:30", or None
    (the grammar is jobs.delivery.quiet's, the one that reads it back)."""
    moment = parse_time_of_day(text)
    return f"{moment:%H:%M}" if moment is not None else None
