"""Survey: a retake is a draft beside the confirmed answers, which stay until it is confirmed.

Revision ID: 0011_conversations
Revises: 0008
Create Date: 2026-12-06 04:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_conversations"
down_revision: str | None = "0010_faq"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("survey_responses") as batch:
        batch.add_column(sa.Column("draft", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("survey_responses") as batch:
        batch.drop_column("draft")
