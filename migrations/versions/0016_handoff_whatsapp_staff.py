"""Handoff: the staff member who holds a conversation from their own chat with Sportello.

Revision ID: 0016_handoff_whatsapp_staff
Revises: 0014_handoff
Create Date: 2026-12-06 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016_handoff_whatsapp_staff"
down_revision: str | None = "0014_handoff"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("handoffs", sa.Column("holder_user_id", sa.Integer(), nullable=True))
    op.create_index(op.f("ix_handoffs_holder_user_id"), "handoffs", ["holder_user_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_handoffs_holder_user_id"), table_name="handoffs")
    op.drop_column("handoffs", "holder_user_id")
