"""WhatsApp identifiers: a user's business-scoped user id (BSUID), phone number and username;
how long the bot keeps quiet in a chat where staff answered from the WhatsApp Business app;
and which sent messages were (paid) templates, for the delivery report's costs.

Since April 2026 WhatsApp names every user by a BSUID, and a user with a username may come
without a phone number. Existing WhatsApp users were keyed by their phone number: their
contact rows learn it here, and their BSUID when they next write.

Revision ID: 0013_whatsapp_ids
Revises: 0008
Create Date: 2026-12-06 04:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_whatsapp_ids"
down_revision: str | None = "0012_privacy"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("whatsapp_contacts") as batch:
        batch.add_column(sa.Column("bsuid", sa.String(length=160), nullable=True))
        batch.add_column(sa.Column("phone", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("username", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("silent_until", sa.DateTime(timezone=True), nullable=True))
        batch.create_unique_constraint(op.f("uq_whatsapp_contacts_bsuid"), ["bsuid"])
        batch.create_unique_constraint(op.f("uq_whatsapp_contacts_phone"), ["phone"])
    with op.batch_alter_table("whatsapp_sent") as batch:
        batch.add_column(
            sa.Column("template", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    # Every WhatsApp user so far was keyed by their phone number.
    op.execute(
        "UPDATE whatsapp_contacts SET phone = (SELECT users.external_id FROM users"
        " WHERE users.id = whatsapp_contacts.user_id AND users.channel = 'whatsapp')"
    )


def downgrade() -> None:
    with op.batch_alter_table("whatsapp_sent") as batch:
        batch.drop_column("template")
    with op.batch_alter_table("whatsapp_contacts") as batch:
        batch.drop_constraint(op.f("uq_whatsapp_contacts_phone"), type_="unique")
        batch.drop_constraint(op.f("uq_whatsapp_contacts_bsuid"), type_="unique")
        batch.drop_column("silent_until")
        batch.drop_column("username")
        batch.drop_column("phone")
        batch.drop_column("bsuid")
