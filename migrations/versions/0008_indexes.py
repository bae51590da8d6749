"""Indexes the outbox needs for large broadcasts: users by chat, the sender's queue order.

The outbox gains `priority` (1 for announcements and broadcasts, which go after one-to-one
messages) so that the sender reads its next rows straight from an index, in order, instead
of sorting every queued row at each claim.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22 11:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_users_chat", "users", ["channel", "chat_id"])
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("priority", sa.Integer(), nullable=False, server_default="0"))
    op.execute("UPDATE outbox SET priority = 1 WHERE kind IN ('announcement', 'broadcast')")
    op.drop_index("ix_outbox_state_due", table_name="outbox")
    op.create_index(
        "ix_outbox_queue", "outbox", ["state", "channel", "priority", "due_at", "id"]
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_queue", table_name="outbox")
    op.create_index("ix_outbox_state_due", "outbox", ["state", "due_at"])
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("priority")
    op.drop_index("ix_users_chat", table_name="users")
