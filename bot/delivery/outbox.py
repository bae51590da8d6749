"""The durable outbox: messages are rows first, then a sender delivers them, once.

A row's state: `queued` (waiting for its due time and a send slot), `claimed` (taken by a
sender, its call not started), `sending` (marked right before its call, made with no lock
held), then `sent`, `failed`, `blocked` (the user blocked the bot) or `uncertain` (the sender
died or lost the answer mid-call: the platform may have delivered it, so it is never sent
again). A reply (`replies.py`) left `sending` by a dead sender is queued again instead.
`sender.py` moves rows along: `claims.py` claims them, `outcomes.py` records what became of
them.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Select, String, bindparam, cast, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from bot.delivery import codec
from bot.delivery.quiet_hours import WAITING_KINDS
from bot.storage.models import OutboxMessage, User
from bot.values.messages import Delivery, Outbound

QUEUED, CLAIMED, SENDING, SENT, FAILED, BLOCKED, UNCERTAIN, SKIPPED = (
    "queued",
    "claimed",  # taken by a sender, its call not started yet: back to the queue after a crash
    "sending",  # its call started: after a crash, `uncertain`
    "sent",
    "failed",
    "blocked",
    "uncertain",
    "skipped",  # the platform's rules forbid it now (WhatsApp: outside the 24-hour window)
)
MAX_ATTEMPTS = 5
FINAL = (SENT, FAILED, BLOCKED, UNCERTAIN, SKIPPED)  # never sent again
REPLY = "reply"  # a turn's reply (`replies.py`): sent at least once while fresh


class PermanentFailure(Exception):
    """The platform will never take this message (e.g. the user blocked the bot)."""

    def __init__(self, reason: str, blocked: bool = False) -> None:
        super().__init__(reason)
        self.blocked = blocked


class Skipped(PermanentFailure):
    """Not sent, and never will be: the platform's rules forbid it (no request was wasted)."""


class Throttled(Exception):
    """The platform asks to send nothing for `retry_after` seconds (Telegram's 429);
    `chat_only`: only this chat must wait (WhatsApp's per-user pair rate)."""

    def __init__(self, retry_after: float, chat_only: bool = False) -> None:
        super().__init__(f"retry after {retry_after:g} s")
        self.retry_after = retry_after
        self.chat_only = chat_only


class AnswerLost(Exception):
    """The request may have reached the platform, but no answer came back: fate unknown."""


def enqueue(
    session: Session, delivery: Delivery, now: datetime, due_at: datetime | None = None
) -> bool:
    """Queues one message; False when a message with the same key is already queued.

    A message about someone (to staff) belongs to no user: it records whose data it carries."""
    user_id = None
    if delivery.about is None:
        user_id = session.scalars(
            select(User.id).where(
                User.channel == delivery.to.channel, User.chat_id == delivery.to.chat_id
            )
        ).first()
    row = OutboxMessage(
        key=delivery.key or f"once:{uuid.uuid4().hex}",
        channel=delivery.to.channel,
        chat_id=delivery.to.chat_id,
        user_id=user_id,
        subject_id=delivery.about,
        body=codec.encode(delivery.message),
        due_at=due_at or now,
        created_at=now,
        kind=delivery.kind,
        priority=priority_of(delivery.kind),
        batch=delivery.batch,
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return False
    return True


def priority_of(kind: str) -> int:
    """One-to-one messages (reminders, alerts) go before announcements and broadcasts."""
    return 1 if kind in WAITING_KINDS else 0


def enqueue_deliveries(session: Session, deliveries: Iterable[Delivery], now: datetime) -> None:
    for delivery in deliveries:
        enqueue(session, delivery, now)


@dataclass(frozen=True)
class Progress:
    """How far one batch (a broadcast, an announcement) has gone."""

    total: int = 0
    sent: int = 0
    failed: int = 0
    blocked: int = 0
    uncertain: int = 0
    waiting: int = 0  # queued or being sent
    skipped: int = 0  # the platform's rules forbade it (WhatsApp's 24-hour window)

    @property
    def done(self) -> bool:
        return self.total > 0 and self.waiting == 0


def progress(session: Session, batch: str) -> Progress:
    """Counts of a batch's rows per outcome ("inviati 1.200 di 3.000")."""
    rows = session.execute(
        select(OutboxMessage.state, func.count())
        .where(OutboxMessage.batch == batch)
        .group_by(OutboxMessage.state)
    )
    counts = Counter({state: count for state, count in rows})
    return Progress(
        total=sum(counts.values()),
        sent=counts[SENT],
        failed=counts[FAILED],
        blocked=counts[BLOCKED],
        uncertain=counts[UNCERTAIN],
        waiting=counts[QUEUED] + counts[CLAIMED] + counts[SENDING],
        skipped=counts[SKIPPED],
    )


def due_now(session: Session, channel: str, chat_id: str, now: datetime) -> None:
    """A chat's queued messages may go at once (a terminal opened for that chat)."""
    session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.channel == channel,
            OutboxMessage.chat_id == chat_id,
            OutboxMessage.state == QUEUED,
            OutboxMessage.due_at > now,
        )
        .values(due_at=now)
    )


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(5 * 2**attempts, 600))


