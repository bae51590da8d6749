"""Privacy: an outbox row to staff records whose data it carries; users only from private chats.

Each booking gets its own video room (`bookings.room`). `outbox.subject_id` is the person a staff card is about (exported to them, erased with them);
`outbox.sent_ref` the platform's id of the sent message, so erasure can redact a card already
in the staff chat. Users created by a message in a Telegram group (their chat id is the
group's, negative) never wrote privately: they and their rows go, and outbox rows to groups
belong to no user any more.

Revision ID: 0012_privacy
Revises: 0008
Create Date: 2026-12-06 04:00:00
"""

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_privacy"
down_revision: str | None = "0011_conversations"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GROUP_USERS = "SELECT id FROM users WHERE channel = 'telegram' AND chat_id LIKE '-%'"
# Tables whose rows belong to a user, children first (as bot/storage/personal_data.py).
OWNED = (
    "survey_responses",
    "reminders",
    "bookings",
    "subscriptions",
    "rsvps",
    "faq_questions",
    "faq_votes",
    "conversations",
    "whatsapp_contacts",
    "consents",
)


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("subject_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("sent_ref", sa.String(64), nullable=True))
        batch.create_foreign_key(
            "fk_outbox_subject_id_users", "users", ["subject_id"], ["id"], ondelete="CASCADE"
        )
        batch.create_index("ix_outbox_subject_id", ["subject_id"])
    with op.batch_alter_table("bookings") as batch:
        batch.add_column(sa.Column("room", sa.String(32), nullable=False, server_default=""))
    with op.batch_alter_table("bookings") as batch:
        batch.alter_column("room", server_default=None)
    connection = op.get_bind()
    for (booking_id,) in connection.execute(sa.text("SELECT id FROM bookings")).all():
        connection.execute(
            sa.text("UPDATE bookings SET room = :room WHERE id = :id"),
            {"room": secrets.token_urlsafe(12), "id": booking_id},
        )
    op.execute(
        "UPDATE outbox SET user_id = NULL WHERE channel = 'telegram' AND chat_id LIKE '-%'"
    )
    op.execute(f"UPDATE outbox SET user_id = NULL WHERE user_id IN ({GROUP_USERS})")
    for table in OWNED:
        op.execute(f"DELETE FROM {table} WHERE user_id IN ({GROUP_USERS})")  # noqa: S608
    op.execute(f"DELETE FROM users WHERE id IN ({GROUP_USERS})")  # noqa: S608


def downgrade() -> None:
    with op.batch_alter_table("bookings") as batch:
        batch.drop_column("room")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_index("ix_outbox_subject_id")
        batch.drop_constraint("fk_outbox_subject_id_users", type_="foreignkey")
        batch.drop_column("sent_ref")
        batch.drop_column("subject_id")
