"""Booking a callback in conversation: choose, hold, confirm, move, cancel, be reminded."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.app import App
from bot.storage.models import Booking, OutboxMessage, Reminder
from bot.values.messages import Document, Reply
from tests.booking_world import (
    ADA,
    BRUNO,
    Clock,
    book,
    booking_app,
    booking_settings,
    to_the_times,
)
from tests.desk_chat import Person


@pytest.fixture
def app(database_url: str, clock: Clock) -> App:
    return booking_app(booking_settings(database_url), clock)


def bookings(app: App) -> list[Booking]:
    with app.database.transaction() as session:
        return list(session.scalars(select(Booking).order_by(Booking.id)))


def pending_reminders(app: App) -> list[str]:
    with app.database.transaction() as session:
        query = select(Reminder.key).where(Reminder.state == "pending").order_by(Reminder.due_at)
        return list(session.scalars(query))


def outbox_keys(app: App) -> list[str]:
    with app.database.transaction() as session:
        return list(session.scalars(select(OutboxMessage.key).order_by(OutboxMessage.id)))


def test_a_person_books_a_call_in_a_few_taps(app: App) -> None:
    anna = Person(app.desk)
    anna.send("/richiamata")
    assert "✅ Accetto" in anna.labels  # a phone number is personal data: consent first
    [question] = anna.press("✅ Accetto")
    assert "Di cosa vuoi parlare?" in question
    assert anna.labels == [
        "Welfare aziendale e fisco",
        "Aderire alla rete",
        "Fondo sanitario",
        "✖️ Annulla",
    ]
    anna.press("Welfare aziendale e fisco")
    assert anna.labels[:2] == ["📞 Telefonata", "🎥 Videochiamata"]
    [days] = anna.press("📞 Telefonata")
    assert "Quale giorno" in days
    # Friday 27 is a closed day in the set-up; six days with free times are offered.
    assert anna.labels[:6] == [
        "lunedì 23 novembre",
        "martedì 24 novembre",
        "mercoledì 25 novembre",
        "giovedì 26 novembre",
        "lunedì 30 novembre",
        "martedì 1 dicembre",
    ]
    [times] = anna.press("lunedì 23 novembre")
    assert times.startswith("Lunedì 23 novembre: a che ora?")
    # It is 08:00: two hours' notice leaves 10:00 onwards; Bruno also works 14:00-15:00.
    assert anna.labels == ["10:00", "10:30", "11:00", "11:30", "14:00", "14:30", "◀️ Altri giorni"]
    phone, back = anna.press("10:00")
    assert "A quale numero ti chiamiamo?" in phone
    share = anna.answers[-1].replies[0]
    assert isinstance(share, Reply) and share.request_contact  # Telegram's share key
    assert "Vuoi cambiare qualcosa prima?" in back and anna.labels == ["⬅️ Indietro"]
    anna.send("333 123 4567")
    [summary] = anna.press("Nessuna nota")
    assert "📞 Telefonata · lunedì 23 novembre, 10:00" in summary
    assert "Numero: +39 333 123 4567" in summary
    assert "Tengo l'orario per te per 10 minuti" in summary
    confirmation, calendar = anna.press("✅ Conferma")
    assert "Fatto! Ti chiameremo lunedì 23 novembre, 10:00." in confirmation
    assert anna.labels == []  # the buttons are on the confirmation, the file comes after
    assert calendar.startswith("[richiamata.ics]")
    ics = anna.answers[-1].replies[1]
    assert isinstance(ics, Document) and ics.mime_type == "text/calendar"
    assert b"DTSTART:20261123T090000Z" in ics.content  # 10:00 in Rome is 09:00 UTC
    [booking] = bookings(app)
    assert (booking.status, booking.phone, booking.topic) == (
        "confirmed",
        "+393331234567",
        "welfare",
    )
    assert pending_reminders(app) == [
        f"booking_1h:{booking.id}"
    ]  # 24 hours before has passed already: only the hour before


def test_the_least_busy_operator_gets_the_call_and_staff_see_it(app: App) -> None:
    book(Person(app.desk, user_id="1"), time="10:00")
    book(Person(app.desk, user_id="2"), time="10:30")
    first, second = bookings(app)
    assert {first.operator_id, second.operator_id} == {ADA, BRUNO}
    cards = [key for key in outbox_keys(app) if key.startswith("booking:")]
    assert len(cards) == 4  # one card per booking for each staff member (no staff group)


def test_a_note_a_video_call_and_the_way_back_to_other_days(app: App) -> None:
    anna = Person(app.desk)
    anna.send("/richiamata")
    anna.press("✅ Accetto")
    anna.press("Fondo sanitario")
    anna.press("🎥 Videochiamata")
    anna.press("martedì 24 novembre")
    [days] = anna.press("◀️ Altri giorni")
    assert "Quale giorno" in days
    anna.press("mercoledì 25 novembre")
    anna.press("09:30")
    anna.send("+41 44 668 18 00")
    [summary] = anna.send("Vorrei capire come aderire per i miei tre dipendenti")
    assert "🎥 Videochiamata · mercoledì 25 novembre, 09:30" in summary
    assert "Link della videochiamata: https://meet.example.org/smp-" in summary
    assert "Nota: Vorrei capire come aderire" in summary
    assert "Numero: +41 44 668 18 00" in summary


def video_link(person: Person, time: str) -> str:
    person.send("/richiamata")
    if "✅ Accetto" in person.labels:
        person.press("✅ Accetto")
    person.press("Welfare aziendale e fisco")
    person.press("🎥 Videochiamata")
    person.press("lunedì 23 novembre")
    person.press(time)
    person.send("333 123 4567")
    [summary] = person.press("Nessuna nota")
    [link] = [line for line in summary.splitlines() if line.startswith("Link")]
    return link.split(": ", 1)[1]


def test_each_video_call_has_a_room_of_its_own(app: App) -> None:
    first = video_link(Person(app.desk, "7"), "10:00")
    second = video_link(Person(app.desk, "8"), "10:00")  # same time, the other operator
    assert first != second
    for link in (first, second):
        room = link.removeprefix("https://meet.example.org/smp-")
        assert len(room) == 16 and room.replace("-", "").replace("_", "").isalnum()


@pytest.mark.parametrize(
    "typed",
    ["ciao", "12345", "333 123 45678 999", "+39 000", "3" * 40],
)
def test_a_number_we_could_not_call_is_asked_again_kindly(app: App, typed: str) -> None:
    anna = Person(app.desk)
    to_the_times(anna, "lunedì 23 novembre", "Welfare aziendale e fisco")
    anna.press("11:00")
    problem, again, _back = anna.send(typed)
    assert "Non riesco a leggere questo numero" in problem
    assert "A quale numero ti chiamiamo?" in again
    anna.send("0121 123456")  # a landline in Pinerolo
    [summary] = anna.press("Nessuna nota")
    assert "Numero: +39 0121 123456" in summary


def test_a_premium_rate_number_is_refused_with_the_reason(app: App) -> None:
    anna = Person(app.desk)
    to_the_times(anna, "lunedì 23 novembre", "Welfare aziendale e fisco")
    anna.press("11:00")
    problem, again, _back = anna.send("899 123456")
    assert "numero a pagamento o a costo condiviso" in problem
    assert "A quale numero ti chiamiamo?" in again


def test_a_shared_contact_must_be_the_senders_own(app: App) -> None:
    anna = Person(app.desk)
    to_the_times(anna, "lunedì 23 novembre", "Welfare aziendale e fisco")
    anna.press("11:00")
    from bot.values.messages import Contact, Kind

    problem, _again, _back = anna.do(
        anna.inbound(Kind.CONTACT, contact=Contact("393339999999", "99"))
    )
    assert "Questo contatto non è il tuo" in problem
    thanks, note = anna.share_contact("393331112222")  # Telegram drops the "+"
    assert "Grazie, ti chiameremo al +39 333 111 2222." in thanks
    assert "Vuoi lasciare una nota" in note
    [summary] = anna.press("Nessuna nota")
    assert "Numero: +39 333 111 2222" in summary


def test_a_time_taken_meanwhile_is_refused_with_the_nearest_free_ones(app: App) -> None:
    anna, marco, luca = (Person(app.desk, user_id=str(n)) for n in (1, 2, 3))
    for person in (anna, marco, luca):
        to_the_times(person, topic="Fondo sanitario")  # only Ada handles it
    anna.press("10:30")  # held for Anna while she types her number
    [sorry] = marco.press("10:30")
    assert "quell'orario non è più libero" in sorry
    assert marco.labels == [
        "lunedì 23 novembre, 10:00",
        "lunedì 23 novembre, 11:00",
        "lunedì 23 novembre, 11:30",
        "◀️ Altri giorni",
    ]
    marco.press("lunedì 23 novembre, 11:00")
    assert "A quale numero" in marco.answers[-1].replies[0].text.plain  # type: ignore[union-attr]


def test_an_expired_hold_frees_the_time(app: App, clock: Clock) -> None:
    anna, marco = Person(app.desk, user_id="1"), Person(app.desk, user_id="2")
    for person in (anna, marco):
        to_the_times(person, topic="Fondo sanitario")
    anna.press("11:30")
    clock.advance(minutes=11)  # Anna went away: her hold lapsed
    marco.press("11:30")
    marco.send("333 765 4321")
    marco.press("Nessuna nota")
    marco.press("✅ Conferma")
    anna.send("333 123 4567")
    late, days = anna.press("Nessuna nota")
    assert "Il tempo per confermare è scaduto" in late
    assert "Quale giorno" in days
    assert [b.status for b in bookings(app)] == ["expired", "confirmed"]


def test_no_more_than_two_future_calls_per_person(app: App) -> None:
    anna = Person(app.desk)
    book(anna, time="10:00")
    book(anna, day="martedì 24 novembre", time="10:00")
    limit, *cards = anna.send("/richiamata")
    assert "Hai già 2 richiamate in programma, il massimo" in limit
    assert len(cards) == 2 and "🕑 Sposta" in anna.labels


def test_moving_a_call_keeps_the_number_and_reschedules_the_reminders(
    app: App, clock: Clock
) -> None:
    anna = Person(app.desk)
    book(anna, day="martedì 24 novembre", time="10:00")
    [old] = bookings(app)
    assert pending_reminders(app) == [f"booking_24h:{old.id}", f"booking_1h:{old.id}"]
    intro, days = anna.press("🕑 Sposta")
    assert "Spostiamo la richiamata di martedì 24 novembre, 10:00" in intro
    assert "Quale giorno" in days
    anna.press("mercoledì 25 novembre")
    [summary] = anna.press("11:00")  # same number and note: straight to the summary
    assert "Al posto di quella di martedì 24 novembre, 10:00" in summary
    anna.press("✅ Conferma")
    old, new = bookings(app)
    assert (old.status, new.status, new.replaces_id) == ("moved", "confirmed", old.id)
    calendar = anna.answers[-1].replies[-1]  # the old call goes from her calendar
    assert isinstance(calendar, Document)
    vevents = calendar.content.decode().split("BEGIN:VEVENT")[1:]
    assert f"UID:booking-{old.id}@" in vevents[0] and "STATUS:CANCELLED" in vevents[0]
    assert f"UID:booking-{new.id}@" in vevents[1] and "STATUS:CONFIRMED" in vevents[1]
    assert new.phone == "+393331234567"
    assert pending_reminders(app) == [f"booking_24h:{new.id}", f"booking_1h:{new.id}"]


def test_cancelling_asks_first_and_cancels_the_reminders(app: App) -> None:
    anna = Person(app.desk)
    book(anna, day="martedì 24 novembre")
    [question] = anna.press("✖️ Annulla la richiamata")
    assert "Vuoi annullare la richiamata di martedì 24 novembre, 10:00?" in question
    anna.press("No, la tengo")
    anna.send("/prenotazioni")
    anna.press("✖️ Annulla la richiamata")
    [done, _calendar] = anna.press("Sì, annulla")
    assert "Richiamata annullata" in done
    calendar = anna.answers[-1].replies[-1]
    assert isinstance(calendar, Document) and b"STATUS:CANCELLED" in calendar.content
    assert b"METHOD:CANCEL\r\n" in calendar.content  # what calendar apps act on
    assert [b.status for b in bookings(app)] == ["cancelled"]
    assert pending_reminders(app) == []
    [nothing] = anna.send("/prenotazioni")
    assert "Non hai richiamate in programma" in nothing


def test_another_persons_booking_cannot_be_cancelled_even_with_signed_data(app: App) -> None:
    anna, mallory = Person(app.desk, user_id="1"), Person(app.desk, user_id="666")
    book(anna)
    [booking] = bookings(app)
    mallory.send("/start")
    forged = app.desk.signer.pack("bk_cancel_yes", booking.id)
    from bot.values.messages import Kind

    [refused] = mallory.do(mallory.inbound(Kind.BUTTON, payload=forged))
    assert "non è più valido" in refused
    tampered = forged.replace(str(booking.id), str(booking.id + 1))
    [refused] = mallory.do(mallory.inbound(Kind.BUTTON, payload=tampered))
    assert "non è più valido" in refused
    assert bookings(app)[0].status == "confirmed"


def test_annulla_leaves_the_booking_and_lets_the_time_go(app: App) -> None:
    anna = Person(app.desk)
    to_the_times(anna, "lunedì 23 novembre", "Welfare aziendale e fisco")
    anna.press("10:00")
    [left] = anna.send("/annulla")
    assert "nessuna richiamata fissata" in left
    assert [b.status for b in bookings(app)] == ["released"]
    [nothing] = anna.send("/annulla")
    assert "Non c'è niente da annullare" in nothing


def test_the_survey_offer_opens_the_network_topic(app: App) -> None:
    anna = Person(app.desk)
    anna.send("/start")
    anna.press("📅 Eventi e seminari")  # consent
    anna.press("✅ Accetto")
    from bot.values.messages import Kind

    payload = app.desk.signer.pack("callback", "rete")
    [question] = anna.do(anna.inbound(Kind.BUTTON, payload=payload))
    assert "telefonata o una videochiamata" in question


def test_in_english_the_days_and_times_are_english(app: App) -> None:
    john = Person(app.desk, language_code="en")
    john.send("/richiamata")
    john.press("✅ I agree")
    john.press("Workplace welfare and tax")
    john.press("📞 Phone call")
    assert "Monday 23 November" in john.labels
    [question] = john.press("Monday 23 November")
    assert question.startswith("Monday 23 November: ")  # not "Monday 23 november"
    assert "14:00" in john.labels  # one English style: "Monday 23 November", "14:00"
    john.press("14:00")
    john.send("333 123 4567")
    john.press("No note")
    confirmation, calendar = john.press("✅ Confirm")
    assert "Monday 23 November, 14:00" in confirmation
    assert calendar.startswith("[callback.ics]")


def test_a_number_the_channel_knows_is_offered_first(app: App) -> None:
    giulia = Person(app.desk, user_id="393471112222", channel="whatsapp")
    giulia.phone = "393471112222"
    to_the_times(giulia)
    [question] = giulia.press("10:00")
    assert "Ti chiamiamo a questo numero?" in question
    assert giulia.labels == ["📱 Usa +39 347 111 2222", "⬅️ Indietro"]
    thanks, _note = giulia.press("📱 Usa +39 347 111 2222")
    assert "Grazie, ti chiameremo al +39 347 111 2222." in thanks


def test_typed_choices_count_and_each_step_has_a_way_back(app: App) -> None:
    anna = Person(app.desk)
    anna.send("/richiamata")
    anna.press("✅ Accetto")
    [mode] = anna.send("welfare")
    assert "telefonata o una videochiamata" in mode
    [topic] = anna.press("⬅️ Indietro")
    assert "Di cosa vuoi parlare?" in topic
    anna.send("welfare aziendale")
    [days] = anna.send("telefono")
    assert "Quale giorno" in days
    [mode] = anna.press("⬅️ Indietro")
    assert "telefonata o una videochiamata" in mode
    anna.press("📞 Telefonata")
    [nudge] = anna.send("lunedì")  # two Mondays on offer: which one?
    assert "Usa i pulsanti" in nudge
    [times] = anna.send("martedì 24")
    assert times.startswith("Martedì 24 novembre: a che ora?")
    [phone, _back] = anna.send("10.30")
    assert "A quale numero ti chiamiamo?" in phone
    [times] = anna.press("⬅️ Indietro")
    assert times.startswith("Martedì 24 novembre")
    anna.send("11:00")
    _thanks, note = anna.send("333 123 4567")
    assert "lasciare una nota" in note
    [phone, _back] = anna.press("⬅️ Indietro")
    assert "A quale numero" in phone
    anna.send("333 123 4567")
    [summary] = anna.press("Nessuna nota")
    assert "martedì 24 novembre, 11:00" in summary


def test_the_number_and_the_note_can_be_fixed_from_the_summary(app: App) -> None:
    anna = Person(app.desk)
    to_the_times(anna)
    anna.press("10:00")
    anna.send("333 123 4567")
    anna.press("Nessuna nota")
    [phone, _back] = anna.press("📱 Cambia numero")
    assert "A quale numero" in phone
    _thanks, summary = anna.send("347 765 4321")
    assert "Numero: +39 347 765 4321" in summary
    [note] = anna.press("📝 Cambia nota")
    assert "lasciare una nota" in note
    [summary] = anna.send("Meglio dopo le 10:15, grazie")
    assert "Nota: Meglio dopo le 10:15" in summary and "+39 347 765 4321" in summary
    anna.press("✅ Conferma")
    [booking] = bookings(app)
    assert (booking.phone, booking.note) == ("+393477654321", "Meglio dopo le 10:15, grazie")


def test_the_main_menu_leads_to_ones_own_calls(app: App) -> None:
    anna = Person(app.desk)
    book(anna)
    anna.send("/menu")
    assert "🗓 Le mie richiamate" in anna.labels
    [card] = anna.press("🗓 Le mie richiamate")
    assert "lunedì 23 novembre, 10:00" in card
