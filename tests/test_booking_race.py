"""Fifty people tap the same free time at once: the database lets exactly one have it."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import select

from bot.storage.models import Booking
from tests.booking_world import Clock, booking_app, booking_settings, to_the_times
from tests.desk_chat import Person

PEOPLE = 50


def test_race_for_one_slot_has_exactly_one_winner_and_no_errors(database_url: str) -> None:
    app = booking_app(booking_settings(database_url), Clock())
    people = [Person(app.desk, user_id=str(1000 + n)) for n in range(PEOPLE)]
    for person in people:
        to_the_times(person, topic="Fondo sanitario")  # one operator: one call per time
    start = threading.Barrier(PEOPLE)

    def tap(person: Person) -> list[str]:
        start.wait()  # everyone at once, each turn on its own connection and thread
        return person.press("10:30")

    with ThreadPoolExecutor(PEOPLE) as pool:
        answers = list(pool.map(tap, people))

    winners = [a for a in answers if any("A quale numero" in text for text in a)]
    losers = [a for a in answers if any("non è più libero" in text for text in a)]
    assert len(winners) == 1
    assert len(losers) == PEOPLE - 1
    assert all("qualcosa è andato storto" not in " ".join(a) for a in answers)
    with app.database.transaction() as session:
        held = session.scalars(select(Booking).where(Booking.status == "held")).all()
    assert len(held) == 1