@dataclass(frozen=True)
class Claimed:
    id: int
    key: str
    chat_id: str
    user_id: int | None
    message: Outbound
    attempts: int
    kind: str = "message"


def due(
    channel: str,
    now: datetime,
    chat_gap: timedelta,
    waiting_kinds: Collection[str] = (),
    wall_now: datetime | None = None,
    replies_since: datetime | None = None,
) -> Select[int, str]:
    """Rows of `channel` that may go now: due, their chat idle for `chat_gap`, kinds allowed,
    replies created since `replies_since` (older ones are not worth sending).

    `now` is the app's clock (what is due); `wall_now` the real time the pace is kept in.
    One-to-one messages (reminders, alerts) go before announcements and broadcasts.
    """
    idle_since = (wall_now or now) - chat_gap
    other = aliased(OutboxMessage)
    chat_busy = (
        select(other.id)
        .where(
            other.channel == OutboxMessage.channel,
            other.chat_id == OutboxMessage.chat_id,
            or_(other.state.in_((CLAIMED, SENDING)), other.sent_at > idle_since),
        )
        .exists()
    )
    query = (
        select(OutboxMessage.id, OutboxMessage.chat_id)
        .where(
            OutboxMessage.state == QUEUED,
            OutboxMessage.due_at <= now,
            OutboxMessage.channel == channel,
            ~chat_busy,
        )
        .order_by(OutboxMessage.priority, OutboxMessage.due_at, OutboxMessage.id)
    )
    if waiting_kinds:
        query = query.where(OutboxMessage.kind.not_in(waiting_kinds))
    if replies_since is not None:
        query = query.where(
            or_(OutboxMessage.kind != REPLY, OutboxMessage.created_at >= replies_since)
        )
    return query


def one_per_chat(rows: Iterable[tuple[int, str]], limit: int) -> list[int]:
    """The first row of each chat, at most `limit`: a chat gets one message at a time."""
    chosen: dict[str, int] = {}
    for row_id, chat_id in rows:
        if len(chosen) >= limit:
            break
        chosen.setdefault(chat_id, row_id)
    return list(chosen.values())


def claim(session: Session, candidates: Select[int, str], limit: int, by: int) -> list[Claimed]:
    """Marks up to `limit` rows `claimed` by sender `by`; others skip the locked ones."""
    rows = session.execute(candidates.limit(limit * 4).with_for_update(skip_locked=True))
    chosen = one_per_chat(rows, limit)
    if not chosen:
        return []
    claimed = session.scalars(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(chosen))
        .values(state=CLAIMED, claimed_by=by)
        .returning(OutboxMessage)
    ).all()
    return [
        Claimed(
            row.id,
            row.key,
            row.chat_id,
            row.user_id,
            codec.decode(row.body),
            row.attempts,
            row.kind,
        )
        for row in sorted(claimed, key=lambda row: row.id)
    ]


