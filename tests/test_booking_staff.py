"""Staff and bookings: cards in the staff chat, acting on them, /agenda, /assenza."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bot.app import App
from bot.delivery import codec
from bot.storage.models import Booking, OutboxMessage
from bot.values.markup import to_plain
from bot.values.messages import Document, Inbound, Kind, Outbound, Reply
from tests.booking_world import ADA, BRUNO, Clock, book, booking_app, booking_settings
from tests.desk_chat import Person, buttons_of

STAFF_GROUP = "-1001"


@pytest.fixture
def app(database_url: str, clock: Clock) -> App:
    return booking_app(booking_settings(database_url, staff_chat_id=int(STAFF_GROUP)), clock)


def queued(app: App, prefix: str) -> list[tuple[str, Reply]]:
    """Text messages in the outbox whose key starts with `prefix`: (chat, message)."""
    found = []
    for chat_id, message in queued_all(app, prefix):
        if not isinstance(message, Document):
            assert isinstance(message, Reply)
            found.append((chat_id, message))
    return found


def queued_all(app: App, prefix: str) -> list[tuple[str, Outbound]]:
    with app.database.transaction() as session:
        query = select(OutboxMessage).where(OutboxMessage.key.like(f"{prefix}%"))
        rows = session.scalars(query.order_by(OutboxMessage.id))
        return [(row.chat_id, codec.decode(row.body)) for row in rows]


def read(message: Reply) -> str:
    return to_plain(message.text).replace("\u202f", " ")


def press_in_group(person: Person, card: Reply, label: str) -> list[str]:
    """A staff member taps a button of a card in the staff group."""
    [button] = [b for b in buttons_of(card) if b.label == label]
    inbound = Inbound(
        "telegram",
        person.sender,
        STAFF_GROUP,
        Kind.BUTTON,
        payload=button.payload,
        message_ref="1",
        event_id=f"g{len(person.answers)}-{person.user_id}-{label}",
        in_group=True,
    )
    return person.do(inbound)


def booked(app: App) -> Booking:
    with app.database.transaction() as session:
        return session.scalars(select(Booking).order_by(Booking.id.desc())).first()  # type: ignore[return-value]


def test_a_new_booking_is_posted_in_the_staff_group_with_actions(app: App) -> None:
    anna = Person(app.desk, name="Anna Rossi")
    book(anna)
    anna.send("/prenotazioni")
    [(chat, card)] = queued(app, "booking:")
    assert chat == STAFF_GROUP
    text = read(card)
    assert "🆕 Nuova richiamata" in text
    assert "lunedì 23 novembre, 10:00 · 📞 Telefonata" in text
    assert "Persona: Anna Rossi" in text and "Telefono: +39 333 123 4567" in text
    assert "Argomento: Welfare aziendale e fisco" in text
    assert [b.label for b in buttons_of(card)] == [
        "🙋 La prendo io",
        "✅ Fatto",
        "📵 Non risponde",
        "✖️ Annulla",
    ]


def test_staff_take_and_close_a_call_from_the_card(app: App) -> None:
    book(Person(app.desk))
    [(_, card)] = queued(app, "booking:")
    bruno = Person(app.desk, user_id=str(BRUNO), name="Bruno")
    [taken] = press_in_group(bruno, card, "🙋 La prendo io")
    assert "🙋 Presa da Bruno" in taken and "Operatore: Bruno" in taken
    assert booked(app).operator_id == BRUNO
    [done] = press_in_group(bruno, card, "✅ Fatto")
    assert "✅ Fatta da Bruno" in done
    assert booked(app).status == "done"
    [again] = press_in_group(bruno, card, "✅ Fatto")
    assert "non è più valido" in again


def test_no_answer_tells_the_person_and_offers_a_new_call(app: App) -> None:
    anna = Person(app.desk)
    book(anna)
    [(_, card)] = queued(app, "booking:")
    ada = Person(app.desk, user_id=str(ADA), name="Ada")
    press_in_group(ada, card, "📵 Non risponde")
    [(chat, told)] = queued(app, f"booking:{booked(app).id}:noanswer")
    assert chat == anna.user_id
    assert "Abbiamo provato a chiamarti lunedì 23 novembre, 10:00" in read(told)
    assert [b.label for b in buttons_of(told)] == ["📞 Fissa una richiamata"]


def test_staff_cancel_asks_first_then_tells_the_person(app: App) -> None:
    anna = Person(app.desk)
    book(anna)
    [(_, card)] = queued(app, "booking:")
    ada = Person(app.desk, user_id=str(ADA), name="Ada")
    [question] = press_in_group(ada, card, "✖️ Annulla")
    assert "Annullare la chiamata? La persona sarà avvisata." in question
    confirm = ada.answers[-1].replies[-1]
    assert isinstance(confirm, Reply)
    [cancelled] = press_in_group(ada, confirm, "Sì, annulla")
    assert "✖️ Annullata da Ada" in cancelled
    [(_, told), (_, calendar)] = queued_all(app, f"booking:{booked(app).id}:cancelled")
    assert isinstance(told, Reply)
    assert "lo staff ha dovuto annullare la richiamata di lunedì 23 novembre, 10:00" in read(told)
    assert isinstance(calendar, Document)  # her calendar drops the call
    assert b"STATUS:CANCELLED" in calendar.content and b"SEQUENCE:1" in calendar.content
    assert booked(app).status == "cancelled"


def test_someone_in_the_group_who_is_not_staff_cannot_act(app: App) -> None:
    book(Person(app.desk))
    [(_, card)] = queued(app, "booking:")
    intruder = Person(app.desk, user_id="555", name="Curioso")
    [refused] = press_in_group(intruder, card, "✖️ Annulla")
    assert "riservata allo staff" in refused
    assert booked(app).status == "confirmed"


def test_moves_and_cancellations_by_the_person_reach_staff(app: App) -> None:
    anna = Person(app.desk)
    book(anna)
    anna.press("🕑 Sposta")
    anna.press("martedì 24 novembre")
    anna.press("11:00")
    anna.press("✅ Conferma")
    anna.press("✖️ Annulla la richiamata")
    anna.press("Sì, annulla")
    heads = [read(card).splitlines()[0] for _, card in queued(app, "booking:")]
    assert heads == [
        "🆕 Nuova richiamata",
        "🔁 Richiamata spostata",
        "✖️ Richiamata annullata dalla persona",
    ]


def test_agenda_lists_the_days_calls_per_operator(app: App) -> None:
    book(Person(app.desk, user_id="1", name="Anna Rossi"), time="10:00")
    book(Person(app.desk, user_id="2", name="Marco Bianchi"), time="10:00")
    ada = Person(app.desk, user_id=str(ADA), name="Ada")
    [agenda] = ada.send("/agenda")
    assert agenda.startswith("Agenda di lunedì 23 novembre")
    assert "Ada" in agenda and "Bruno" in agenda
    assert "10:00 📞 · Anna Rossi · +39 333 123 4567 · Welfare aziendale e fisco" in agenda
    [empty] = ada.send("/agenda domani")
    assert "Nessuna chiamata." in empty
    [wrong] = ada.send("/agenda ieri-l-altro")
    assert "Non capisco la data" in wrong
    [refused] = Person(app.desk, user_id="1").send("/agenda")
    assert "riservata allo staff" in refused


async def test_each_operator_gets_the_morning_agenda_once(app: App, clock: Clock) -> None:
    book(Person(app.desk, user_id="1"), day="martedì 24 novembre", time="10:00")
    assert await app.agenda.run() == 0  # Monday: no calls today
    clock.now = datetime(2026, 11, 24, 6, 30, tzinfo=UTC)  # 07:30 in Rome: too early
    assert await app.agenda.run() == 0
    clock.now = datetime(2026, 11, 24, 7, 5, tzinfo=UTC)
    assert await app.agenda.run() == 1
    assert await app.agenda.run() == 0  # once a day
    [(chat, agenda)] = queued(app, "agenda:")
    assert chat in (str(ADA), str(BRUNO))
    assert "Agenda di martedì 24 novembre" in read(agenda)


def test_an_absent_operators_times_disappear_and_their_calls_are_flagged(app: App) -> None:
    anna = Person(app.desk, user_id="1")
    book(anna, topic="Fondo sanitario", day="martedì 24 novembre", time="10:00")  # Ada's
    ada = Person(app.desk, user_id=str(ADA), name="Ada")
    [done] = ada.send("/assenza 24/11 25/11")
    assert "Segnato: Ada assente dal 24 novembre 2026 al 25 novembre 2026." in done
    assert "1 chiamata già fissata è stata segnalata agli altri." in done
    [(_, flagged)] = queued(app, f"booking:{booked(app).id}:absent")
    assert "⚠️ Da riassegnare: l'operatore è assente" in read(flagged)
    marco = Person(app.desk, user_id="2")
    marco.send("/richiamata")
    marco.press("✅ Accetto")
    marco.press("Fondo sanitario")
    marco.press("📞 Telefonata")
    assert "martedì 24 novembre" not in marco.labels
    assert "mercoledì 25 novembre" not in marco.labels
    [listing] = ada.send("/assenza")
    assert "Ada: dal 24 novembre 2026 al 25 novembre 2026" in listing
    ada.press("🗑 Togli")
    marco.send("/richiamata")
    marco.press("Fondo sanitario")
    marco.press("📞 Telefonata")
    assert "martedì 24 novembre" in marco.labels


def test_assenza_explains_its_format(app: App) -> None:
    ada = Person(app.desk, user_id=str(ADA), name="Ada")
    [wrong] = ada.send("/assenza 31/31")
    assert "Non capisco le date" in wrong
    [other] = ada.send("/assenza bruno 25/11")
    assert "Bruno assente dal 25 novembre 2026 al 25 novembre 2026" in other


def test_erasing_ones_data_calls_off_the_booking_and_tells_staff(app: App) -> None:
    anna = Person(app.desk, name="Anna Rossi")
    book(anna)
    anna.send("/cancella")
    anna.press("🗑 Sì, cancella tutto")
    with app.database.transaction() as session:
        assert session.scalars(select(Booking)).all() == []
    # The new card, not yet sent, went with her data; the notice names no one.
    [(_, notice)] = queued(app, "booking:")
    assert read(notice).splitlines()[0] == (
        "✖️ Richiamata annullata: la persona ha cancellato i suoi dati"
    )
    assert "Anna" not in read(notice) and "333" not in read(notice)
