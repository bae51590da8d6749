"""FAQ: the questions asked (for /faq_report) and the 👍/👎 votes.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 04:13:34.847017
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "faq_questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("topic_id", sa.String(length=64), nullable=True),
        sa.Column("score", sa.Double(), nullable=False),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_faq_questions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_faq_questions")),
    )
    with op.batch_alter_table("faq_questions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_faq_questions_asked_at"), ["asked_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_faq_questions_user_id"), ["user_id"], unique=False)

    op.create_table(
        "faq_votes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("topic_id", sa.String(length=64), nullable=False),
        sa.Column("vote", sa.Integer(), nullable=False),
        sa.Column("voted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_faq_votes_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_faq_votes")),
        sa.UniqueConstraint("user_id", "topic_id", name=op.f("uq_faq_votes_user_id")),
    )
    with op.batch_alter_table("faq_votes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_faq_votes_user_id"), ["user_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_faq_votes_voted_at"), ["voted_at"], unique=False)



def downgrade() -> None:
    with op.batch_alter_table("faq_votes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_faq_votes_voted_at"))
        batch_op.drop_index(batch_op.f("ix_faq_votes_user_id"))

    op.drop_table("faq_votes")
    with op.batch_alter_table("faq_questions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_faq_questions_user_id"))
        batch_op.drop_index(batch_op.f("ix_faq_questions_asked_at"))

    op.drop_table("faq_questions")
