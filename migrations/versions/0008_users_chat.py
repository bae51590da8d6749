"""Users: an index on (channel, chat_id), which the outbox uses to find each recipient.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22 11:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_users_chat", "users", ["channel", "chat_id"])


def downgrade() -> None:
    op.drop_index("ix_users_chat", table_name="users")