def start(session: Session, ids: Collection[int], by: int) -> list[int]:
    """Marks claimed rows `sending`, right before their calls; returns the ids marked."""
    if not ids:
        return []
    statement = (
        update(OutboxMessage)
        .where(
            OutboxMessage.id.in_(ids),
            OutboxMessage.claimed_by == by,
            OutboxMessage.state == CLAIMED,
        )
        .values(state=SENDING)
        .returning(OutboxMessage.id)
    )
    return list(session.scalars(statement).all())


def mine(claimed: Claimed, by: int) -> ColumnElement[bool]:
    """The claimed row, still in the hands of sender `by` (or marked uncertain meanwhile)."""
    return (
        (OutboxMessage.id == claimed.id)
        & (OutboxMessage.claimed_by == by)
        & OutboxMessage.state.in_((CLAIMED, SENDING, UNCERTAIN))
    )


@dataclass(frozen=True)
class Outcome:
    """How the attempt on one claimed row ended."""

    id: int
    attempts: int  # the row's attempts, this one included
    state: str
    error: str | None = None
    sent_at: datetime | None = None
    ref: str | None = None  # the platform's id of the message sent


def record(session: Session, outcomes: Sequence[Outcome], by: int) -> None:
    """Each row's own outcome, for rows still in the hands of sender `by`: one statement,
    run once per row."""
    statement = (
        update(OutboxMessage)
        .where(
            OutboxMessage.id == bindparam("row"),
            OutboxMessage.claimed_by == by,
            # as mine(), without IN: an expanding IN cannot run once per row
            or_(OutboxMessage.state == SENDING, OutboxMessage.state == UNCERTAIN),
        )
        .values(
            state=bindparam("to"),
            attempts=bindparam("tries"),
            last_error=bindparam("error"),
            sent_at=bindparam("at"),
            sent_ref=bindparam("ref"),
        )
    )
    rows = [
        {
            "row": o.id,
            "to": o.state,
            "tries": o.attempts,
            "error": o.error,
            "at": o.sent_at,
            "ref": o.ref,
        }
        for o in outcomes
    ]
    session.connection().execute(statement, rows)  # Core: no ORM bookkeeping per row


def prune_final(session: Session) -> int:
    """Empties the payload of rows that will never be sent again; returns how many.

    What the reports count stays (state, kind, batch, times); the words and files go, so a
    delivered message keeps no copy of what it said."""
    statement = (
        update(OutboxMessage)
        .where(OutboxMessage.state.in_(FINAL), cast(OutboxMessage.body, String) != "{}")
        .values(body={})
    )
    result = session.execute(statement.execution_options(synchronize_session=False))
    return int(result.rowcount)  # type: ignore[attr-defined]


def mark_uncertain(session: Session, live: Collection[int]) -> list[str]:
    """The rows of senders no longer alive: claimed ones (never called) and replies (sent at
    least once) go back to the queue; the others left `sending` become `uncertain`. Returns
    the keys of those."""
    abandoned = or_(OutboxMessage.claimed_by.is_(None), OutboxMessage.claimed_by.not_in(live))
    requeue = or_(
        OutboxMessage.state == CLAIMED,
        (OutboxMessage.state == SENDING) & (OutboxMessage.kind == REPLY),
    )
    session.execute(
        update(OutboxMessage)
        .where(requeue, abandoned)
        .values(state=QUEUED, claimed_by=None)
        .execution_options(synchronize_session=False)
    )
    keys = session.scalars(
        update(OutboxMessage)
        .where(OutboxMessage.state == SENDING, abandoned)
        .values(state=UNCERTAIN)
        .returning(OutboxMessage.key)
    ).all()
    return sorted(keys)
