"""Sportello's events as a subscriber and staff see them: a desk with a clock the test moves,
the real outbox sender, and phones that collect what it delivers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import select

from bot.app import App
from bot.config import Settings
from bot.delivery.outbox import PermanentFailure
from bot.storage.db import Database
from bot.storage.models import Event, OutboxMessage
from bot.values.messages import Answer, Outbound
from tests.clock import MovingClock
from tests.desk_chat import Person, text_of
from tests.settings import make_settings

START = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)  # Monday 1 March 2027, 10:00 in Rome


@dataclass
class Clock(MovingClock):
    """Events tests start on Monday 1 March 2027 at 10:00 in Rome."""

    now: datetime = START


@dataclass
class Phones:
    """What each chat received from the outbox, as the real sender delivered it."""

    inbox: dict[str, list[Outbound]] = field(default_factory=dict)
    blocked: set[str] = field(default_factory=set)

    async def send(self, chat_id: str, message: Outbound) -> None:
        if chat_id in self.blocked:
            raise PermanentFailure("Forbidden: bot was blocked by the user", blocked=True)
        self.inbox.setdefault(chat_id, []).append(message)


@dataclass
class Desk:
    app: App
    clock: Clock
    phones: Phones

    def person(self, user_id: str, name: str = "Anna Rossi") -> Person:
        return Person(self.app.desk, user_id, name=name)

    async def tick(self) -> None:
        """The periodic jobs once, then the outbox until nothing more may go now."""
        for _round in range(20):
            queued = await self.app.announcer.run() + await self.app.reminders.run()
            sent = await self.app.outbox.drain() + queued
            if not sent and not self.waiting():
                return
            self.clock.advance(seconds=1.5)  # one message a second per chat

    def waiting(self) -> int:
        with self.app.database.transaction() as session:
            rows = session.scalars(
                select(OutboxMessage.id).where(
                    OutboxMessage.state == "queued", OutboxMessage.due_at <= self.clock()
                )
            ).all()
            return len(rows)

    def received(self, person: Person) -> list[str]:
        """Takes what reached the person's phone; its buttons can be pressed afterwards."""
        messages = self.phones.inbox.pop(person.user_id, [])
        if messages:
            person.answers.append(Answer(tuple(messages)))
        return [text_of(message) for message in messages]


def make_desk(database_url: str, **values: object) -> Desk:
    settings = make_settings(database_url, outbox_rate=1000.0, outbox_chat_rate=100.0, **values)
    return desk_for(settings)


def desk_for(settings: Settings) -> Desk:
    Database(settings.database_url).upgrade()
    clock = Clock()
    app = App(settings, clock=clock)
    phones = Phones()
    app.outbox.serve({"telegram": phones.send})
    return Desk(app, clock, phones)


def subscribe(person: Person, territories: list[str], interests: list[str]) -> list[str]:
    person.send("/iscriviti")
    if "✅ Accetto" in person.labels:
        person.press("Accetto")
    for territory in territories:
        person.press(territory)
    person.press("Avanti")
    for interest in interests:
        person.press(interest)
    return person.press("Fatto")


def create_event(staff: Person, capacity: str | None = None, later: str | None = None) -> None:
    staff.send("/nuovo_evento")
    staff.send("Sicurezza nei cantieri di montagna")
    staff.send("Due ore con l'ispettorato: obblighi e buone pratiche.")
    staff.send("12/3/2027 18:30")
    staff.send("Sala consiliare, Torre Pellice")
    staff.press("Salute e sicurezza sul lavoro")
    staff.press("Avanti")
    staff.press("Val Pellice")
    staff.press("Pinerolo")
    staff.press("Avanti")
    if capacity is None:
        staff.press("Nessun limite")
    else:
        staff.send(capacity)
    if later is None:
        staff.press("Annuncia ora")
    else:
        staff.press("Annuncia più tardi")
        staff.send(later)


def event_row(desk: Desk) -> Event:
    with desk.app.database.transaction() as session:
        event = session.scalars(select(Event)).one()
        session.expunge(event)
        return event
