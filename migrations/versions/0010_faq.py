"""FAQ: questions asked before consent kept without a user; variants and gaps taught by staff.

Revision ID: 0010_faq
Revises: 0008
Create Date: 2026-12-06 04:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_faq"
down_revision: str | None = "0009_durability"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("faq_questions") as batch:
        batch.alter_column("user_id", existing_type=sa.Integer(), nullable=True)
    op.create_table(
        "faq_variants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("topic_id", sa.String(length=64), nullable=False),
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("exported_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_faq_variants")),
    )
    op.create_table(
        "faq_gaps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.Column("asked", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_faq_gaps")),
    )


def downgrade() -> None:
    op.drop_table("faq_gaps")
    op.drop_table("faq_variants")
    op.execute("DELETE FROM faq_questions WHERE user_id IS NULL")
    with op.batch_alter_table("faq_questions") as batch:
        batch.alter_column("user_id", existing_type=sa.Integer(), nullable=False)
