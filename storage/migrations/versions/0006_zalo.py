"""zalo: OA token pairs, inbound events already taken in, unreachable chats

Revision ID: 0006
Revises: 0002
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("chats") as batch_op:
        batch_op.add_column(sa.Column("unreachable_reason", sa.String(), nullable=True))
        batch_op.add_column(
            sa.Column("unreachable_since", sa.DateTime(timezone=True), nullable=True)
        )
    op.create_table(
        "zalo_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("app_id", sa.String(length=64), nullable=False),
        sa.Column("access_token", sa.Text(), nullable=True),
        sa.Column("refresh_token", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failure", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_zalo_tokens_app_used", "zalo_tokens", ["app_id", "used_at"])
    op.create_table(
        "inbound_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("event_id", sa.String(length=128), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("platform", "event_id", name="uq_inbound_events"),
    )
    op.create_index("ix_inbound_events_received_at", "inbound_events", ["received_at"])


def downgrade() -> None:
    op.drop_index("ix_inbound_events_received_at", table_name="inbound_events")
    op.drop_table("inbound_events")
    op.drop_index("ix_zalo_tokens_app_used", table_name="zalo_tokens")
    op.drop_table("zalo_tokens")
    with op.batch_alter_table("chats") as batch_op:
        batch_op.drop_column("unreachable_since")
        batch_op.drop_column("unreachable_reason")
