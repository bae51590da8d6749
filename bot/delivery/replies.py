"""Durable replies: a turn's replies are outbox rows, written in the turn's transaction and
claimed by the instance that answers. Its channel sends them right after and settles them
(sent or refused: deleted; else handed to the outbox sender). If the instance dies first,
recovery puts them back in the queue and the outbox sender sends them while they are fresh;
older ones are dropped and logged. A reply can therefore repeat, never be lost while fresh.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from bot.delivery import codec
from bot.delivery.outbox import CLAIMED, FAILED, QUEUED, REPLY
from bot.storage.models import OutboxMessage
from bot.values.messages import Inbound, Outbound


def keys(inbound: Inbound, count: int) -> list[str]:
    """The outbox keys of a turn's replies, in order."""
    return [f"reply:{inbound.channel}:{inbound.event_id}:{index}" for index in range(count)]


def record(
    session: Session,
    inbound: Inbound,
    user_id: int | None,
    replies: Sequence[Outbound],
    now: datetime,
    by: int,
) -> None:
    """The replies, claimed by instance `by` (which sends them at once)."""
    if inbound.event_id is None or not replies:
        return
    rows = [
        {
            "key": key,
            "channel": inbound.channel,
            "chat_id": inbound.chat_id,
            "user_id": user_id,
            "body": codec.encode(message),
            "state": CLAIMED,
            "claimed_by": by,
            "attempts": 0,
            "due_at": now,
            "created_at": now,
            "kind": REPLY,
            "priority": 0,
            "last_error": None,
            "sent_at": None,
        }
        for key, message in zip(keys(inbound, len(replies)), replies, strict=True)
    ]
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(OutboxMessage)
    # Telegram starts update ids afresh after a quiet week: an old reply's key is reused.
    fresh = {name: statement.excluded[name] for name in rows[0] if name != "key"}
    upsert = statement.on_conflict_do_update(index_elements=["key"], set_=fresh)
    session.connection().execute(upsert, rows)  # one compiled statement, whatever the count


def settle(
    session: Session,
    by: int,
    now: datetime,
    sent: Sequence[str] = (),
    failed: Sequence[str] = (),
    left: Sequence[str] = (),
) -> None:
    """What became of replies the channel sent: sent and refused ones are deleted (their
    content is personal, and nothing needs it any more); `left` ones go to the outbox sender."""
    mine = (OutboxMessage.claimed_by == by) & (OutboxMessage.state == CLAIMED)
    done = [*sent, *failed]
    if done:
        session.connection().execute(delete(OutboxMessage).where(OutboxMessage.key.in_(done), mine))
    if left:
        session.connection().execute(
            update(OutboxMessage)
            .where(OutboxMessage.key.in_(left), mine)
            .values(state=QUEUED, claimed_by=None, due_at=now)
        )


def drop_stale(session: Session, cutoff: datetime) -> list[str]:
    """Queued replies created before `cutoff` are no longer worth sending; returns their keys."""
    statement = (
        update(OutboxMessage)
        .where(
            OutboxMessage.kind == REPLY,
            OutboxMessage.state == QUEUED,
            OutboxMessage.created_at < cutoff,
        )
        .values(state=FAILED, last_error="not sent while fresh: dropped")
        .returning(OutboxMessage.key)
    )
    return sorted(session.scalars(statement).all())
