"""WhatsApp: the inbox of verified notifications, contacts (24-hour window), sent message ids.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "whatsapp_inbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_whatsapp_inbox")),
        sa.UniqueConstraint("key", name=op.f("uq_whatsapp_inbox_key")),
    )
    op.create_index(
        op.f("ix_whatsapp_inbox_received_at"), "whatsapp_inbox", ["received_at"], unique=False
    )
    op.create_index(op.f("ix_whatsapp_inbox_done_at"), "whatsapp_inbox", ["done_at"], unique=False)
    op.create_table(
        "whatsapp_contacts",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("last_inbound_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("choices", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_whatsapp_contacts_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_whatsapp_contacts")),
    )
    op.create_table(
        "whatsapp_sent",
        sa.Column("wamid", sa.String(length=200), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["outbox_id"],
            ["outbox.id"],
            name=op.f("fk_whatsapp_sent_outbox_id_outbox"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("wamid", name=op.f("pk_whatsapp_sent")),
    )
    op.create_index(
        op.f("ix_whatsapp_sent_outbox_id"), "whatsapp_sent", ["outbox_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_whatsapp_sent_outbox_id"), table_name="whatsapp_sent")
    op.drop_table("whatsapp_sent")
    op.drop_table("whatsapp_contacts")
    op.drop_index(op.f("ix_whatsapp_inbox_done_at"), table_name="whatsapp_inbox")
    op.drop_index(op.f("ix_whatsapp_inbox_received_at"), table_name="whatsapp_inbox")
    op.drop_table("whatsapp_inbox")
