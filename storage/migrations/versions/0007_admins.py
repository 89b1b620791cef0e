"""admins, audit log, chat access, broadcast previews and reports, source alarms, shared pace

Revision ID: 0007
Revises: 0002
Create Date: 2026-11-29
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BROADCAST_COLUMNS: list[sa.Column[Any]] = [
    sa.Column("kind", sa.String(16), nullable=False, server_default="announcement"),
    # Broadcasts made before previews existed were queued at once: they count as confirmed.
    sa.Column("state", sa.String(16), nullable=False, server_default="done"),
    sa.Column("author_chat_id", sa.Integer(), nullable=True),
    sa.Column("audience", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("sent", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("failed", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("unreachable", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("left", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("buttons", sa.JSON(), nullable=True),
    sa.Column("parent_id", sa.Integer(), nullable=True),
    sa.Column("lang", sa.String(8), nullable=True),
]


def upgrade() -> None:
    op.create_table(
        "admins",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("added_by", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("platform", "user_id", name="uq_admins_platform_user"),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("subject", sa.String(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_table(
        "send_pace",
        sa.Column("platform", sa.String(16), primary_key=True),
        sa.Column("next_at", sa.Float(), nullable=False),
    )
    with op.batch_alter_table("chats") as batch:
        batch.add_column(
            sa.Column("access", sa.String(16), nullable=False, server_default="approved")
        )
    with op.batch_alter_table("source_states") as batch:
        batch.add_column(
            sa.Column("alarmed", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("broadcasts") as batch:
        for column in _BROADCAST_COLUMNS:
            batch.add_column(column)


def downgrade() -> None:
    with op.batch_alter_table("broadcasts") as batch:
        for column in reversed(_BROADCAST_COLUMNS):
            batch.drop_column(column.name)
    with op.batch_alter_table("source_states") as batch:
        batch.drop_column("alarmed")
    with op.batch_alter_table("chats") as batch:
        batch.drop_column("access")
    op.drop_table("send_pace")
    op.drop_index("ix_audit_log_at", "audit_log")
    op.drop_table("audit_log")
    op.drop_table("admins")
