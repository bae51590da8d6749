"""Erasure reaches the staff chat: messages sent about a person are rewritten without them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.delivery import outbox
from bot.storage.models import OutboxMessage
from bot.values.i18n import N_, translate_in
from bot.values.markup import text
from bot.values.messages import Address, Delivery, Reply

REDACTED = N_("🗑 Messaggio rimosso: la persona ha cancellato i suoi dati.")


def redact_sent(session: Session, user_id: int, locale: str, now: datetime) -> int:
    """Queues an edit of every message sent to staff about the user, to a text that names
    no one; returns how many. The rows themselves go with the user's other data."""
    sent = session.execute(
        select(OutboxMessage.channel, OutboxMessage.chat_id, OutboxMessage.sent_ref).where(
            OutboxMessage.subject_id == user_id, OutboxMessage.sent_ref.is_not(None)
        )
    ).all()
    notice = text(translate_in(locale, REDACTED))
    for channel, chat_id, ref in sent:
        delivery = Delivery(
            Address(channel, chat_id),
            Reply(notice, edits=ref),
            key=f"redact:{channel}:{chat_id}:{ref}",
            kind="redaction",
        )
        outbox.enqueue(session, delivery, now)
    return len(sent)
