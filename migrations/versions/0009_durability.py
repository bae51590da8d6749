"""Durability: the Telegram inbox, inbox claims by instance, the shared send pause.

`telegram_inbox` holds each update before Telegram is told it arrived (the next getUpdates
offset, or the webhook's 200). Both inboxes remember which instance claimed an item, so the
items of an instance that died are taken again at once. `send_pace` gains the pause every
sender checks right before each call (a 429, an outage) and the outage's backoff.

Revision ID: 0009_durability
Revises: 0008
Create Date: 2026-12-06 04:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_durability"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "telegram_inbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claimed_by", sa.BigInteger(), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_telegram_inbox")),
        sa.UniqueConstraint("key", name=op.f("uq_telegram_inbox_key")),
    )
    op.create_index(
        op.f("ix_telegram_inbox_received_at"), "telegram_inbox", ["received_at"], unique=False
    )
    op.create_index(op.f("ix_telegram_inbox_done_at"), "telegram_inbox", ["done_at"], unique=False)
    with op.batch_alter_table("whatsapp_inbox") as batch:
        batch.add_column(sa.Column("claimed_by", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("send_pace") as batch:
        batch.add_column(
            sa.Column("paused_until", sa.Float(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("outage_since", sa.Float(), nullable=True))
        batch.add_column(
            sa.Column("outage_backoff", sa.Float(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("send_pace") as batch:
        batch.drop_column("outage_backoff")
        batch.drop_column("outage_since")
        batch.drop_column("paused_until")
    with op.batch_alter_table("whatsapp_inbox") as batch:
        batch.drop_column("claimed_by")
    op.drop_index(op.f("ix_telegram_inbox_done_at"), table_name="telegram_inbox")
    op.drop_index(op.f("ix_telegram_inbox_received_at"), table_name="telegram_inbox")
    op.drop_table("telegram_inbox")
