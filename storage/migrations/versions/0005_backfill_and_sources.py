"""backfill progress, learnt date order, subscriptions by source

Revision ID: 0005
Revises: 0002
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "backfill_states",
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("next_url", sa.String(), nullable=True),
        sa.Column("next_day", sa.Date(), nullable=True),
        sa.Column("pages_done", sa.Integer(), nullable=False),
        sa.Column("pages_limit", sa.Integer(), nullable=True),
        sa.Column("since", sa.Date(), nullable=True),
        sa.Column("articles_stored", sa.Integer(), nullable=False),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("source"),
    )
    with op.batch_alter_table("source_states", schema=None) as batch_op:
        batch_op.add_column(sa.Column("date_order", sa.String(length=3), nullable=True))
        batch_op.add_column(
            sa.Column("ambiguous_dates", sa.Integer(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("source", sa.String(length=100), nullable=False, server_default="")
        )
        batch_op.drop_constraint("uq_subscriptions_topic", type_="unique")
        batch_op.create_unique_constraint(
            "uq_subscriptions_topic", ["chat_id", "source", "topic_folded"]
        )


def downgrade() -> None:
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.drop_constraint("uq_subscriptions_topic", type_="unique")
        batch_op.create_unique_constraint("uq_subscriptions_topic", ["chat_id", "topic_folded"])
        batch_op.drop_column("source")
    with op.batch_alter_table("source_states", schema=None) as batch_op:
        batch_op.drop_column("ambiguous_dates")
        batch_op.drop_column("date_order")
    op.drop_table("backfill_states")
