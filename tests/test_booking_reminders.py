"""Reminders 24 hours and 1 hour before: once, on time, none for moved or cancelled calls."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.app import App
from bot.delivery import codec
from bot.storage.models import Booking, OutboxMessage, Reminder
from bot.values.markup import to_plain
from bot.values.messages import Document, Reply
from tests.booking_world import Clock, book, booking_app, booking_settings
from tests.desk_chat import Person


def reminder_texts(app: App) -> dict[str, str]:
    """The reminders queued in the outbox, by key, as the person will read them."""
    with app.database.transaction() as session:
        rows = session.scalars(
            select(OutboxMessage).where(OutboxMessage.key.like("reminder:%"))
        ).all()
        texts = {}
        for row in rows:
            message = codec.decode(row.body)
            assert isinstance(message, Reply)
            texts[row.key] = to_plain(message.text).replace("\u202f", " ")
        return texts


def booking_id(app: App) -> int:
    with app.database.transaction() as session:
        return session.scalars(select(Booking.id).where(Booking.status == "confirmed")).one()


async def test_reminders_come_once_at_24_hours_and_at_1_hour(database_url: str) -> None:
    clock = Clock()
    app = booking_app(booking_settings(database_url), clock)
    book(Person(app.desk), day="martedì 24 novembre", time="10:00")  # 09:00 UTC
    ident = booking_id(app)
    assert await app.reminders.run() == 0  # nothing due yet
    clock.now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    assert await app.reminders.run() == 1
    assert await app.reminders.run() == 0  # never twice
    clock.now = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
    assert await app.reminders.run() == 1
    texts = reminder_texts(app)
    assert (
        "Promemoria: ti chiamiamo martedì 24 novembre, 10:00."
        in texts[f"reminder:booking_24h:{ident}"]
    )
    assert "Tra poco ti chiamiamo: 10:00." in texts[f"reminder:booking_1h:{ident}"]


async def test_a_cancelled_or_moved_call_is_not_reminded(database_url: str) -> None:
    clock = Clock()
    app = booking_app(booking_settings(database_url), clock)
    anna, marco = Person(app.desk, user_id="1"), Person(app.desk, user_id="2")
    book(anna, day="martedì 24 novembre", time="10:00")
    anna.press("✖️ Annulla la richiamata")
    anna.press("Sì, annulla")
    book(marco, day="martedì 24 novembre", time="11:00")
    marco.press("🕑 Sposta")
    marco.press("mercoledì 25 novembre")
    marco.press("11:00")
    marco.press("✅ Conferma")
    clock.now = datetime(2026, 11, 24, 10, 30, tzinfo=UTC)
    assert await app.reminders.run() == 1  # only the moved call's 24-hour reminder
    assert list(reminder_texts(app)) == [f"reminder:booking_24h:{booking_id(app)}"]


async def test_a_restart_between_booking_and_reminder_loses_nothing(database_url: str) -> None:
    clock = Clock()
    settings = booking_settings(database_url)
    first = booking_app(settings, clock)
    book(Person(first.desk), day="martedì 24 novembre", time="10:00")
    first.database.dispose()  # the process is gone; only the database remains

    clock.now = datetime(2026, 11, 24, 8, 30, tzinfo=UTC)  # it was down when both came due
    second = booking_app(settings, clock)
    assert await second.reminders.run() == 1  # the hour-before one; the day-before is stale
    assert await second.reminders.run() == 0
    clock.now = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
    third = booking_app(settings, clock)
    assert await third.reminders.run() == 0


async def test_a_reminder_that_came_due_after_the_call_is_dropped(database_url: str) -> None:
    clock = Clock()
    app = booking_app(booking_settings(database_url), clock)
    book(Person(app.desk), day="martedì 24 novembre", time="10:00")
    clock.now = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)  # down until after the call
    assert await app.reminders.run() == 0
    with app.database.transaction() as session:
        states = set(session.scalars(select(Reminder.state)))
    assert states == {"dropped"}


@pytest.mark.parametrize(
    ("today", "day_label", "start_utc", "skipped"),
    [
        # Summer time from Sunday 28 March 2027 (Easter: the Monday after is a holiday).
        (
            datetime(2027, 3, 26, 8, 0, tzinfo=UTC),
            "martedì 30 marzo",
            "20270330T080000Z",
            "lunedì 29 marzo",
        ),
        # Winter time from Sunday 31 October 2027; Monday 1 November is a holiday.
        (
            datetime(2027, 10, 29, 7, 0, tzinfo=UTC),
            "martedì 2 novembre",
            "20271102T090000Z",
            "lunedì 1 novembre",
        ),
    ],
)
async def test_daylight_saving_changes_keep_times_right(
    database_url: str, today: datetime, day_label: str, start_utc: str, skipped: str | None
) -> None:
    clock = Clock(today)
    app = booking_app(booking_settings(database_url), clock)
    anna = Person(app.desk)
    anna.send("/richiamata")
    anna.press("✅ Accetto")
    anna.press("Welfare aziendale e fisco")
    anna.press("📞 Telefonata")
    assert day_label in anna.labels and skipped not in anna.labels
    anna.press(day_label)
    assert anna.labels[:3] == ["09:00", "09:30", "10:00"]  # wall-clock office hours
    anna.press("10:00")
    anna.send("333 123 4567")
    anna.press("Nessuna nota")
    confirmation, _file = anna.press("✅ Conferma")
    assert f"Ti chiameremo {day_label}, 10:00." in confirmation
    ics = anna.answers[-1].replies[1]
    assert isinstance(ics, Document) and f"DTSTART:{start_utc}".encode() in ics.content
    start = datetime.strptime(start_utc, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    clock.now = start - timedelta(hours=1)
    assert await app.reminders.run() == 1  # the day-before one, come due late, is dropped
    [text] = reminder_texts(app).values()
    assert "Tra poco ti chiamiamo: 10:00." in text
