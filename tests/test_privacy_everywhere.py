"""Privacy in every corner: one person uses every feature, erases their data, and nothing of
them is left in any column of any table; a group message stores nothing."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field

import pytest
from sqlalchemy import select

from bot.app import App
from bot.storage.models import Base, OutboxMessage, User
from bot.values.messages import Answer, Inbound, Kind, Outbound, Reply
from tests.booking_world import Clock, booking_app, booking_settings, to_the_times
from tests.desk_chat import Person, text_of
from tests.events_chat import create_event, subscribe

STAFF_GROUP = "-1001"
ANNA = "730517"  # an id found nowhere else
PHONE_DIGITS = "3337654321"
GROUP_EVENTS = itertools.count(1)
NOTE = "Richiamatemi dopo pranzo, chiedete di Quokka"
QUESTION = "Il fondo sanitario rimborsa la fisioterapia di Quokka?"


@dataclass
class Chats:
    """What the outbox delivered, chat by chat; each message gets an id, as on Telegram."""

    inbox: dict[str, list[tuple[str, Outbound]]] = field(default_factory=dict)
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(500))

    async def send(self, chat_id: str, message: Outbound) -> str:
        ref = str(next(self.ids))
        self.inbox.setdefault(chat_id, []).append((ref, message))
        return ref

    def take(self, person: Person) -> list[str]:
        """What reached the person: its buttons can be pressed afterwards."""
        messages = [message for _ref, message in self.inbox.pop(person.user_id, [])]
        person.answers.append(Answer(tuple(messages)))
        return [text_of(message) for message in messages]


@pytest.fixture
def world(database_url: str, clock: Clock) -> tuple[App, Chats, Clock]:
    settings = booking_settings(
        database_url, staff_chat_id=int(STAFF_GROUP), outbox_rate=1000.0, outbox_chat_rate=100.0
    )
    app = booking_app(settings, clock)
    chats = Chats()
    app.outbox.serve({"telegram": chats.send})
    return app, chats, clock


async def deliver(app: App, clock: Clock) -> None:
    """The periodic jobs, until the outbox has nothing more to send now."""
    for _round in range(10):
        sent = await app.announcer.run() + await app.outbox.drain()
        if not sent:
            return
        clock.advance(seconds=1.5)


def book_call(person: Person, note: str | None = None) -> None:
    """A phone call on Monday at 10:00, with a note or none."""
    to_the_times(person)
    person.press("10:00")
    person.send(f"+39 {PHONE_DIGITS}")
    if note:
        person.send(note)
    else:
        person.press("Nessuna nota")
    person.press("✅ Conferma")


def in_group(person: Person, text: str) -> list[str]:
    inbound = Inbound(
        "telegram",
        person.sender,
        STAFF_GROUP,
        Kind.TEXT,
        text=text,
        event_id=f"group-{next(GROUP_EVENTS)}",
        in_group=True,
    )
    return person.do(inbound)


def every_value(app: App) -> list[tuple[str, str, str]]:
    """Every value of every column of every table, as text: (table, column, value)."""
    found = []
    with app.database.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            for row in connection.execute(select(table)).mappings():
                for column, value in row.items():
                    shown = json.dumps(value, default=str, ensure_ascii=False)
                    found.append((table.name, column, shown))
    return found


def traces(app: App, needles: list[str]) -> list[tuple[str, str, str]]:
    return [
        (table, column, needle)
        for table, column, value in every_value(app)
        for needle in needles
        if needle.lower() in value.lower()
    ]


def user_count(app: App) -> int:
    with app.database.transaction() as session:
        return len(session.scalars(select(User.id)).all())


async def test_erasure_leaves_nothing_of_the_person_in_any_column(
    world: tuple[App, Chats, Clock],
) -> None:
    app, chats, clock = world
    anna = Person(app.desk, ANNA, name="Annabella Quokkarossi")
    staff = Person(app.desk, "4242", name="Ada Staff")
    in_group(anna, "ciao a tutti")  # her first message is in the staff group
    assert user_count(app) == 0

    subscribe(anna, ["Pinerolo"], ["Salute e sicurezza sul lavoro"])
    # After consent the FAQ keeps the question with who asked (before it, anonymously: #18).
    anna.send(QUESTION)
    book_call(anna, NOTE)
    anna.send("/questionario")
    anna.press("Inizia")
    anna.press("Val Pellice")
    create_event(staff)
    await deliver(app, clock)
    chats.take(anna)
    anna.press("Ci sarò")
    await deliver(app, clock)
    [(card_ref, card)] = chats.inbox[STAFF_GROUP]
    assert isinstance(card, Reply) and "Quokkarossi" in card.text.plain
    needles = ["Annabella", "Quokka", PHONE_DIGITS, "765 4321", ANNA]
    assert traces(app, needles)  # the search finds her before

    anna.send("/cancella")
    anna.press("🗑 Sì, cancella tutto")
    await deliver(app, clock)
    await app.housekeeping.prune_outbox()

    assert traces(app, needles) == []
    notices = [message for _ref, message in chats.inbox[STAFF_GROUP][1:]]
    edits = [m for m in notices if isinstance(m, Reply) and m.edits is not None]
    assert [m.edits for m in edits] == [card_ref]  # the card in the staff chat is redacted
    assert "ha cancellato i suoi dati" in edits[0].text.plain
    for message in notices:
        assert "Quokka" not in text_of(message) and PHONE_DIGITS not in text_of(message)


async def test_retention_redacts_the_staff_cards_too(world: tuple[App, Chats, Clock]) -> None:
    app, chats, clock = world
    anna = Person(app.desk, ANNA, name="Annabella Quokkarossi")
    book_call(anna)
    await deliver(app, clock)
    [(card_ref, _card)] = chats.inbox[STAFF_GROUP]
    clock.advance(days=3 * 365)
    assert await app.housekeeping.erase_inactive() == 1
    await deliver(app, clock)
    [(_ref, redacted)] = chats.inbox[STAFF_GROUP][1:]
    assert isinstance(redacted, Reply) and redacted.edits == card_ref
    assert traces(app, ["Quokkarossi", PHONE_DIGITS]) == []


async def test_delivered_messages_keep_their_state_not_their_words(
    world: tuple[App, Chats, Clock],
) -> None:
    app, _chats, clock = world
    anna = Person(app.desk, ANNA, name="Annabella Quokkarossi")
    book_call(anna)
    await deliver(app, clock)
    assert await app.housekeeping.prune_outbox() >= 1
    with app.database.transaction() as session:
        rows = session.scalars(select(OutboxMessage)).all()
        assert {row.state for row in rows} == {"sent"}
        assert all(row.body == {} and row.sent_at is not None for row in rows)


def test_a_group_message_stores_nothing_and_staff_cards_belong_to_no_one(
    world: tuple[App, Chats, Clock],
) -> None:
    app, _chats, _clock = world
    eve = Person(app.desk, "5151", name="Eve")
    assert in_group(eve, "ciao a tutti") == []
    assert user_count(app) == 0
    alice = Person(app.desk, "6161", name="Alice Bianchi")
    book_call(alice, NOTE)
    eve.send("/miei_dati")  # Eve writes privately: now she is a user
    exported = eve.last.content.decode()  # type: ignore[union-attr]
    assert "Alice" not in exported and PHONE_DIGITS not in exported
    alice.send("/miei_dati")
    mine = json.loads(alice.last.content)["tables"]  # type: ignore[union-attr]
    [card] = mine["outbox.subject_id"]
    assert card["chat_id"] == STAFF_GROUP and card["user_id"] is None
    assert NOTE in json.dumps(card["body"], ensure_ascii=False)


def test_a_stranger_cannot_press_the_staff_cards(world: tuple[App, Chats, Clock]) -> None:
    app, _chats, _clock = world
    alice = Person(app.desk, "6161", name="Alice Bianchi")
    book_call(alice)
    with app.database.transaction() as session:
        row = session.scalars(select(OutboxMessage).where(OutboxMessage.subject_id.is_not(None)))
        card = row.one()
        take = card.body["buttons"][0][0][1]
    eve = Person(app.desk, "5151", name="Eve")
    inbound = Inbound(
        "telegram", eve.sender, STAFF_GROUP, Kind.BUTTON, payload=take, event_id="e1", in_group=True
    )
    [refused] = eve.do(inbound)
    assert "riservata allo staff" in refused
    assert user_count(app) == 1  # Alice only
