"""What the booking tests share: a fixed set-up, a clock the test moves, a booked person."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bot.app import App
from bot.config import Settings
from bot.storage.db import Database
from tests.clock import MovingClock
from tests.desk_chat import Person
from tests.settings import make_settings

BOOKING_FILE = Path(__file__).parent / "data" / "booking.yaml"
ADA, BRUNO = 4242, 4343  # the operators of tests/data/booking.yaml, both staff
MONDAY_8AM = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)  # 08:00 in Rome


@dataclass
class Clock(MovingClock):
    """Booking tests start on Monday 23 November 2026 at 08:00 in Rome."""

    now: datetime = MONDAY_8AM


def booking_settings(database_url: str, **values: object) -> Settings:
    defaults: dict[str, object] = {
        "booking_file": BOOKING_FILE,
        "staff_user_ids": frozenset({ADA, BRUNO}),
    }
    return make_settings(database_url, **{**defaults, **values})


def on_telegram(base_url: str, token: str, database_url: str, staff_chat: int) -> Settings:
    """The booking settings for the app polling the fake Bot API, with a staff group."""
    return booking_settings(
        database_url,
        telegram_bot_token=token,
        telegram_api_base_url=base_url,
        staff_chat_id=staff_chat,
    )


def to_the_times(
    person: Person, day: str = "lunedì 23 novembre", topic: str = "Welfare aziendale e fisco"
) -> list[str]:
    """From /richiamata (consent included) to the times of a day; returns the last texts."""
    person.send("/richiamata")
    if "✅ Accetto" in person.labels:
        person.press("✅ Accetto")
    person.press(topic)
    person.press("📞 Telefonata")
    return person.press(day)


def book(
    person: Person,
    day: str = "lunedì 23 novembre",
    time: str = "10:00",
    topic: str = "Welfare aziendale e fisco",
    phone: str = "333 123 4567",
) -> list[str]:
    """A whole booking, consent included when asked; returns the confirmation's texts."""
    to_the_times(person, day, topic)
    person.press(time)
    person.send(phone)
    person.press("Nessuna nota")
    return person.press("✅ Conferma")


def booking_app(settings: Settings, clock: Clock) -> App:
    Database(settings.database_url).upgrade()
    return App(settings, clock)
