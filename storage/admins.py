"""Admins added at run time, the audit log, and chats' access (ACCESS_MODE=approval)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from storage.models import Admin, AuditEntry, Chat

ACCESS_STATES = ("approved", "pending", "rejected")


def is_stored_admin(session: Session, *, platform: str, user_id: str) -> bool:
    """Whether /admin add made this user an admin."""
    stmt = select(Admin.id).where(Admin.platform == platform, Admin.user_id == user_id)
    return session.exec(stmt).first() is not None


def add_admin(session: Session, *, platform: str, user_id: str, added_by: str) -> bool:
    """Store an admin; False when already stored."""
    if is_stored_admin(session, platform=platform, user_id=user_id):
        return False
    session.add(Admin(platform=platform, user_id=user_id, added_by=added_by))
    session.flush()
    return True


def remove_admin(session: Session, *, platform: str, user_id: str) -> bool:
    """Drop a stored admin; False when there was none."""
    stmt = select(Admin).where(Admin.platform == platform, Admin.user_id == user_id)
    found = session.exec(stmt).first()
    if found is None:
        return False
    session.delete(found)
    session.flush()
    return True


def stored_admins(session: Session, *, platform: str | None = None) -> list[Admin]:
    """Admins added with /admin add, oldest first."""
    stmt = select(Admin).order_by(col(Admin.id))
    if platform is not None:
        stmt = stmt.where(Admin.platform == platform)
    return list(session.exec(stmt).all())


def audit(
    session: Session, *, actor: str, action: str, subject: str = "", detail: str = "", now: datetime
) -> None:
    """Append one line to the audit log (same transaction as the change it records)."""
    session.add(AuditEntry(at=now, actor=actor, action=action, subject=subject, detail=detail))


def audit_entries(session: Session, *, limit: int = 50) -> list[AuditEntry]:
    """The newest audit entries first."""
    stmt = select(AuditEntry).order_by(col(AuditEntry.id).desc()).limit(limit)
    return list(session.exec(stmt).all())


def set_access(session: Session, *, chat_id: int, access: str) -> Chat | None:
    """Approve, hold or reject a chat; the chat, or None when it does not exist."""
    if access not in ACCESS_STATES:
        raise ValueError(f"unknown access state {access!r}")
    chat = session.get(Chat, chat_id)
    if chat is None:
        return None
    chat.access = access
    session.add(chat)
    session.flush()
    return chat


def pending_chats(session: Session, *, limit: int = 50) -> list[Chat]:
    """Chats waiting for an admin's approval, oldest first."""
    stmt = (
        select(Chat)
        .where(Chat.access == "pending")
        .order_by(col(Chat.created_at), col(Chat.id))
        .limit(limit)
    )
    return list(session.exec(stmt).all())
