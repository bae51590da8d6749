"""The inbox: verified notification items stored first, then handled by the channel's worker."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from bot.storage.models import WhatsAppInbox

CLAIM_EXPIRES = timedelta(minutes=5)  # a worker that died: its items are taken again
CHANNEL = "whatsapp_inbox"  # PostgreSQL's notification channel: new items for any instance
KEEP = timedelta(days=8)  # Meta re-delivers for up to 7 days: ids are kept that long


def store(
    session: Session, items: list[tuple[str, dict[str, Any]]], now: datetime, claim: bool = False
) -> list[tuple[int, dict[str, Any]]]:
    """Stores the items not seen before and returns them; `claim`: taken by this instance's
    worker at once, else left for any instance's (on PostgreSQL, woken by a notification)."""
    postgresql = session.get_bind().dialect.name == "postgresql"
    insert = postgresql_insert if postgresql else sqlite_insert
    new = []
    for key, body in items:
        statement = (
            insert(WhatsAppInbox)
            .values(key=key, body=body, received_at=now, claimed_at=now if claim else None)
            .on_conflict_do_nothing()
            .returning(WhatsAppInbox.id)
        )
        row_id = session.execute(statement).scalar()
        if row_id is not None:
            new.append((row_id, body))
    if new and postgresql and not claim:
        session.execute(text(f"NOTIFY {CHANNEL}"))
    return new


def claim(session: Session, now: datetime, limit: int) -> list[tuple[int, dict[str, Any]]]:
    """Up to `limit` unhandled items, oldest first, marked as taken by this worker."""
    free = or_(WhatsAppInbox.claimed_at.is_(None), WhatsAppInbox.claimed_at < now - CLAIM_EXPIRES)
    query = (
        select(WhatsAppInbox.id, WhatsAppInbox.body)
        .where(WhatsAppInbox.done_at.is_(None), free)
        .order_by(WhatsAppInbox.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = [(row_id, body) for row_id, body in session.execute(query)]
    if rows:
        ids = [row_id for row_id, _ in rows]
        session.execute(
            update(WhatsAppInbox).where(WhatsAppInbox.id.in_(ids)).values(claimed_at=now)
        )
    return rows


def done(session: Session, item_id: int, now: datetime) -> None:
    """Handled: the content goes (it is personal), the key stays to skip re-deliveries."""
    session.execute(
        update(WhatsAppInbox).where(WhatsAppInbox.id == item_id).values(body={}, done_at=now)
    )


def prune(session: Session, now: datetime) -> int:
    statement = (
        delete(WhatsAppInbox).where(WhatsAppInbox.done_at < now - KEEP).returning(WhatsAppInbox.id)
    )
    return len(session.scalars(statement).all())
