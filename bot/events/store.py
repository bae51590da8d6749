"""Events in the database: their states, the answers to them, and the queries both sides share."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, func, select, text, update
from sqlalchemy.orm import Session

from bot.core.turn import Stale, Turn
from bot.delivery import reminders
from bot.events.logic import YES
from bot.storage.models import Event, Reminder, Rsvp, User
from bot.values.messages import Address

SCHEDULED, ANNOUNCED, CANCELLED = "scheduled", "announced", "cancelled"
ANSWERS_LOCK = text(
    "SELECT pg_advisory_xact_lock(hashtext('sportello:answers:' || current_schema()), :event)"
)


def event_ref(event_id: int) -> str:
    return f"event:{event_id}"


def address_of(user: User) -> Address:
    return Address(user.channel, user.chat_id)


def seat_of(session: Session, event_id: int, user_id: int) -> Rsvp | None:
    query = select(Rsvp).where(Rsvp.event_id == event_id, Rsvp.user_id == user_id)
    return session.scalars(query).one_or_none()


def holds_place() -> ColumnElement[bool]:
    """An RSVP that has a place: a yes, not on the waiting list."""
    return (Rsvp.answer == YES) & Rsvp.waiting.is_(False)


def release(turn: Turn, moment: datetime) -> datetime:
    """When an announcement due at `moment` goes: then, or when the quiet hours end."""
    quiet = turn.settings.quiet
    return quiet.release(moment, turn.settings.zone) if quiet else moment


def places_taken(session: Session, event_id: int, but: int | None = None) -> int:
    query = select(func.count()).where(Rsvp.event_id == event_id, holds_place())
    if but is not None:
        query = query.where(Rsvp.user_id != but)
    return int(session.scalar(query) or 0)


def counts(session: Session, event_id: int) -> dict[str, int]:
    """Answers by kind: yes (with a place), waiting, maybe, no."""
    found = dict.fromkeys(("yes", "waiting", "maybe", "no"), 0)
    query = (
        select(Rsvp.answer, Rsvp.waiting, func.count())
        .where(Rsvp.event_id == event_id)
        .group_by(Rsvp.answer, Rsvp.waiting)
    )
    for answer, waiting, count in session.execute(query):
        found["waiting" if answer == YES and waiting else answer] += int(count)
    return found


def upcoming(session: Session, now: datetime, limit: int = 10) -> list[Event]:
    query = (
        select(Event)
        .where(Event.status == ANNOUNCED, Event.starts_at > now)
        .order_by(Event.starts_at)
        .limit(limit)
    )
    return list(session.scalars(query))


def lock_answers(session: Session, event_id: int) -> None:
    """Serialises the answers to one event, so a place is never given twice.

    On PostgreSQL a transaction-scoped advisory lock keyed by the schema and the event, not
    the event's row: the announcer holds that row while it queues, and its inserts wait on the
    users' rows that turns hold. SQLite serialises writers already.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(ANSWERS_LOCK, {"event": event_id})


def cancel_event_reminders(session: Session, event_id: int, user_id: int | None = None) -> None:
    """Cancels the pending reminders of an event (of one user's "yes", when given)."""
    ref = event_ref(event_id)
    where: ColumnElement[bool] = Reminder.ref == f"{ref}:u{user_id}"
    if user_id is None:
        reminders.cancel(session, ref)
        where = Reminder.ref.like(f"{ref}:%")
    session.execute(
        update(Reminder)
        .where(where, Reminder.state == reminders.PENDING)
        .values(state=reminders.CANCELLED)
        .execution_options(synchronize_session=False)
    )


# The event a button refers to ---------------------------------------------------------------


def open_event(turn: Turn, args: tuple[str, ...]) -> Event:
    """For a subscriber's answer, locked; a forged or stale reference is refused."""
    if not args or not args[0].isdigit():
        raise Stale
    lock_answers(turn.session, int(args[0]))
    event = turn.session.get(Event, int(args[0]))
    if event is None or event.status == SCHEDULED:
        raise Stale
    return event


def staff_event(turn: Turn, args: tuple[str, ...], lock: bool = False) -> Event:
    """For staff only; `lock` holds the row until the turn ends."""
    if not turn.is_staff or not args or not args[0].isdigit():
        raise Stale
    event = turn.session.get(Event, int(args[0]), with_for_update=lock)
    if event is None:
        raise Stale
    return event
