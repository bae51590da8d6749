"""Bookings in the database: holds and confirmations that the database keeps from colliding."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.booking.setup import BookingSetup
from bot.booking.slots import Busy, Calendar, Offer, candidates
from bot.delivery import reminders
from bot.ops import metrics
from bot.storage.models import Absence, Booking

HELD, CONFIRMED, CANCELLED, MOVED = "held", "confirmed", "cancelled", "moved"
RELEASED, EXPIRED, DONE, NO_ANSWER = "released", "expired", "done", "no_answer"
# (kind, due before the call, stale from this long before the call: the next one is due)
REMINDERS = (
    ("booking_24h", timedelta(hours=24), timedelta(hours=1)),
    ("booking_1h", timedelta(hours=1), timedelta()),
)


@dataclass(frozen=True)
class Request:
    """What the user chose so far: a topic, a mode, a time."""

    user_id: int
    topic: str
    mode: str
    start: datetime


def occupying(now: datetime) -> ColumnElement[bool]:
    """Bookings that take their operator's time now: confirmed, or held and not expired."""
    return or_(
        Booking.status == CONFIRMED,
        (Booking.status == HELD) & (Booking.held_until > now),
    )


def load_calendar(
    session: Session, first: date, last: date, now: datetime, zone: ZoneInfo
) -> Calendar:
    """Calls and absences between two local days (inclusive)."""
    begin = datetime.combine(first, datetime.min.time(), tzinfo=zone)
    end = datetime.combine(last + timedelta(days=1), datetime.min.time(), tzinfo=zone)
    rows = session.execute(
        select(Booking.operator_id, Booking.starts_at, Booking.ends_at).where(
            occupying(now), Booking.starts_at < end, Booking.ends_at > begin
        )
    ).all()
    absences: dict[int, list[tuple[date, date]]] = {}
    for absence in session.scalars(
        select(Absence).where(Absence.last_day >= first, Absence.first_day <= last)
    ):
        absences.setdefault(absence.operator_id, []).append((absence.first_day, absence.last_day))
    return Calendar(
        tuple(Busy(op, start, end) for op, start, end in rows),
        {op: tuple(spans) for op, spans in absences.items()},
    )


def hold(
    session: Session,
    setup: BookingSetup,
    request: Request,
    now: datetime,
    zone: ZoneInfo,
) -> Booking | None:
    """Holds the time for the user with the least busy free operator; None if it is taken.

    The partial unique index on (operator, start) decides between people who try at once:
    a losing insert fails inside a savepoint and the next operator is tried.
    """
    release_holds(session, request.user_id)
    day = request.start.astimezone(zone).date()
    calendar = load_calendar(session, day, day, now, zone)
    for offer in candidates(setup, request.topic, request.start, calendar, now, zone):
        booking = _try_hold(session, setup, request, offer, now)
        if booking is not None:
            return booking
    return None


def _try_hold(
    session: Session, setup: BookingSetup, request: Request, offer: Offer, now: datetime
) -> Booking | None:
    _expire_stale_hold(session, offer, now)
    booking = Booking(
        user_id=request.user_id,
        topic=request.topic,
        mode=request.mode,
        operator_id=offer.operator,
        starts_at=offer.start,
        ends_at=offer.end,
        status=HELD,
        held_until=now + timedelta(minutes=setup.hold_minutes),
        created_at=now,
        updated_at=now,
    )
    try:
        with session.begin_nested():
            session.add(booking)
    except IntegrityError:
        return None
    return booking


def _expire_stale_hold(session: Session, offer: Offer, now: datetime) -> None:
    """A hold left past its time frees the slot (the unique index still counts it)."""
    session.execute(
        update(Booking)
        .where(
            Booking.operator_id == offer.operator,
            Booking.starts_at == offer.start,
            Booking.status == HELD,
            Booking.held_until <= now,
        )
        .values(status=EXPIRED)
        .execution_options(synchronize_session=False)
    )


def release_holds(session: Session, user_id: int) -> None:
    """Lets go of the times the user held and did not confirm."""
    session.execute(
        update(Booking)
        .where(Booking.user_id == user_id, Booking.status == HELD)
        .values(status=RELEASED)
        .execution_options(synchronize_session=False)
    )


def held_by(session: Session, user_id: int, booking_id: object) -> Booking | None:
    booking = _get(session, booking_id)
    if booking is None or booking.user_id != user_id or booking.status != HELD:
        return None
    return booking


def own_booking(
    session: Session, user_id: int, booking_id: object, now: datetime
) -> Booking | None:
    """The user's own confirmed, future booking with this id (a forged id finds nothing)."""
    booking = _get(session, booking_id)
    if booking is None or booking.user_id != user_id:
        return None
    if booking.status != CONFIRMED or booking.starts_at <= now:
        return None
    return booking


def _get(session: Session, booking_id: object) -> Booking | None:
    try:
        return session.get(Booking, int(str(booking_id)))
    except ValueError:
        return None


def future_bookings(session: Session, user_id: int, now: datetime) -> list[Booking]:
    query = (
        select(Booking)
        .where(Booking.user_id == user_id, Booking.status == CONFIRMED, Booking.starts_at > now)
        .order_by(Booking.starts_at)
    )
    return list(session.scalars(query))


def confirm(session: Session, booking: Booking, now: datetime) -> None:
    """Turns a hold into a booking and schedules its reminders, in the same transaction."""
    booking.status, booking.held_until, booking.updated_at = CONFIRMED, None, now
    session.flush()
    metrics.booking("confirmed")
    for kind, before, stale_before in REMINDERS:
        due = booking.starts_at - before
        if due > now:
            reminders.schedule(
                session,
                key=f"{kind}:{booking.id}",
                kind=kind,
                ref=ref(booking),
                user_id=booking.user_id,
                due_at=due,
                expires_at=booking.starts_at - stale_before,
            )


def close(session: Session, booking: Booking, status: str, now: datetime, by: str) -> None:
    """Cancels or replaces a booking: its slot frees up and its reminders are cancelled."""
    booking.status, booking.updated_at = status, now
    booking.closed_by = by
    metrics.booking(status)
    reminders.cancel(session, ref(booking))


def ref(booking: Booking) -> str:
    return f"booking:{booking.id}"


def booking_of(session: Session, reference: str) -> Booking | None:
    return _get(session, reference.removeprefix("booking:"))


def day_calls(session: Session, day: date, zone: ZoneInfo) -> list[Booking]:
    """The calls of a local day, confirmed or already handled, in time order."""
    begin = datetime.combine(day, datetime.min.time(), tzinfo=zone)
    end = begin.replace(tzinfo=None) + timedelta(days=1)
    query = (
        select(Booking)
        .where(
            Booking.status.in_((CONFIRMED, DONE, NO_ANSWER)),
            Booking.starts_at >= begin,
            Booking.starts_at < end.replace(tzinfo=zone),
        )
        .order_by(Booking.starts_at, Booking.operator_id)
    )
    return list(session.scalars(query))
