"""Delivery: kind and batch of outbox rows, the claiming sender, the shared send pace.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=16), nullable=False, server_default="message")
        )
        batch_op.add_column(sa.Column("batch", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("claimed_by", sa.BigInteger(), nullable=True))
        batch_op.create_index(batch_op.f("ix_outbox_batch"), ["batch"], unique=False)
        batch_op.create_index("ix_outbox_chat", ["channel", "chat_id", "sent_at"], unique=False)
    op.create_table(
        "send_pace",
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("free_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("channel", name=op.f("pk_send_pace")),
    )


def downgrade() -> None:
    op.drop_table("send_pace")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_chat")
        batch_op.drop_index(batch_op.f("ix_outbox_batch"))
        batch_op.drop_column("claimed_by")
        batch_op.drop_column("batch")
        batch_op.drop_column("kind")
