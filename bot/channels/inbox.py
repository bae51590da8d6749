"""A channel's inbox: what the platform sent, stored before the platform is told it arrived,
then handled once by the channel's worker (`worker.py`)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from bot.storage.models import InboxColumns

CLAIM_EXPIRES = timedelta(minutes=5)  # an instance that hangs: its items are taken again
Item = tuple[int, dict[str, Any]]  # (row id, body)


class Inbox:
    """The rows of one inbox table, kept `keep` long after they are handled (to skip the
    platform's re-deliveries)."""

    def __init__(self, model: type[InboxColumns], keep: timedelta) -> None:
        self.model = model
        self.keep = keep

    def store(
        self, session: Session, items: list[tuple[str, Any]], now: datetime, by: int | None = None
    ) -> list[Item]:
        """Stores the items not seen before (claimed by instance `by`, if given, which then
        handles them at once); returns them."""
        if not items:
            return []
        model = self.model
        dialect = session.get_bind().dialect.name
        insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
        claim = {"claimed_at": now, "claimed_by": by} if by is not None else {}
        rows = [{"key": key, "body": body, "received_at": now, **claim} for key, body in items]
        statement = insert(model).on_conflict_do_nothing().returning(model.id, model.body)
        # One compiled statement, whatever the count (executemany, RETURNING included).
        stored = session.connection().execute(statement, rows)
        return sorted((row_id, body) for row_id, body in stored)

    def claim(self, session: Session, now: datetime, limit: int, by: int = 0) -> list[Item]:
        """Up to `limit` unhandled items, oldest first, marked as taken by instance `by`."""
        model = self.model
        free = or_(model.claimed_at.is_(None), model.claimed_at < now - CLAIM_EXPIRES)
        query = (
            select(model.id, model.body)
            .where(model.done_at.is_(None), free)
            .order_by(model.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        rows = [(row_id, body) for row_id, body in session.execute(query)]
        if rows:
            ids = [row_id for row_id, _ in rows]
            session.execute(
                update(model).where(model.id.in_(ids)).values(claimed_at=now, claimed_by=by)
            )
        return rows

    def done(self, session: Session, item_ids: Collection[int], now: datetime) -> None:
        """Handled: the content goes (it is personal), the key stays to skip re-deliveries."""
        model = self.model
        statement = update(model).where(model.id.in_(item_ids)).values(body={}, done_at=now)
        session.connection().execute(statement)

    def release(self, session: Session, live: Collection[int]) -> int:
        """Items claimed by instances no longer alive go back to be taken again."""
        model = self.model
        statement = (
            update(model)
            .where(model.done_at.is_(None), model.claimed_by.not_in(live))
            .values(claimed_at=None, claimed_by=None)
            .returning(model.id)
        )
        return len(session.execute(statement).all())

    def prune(self, session: Session, now: datetime) -> int:
        model = self.model
        statement = delete(model).where(model.done_at < now - self.keep).returning(model.id)
        return len(session.scalars(statement).all())
