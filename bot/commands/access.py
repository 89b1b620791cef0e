"""Who is admin, who may use the bot (ACCESS_MODE=approval), and notices to the admins."""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel import Session, col, select

from bot.commands.base import Ctx, Request, Services
from bot.i18n import pick_language, t
from jobs.delivery.reply import Reply
from storage import admins as store
from storage import broadcasts
from storage.chats import find_chat
from storage.models import Chat

APPROVE = "ac:ok:"
REJECT = "ac:no:"
# A chat waiting for approval may still read /help and change its language.
WHILE_PENDING = frozenset({"help", "lang"})
# Admin ids are Telegram user ids; the console speaks as one of them (`chat --as ID`).
ADMIN_PLATFORM = {"console": "telegram"}


def admin_platform(platform: str) -> str:
    """The platform whose admin list applies to requests from `platform`."""
    return ADMIN_PLATFORM.get(platform, platform)


def is_admin(session: Session, services: Services, req: Request) -> bool:
    """TELEGRAM_ADMIN_IDS (or the channel's own say-so), else an admin added with /admin add."""
    if req.is_admin:
        return True
    if not req.user_id:
        return False
    if req.user_id in services.admin_ids:
        return True
    return store.is_stored_admin(
        session, platform=admin_platform(req.platform), user_id=req.user_id
    )


def chat_for(session: Session, services: Services, req: Request, admin: bool) -> tuple[Chat, bool]:
    """The request's chat and whether it was created now (pending in approval mode)."""
    chat = find_chat(session, platform=req.platform, external_id=req.chat_id)
    if chat is not None:
        return chat, False
    held = services.access_mode == "approval" and not admin
    chat = Chat(
        platform=req.platform,
        external_id=req.chat_id,
        kind=req.chat_kind,
        title=req.chat_title,
        access="pending" if held else "approved",
    )
    session.add(chat)
    session.flush()
    return chat, True


def who(chat: Chat) -> str:
    """A chat as admins see it: title (or kind) and platform id."""
    name = chat.title or chat.kind
    return f"{name} ({chat.platform} {chat.external_id})"


def gate(ctx: Ctx, created: bool, name: str) -> Reply | None:
    """None when the chat may be served; else the polite answer of a waiting or rejected chat."""
    chat = ctx.chat
    if ctx.is_admin or chat.access == "approved" or name in WHILE_PENDING:
        return None
    if chat.access == "rejected":
        return Reply.plain(t(ctx.lang, "access_rejected"))
    if created:
        ask_admins(ctx.session, ctx.services, chat)
    return Reply.plain(t(ctx.lang, "access_waiting"))


def admin_chats(session: Session, services: Services) -> list[Chat]:
    """The admins' own private chats with the bot (they must have talked to it once)."""
    platforms = services.platforms or ("telegram",)
    found: list[Chat] = []
    for platform in platforms:
        ids = set(services.admin_ids) | {
            a.user_id for a in store.stored_admins(session, platform=admin_platform(platform))
        }
        if not ids:
            continue
        stmt = select(Chat).where(
            Chat.platform == platform,
            col(Chat.external_id).in_(sorted(ids)),
            col(Chat.active).is_(True),
        )
        found += list(session.exec(stmt).all())
    return found


def notify_admins(
    session: Session,
    services: Services,
    *,
    text: Callable[[str], str],
    buttons: Callable[[str], list[list[dict[str, str]]]] | None = None,
) -> int:
    """Queue a notice to every admin chat, in each chat's language; rows queued."""
    by_lang: dict[str, list[int]] = {}
    for chat in admin_chats(session, services):
        by_lang.setdefault(pick_language(chat.language, None), []).append(chat.id or 0)
    now = services.clock()
    return sum(
        broadcasts.notify(
            session,
            chat_ids=ids,
            text=text(lang),
            now=now,
            buttons=buttons(lang) if buttons else None,
        )
        for lang, ids in by_lang.items()
    )


def notify_chat(
    session: Session, services: Services, chat: Chat, key: str, **values: object
) -> int:
    """Queue one notice to one chat, in its language."""
    text = t(pick_language(chat.language, None), key, **values)
    return broadcasts.notify(session, chat_ids=[chat.id or 0], text=text, now=services.clock())


def ask_admins(session: Session, services: Services, chat: Chat) -> int:
    """The approval request: a notice with Approve / Reject buttons to every admin."""
    return notify_admins(
        session,
        services,
        text=lambda lang: t(lang, "access_request", who=who(chat)),
        buttons=lambda lang: [
            [
                {"text": t(lang, "approve"), "data": f"{APPROVE}{chat.id}"},
                {"text": t(lang, "reject"), "data": f"{REJECT}{chat.id}"},
            ]
        ],
    )


def decide(ctx: Ctx, data: str) -> Reply:
    """An Approve / Reject button: set the chat's access, audit it, tell the chat."""
    approve = data.startswith(APPROVE)
    raw = data.removeprefix(APPROVE if approve else REJECT)
    chat = ctx.session.get(Chat, int(raw)) if raw.isdecimal() else None
    if chat is None:
        return Reply.plain(t(ctx.lang, "access_gone"))
    state = "approved" if approve else "rejected"
    changed = chat.access != state
    store.set_access(ctx.session, chat_id=chat.id or 0, access=state)
    if changed:
        store.audit(
            ctx.session,
            actor=actor(ctx),
            action="approve" if approve else "reject",
            subject=who(chat),
            now=ctx.services.clock(),
        )
        notify_chat(
            ctx.session,
            ctx.services,
            chat,
            "access_approved_user" if approve else "access_rejected",
        )
    key = "access_approved_admin" if approve else "access_rejected_admin"
    return Reply.plain(t(ctx.lang, key, who=who(chat)))


def actor(ctx: Ctx) -> str:
    """ "telegram:123": who did it, for the audit log."""
    return f"{ctx.request.platform}:{ctx.request.user_id or ctx.request.chat_id}"
