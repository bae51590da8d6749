"""Events in conversation: staff announce, subscribers answer, reminders and feedback follow."""

from __future__ import annotations

import io
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from bot.storage.models import Reminder, Rsvp, Subscription
from bot.values.messages import Document, Inbound, Kind, Reply
from tests.desk_chat import Person, text_of
from tests.events_chat import Desk, create_event, event_row, make_desk, subscribe


@pytest.fixture
def desk(database_url: str) -> Desk:
    return make_desk(database_url)


def test_subscribing_after_consent_and_changing_any_time(desk: Desk) -> None:
    anna = desk.person("7")
    question = anna.send("/iscriviti")
    assert "informativa" in question[0].lower()
    anna.press("Accetto")
    anna.press("Pinerolo")
    [interests] = anna.press("Avanti")
    assert "argomenti" in interests
    assert anna.press("Fatto") == []
    assert anna.answers[-1].notice == "Scegli almeno un argomento."
    anna.press("Welfare aziendale e fisco")
    [done] = anna.press("Fatto")
    assert "Territori: Pinerolo" in done and "Argomenti: Welfare aziendale e fisco" in done
    anna.send("/iscriviti")
    assert "✅ Pinerolo" in anna.labels  # what she chose, ready to change
    anna.press("Val Chisone")
    anna.press("Avanti")
    anna.press("Fatto")
    with desk.app.database.transaction() as session:
        found = session.get(Subscription, 1)
        assert found is not None and found.territories == ["pinerolo", "val_chisone"]


def test_the_menu_entry_subscribes_then_lists_events(desk: Desk) -> None:
    anna = desk.person("7")
    anna.send("/start")
    anna.press("Eventi e seminari")
    anna.press("Accetto")
    assert "▫️ Pinerolo" in anna.labels
    subscribe(anna, ["Pinerolo"], ["Tutti gli argomenti"])
    anna.send("/menu")
    [listing] = anna.press("Eventi e seminari")
    assert "non ci sono eventi" in listing


async def test_announce_now_reaches_only_the_targeted_subscribers(desk: Desk) -> None:
    anna, bruno, carla = desk.person("7"), desk.person("8", "Bruno"), desk.person("9", "Carla")
    subscribe(anna, ["Val Pellice"], ["Salute e sicurezza sul lavoro"])
    subscribe(bruno, ["Val Chisone"], ["Tutti gli argomenti"])  # another valley
    carla.send("ciao")  # never subscribed
    staff = desk.person("4242", "Staff")
    create_event(staff)
    preview, controls = staff.answers[-2].replies
    assert isinstance(preview, Reply) and isinstance(controls, Reply)
    assert "venerdì 12 marzo 2027, 18:30" in text_of(preview)
    assert "Destinatari: 1 iscritto." in text_of(controls)
    assert "Evento creato" in text_of(staff.last)
    await desk.tick()
    [announcement] = desk.received(anna)
    assert "Sicurezza nei cantieri di montagna" in announcement
    assert "📍 Sala consiliare, Torre Pellice" in announcement
    assert anna.labels == ["✅ Ci sarò", "🤔 Forse", "❌ No"]
    assert desk.received(bruno) == [] and desk.received(carla) == []
    [report] = desk.received(staff)
    assert "Invio finito" in report and "Inviato 1 di 1" in report


async def test_rsvp_updates_the_message_and_sends_a_calendar_file(desk: Desk) -> None:
    anna = desk.person("7")
    subscribe(anna, ["Pinerolo"], ["Tutti gli argomenti"])
    create_event(desk.person("4242", "Staff"))
    await desk.tick()
    desk.received(anna)
    replies = anna.press("Ci sarò")
    updated, calendar = anna.answers[-1].replies
    assert isinstance(updated, Reply) and updated.replace
    assert "La tua risposta: ✅ Ci sarò" in replies[0]
    assert "• ✅ Ci sarò" in anna.labels or "• ✅ Ci sarò" in [
        b.label for row in updated.buttons for b in row
    ]
    assert isinstance(calendar, Document) and calendar.mime_type == "text/calendar"
    assert b"DTSTART:20270312T173000Z" in calendar.content
    [changed] = anna.press("Forse")  # changing her mind
    assert "La tua risposta: 🤔 Forse" in changed
    with desk.app.database.transaction() as session:
        assert session.scalars(select(Rsvp.answer)).all() == ["maybe"]
        pending = session.scalars(
            select(Reminder.kind).where(Reminder.state == "pending").order_by(Reminder.due_at)
        ).all()
    assert pending == ["event_targeted"] * 2  # 7 and 1 day before; the yes ones went


async def one_place_taken(desk: Desk) -> tuple[Person, Person]:
    """Anna has the only place of an announced event; Bruno has not answered yet."""
    anna, bruno = desk.person("7"), desk.person("8", "Bruno")
    for person in (anna, bruno):
        subscribe(person, ["Pinerolo"], ["Salute e sicurezza sul lavoro"])
    create_event(desk.person("4242", "Staff"), capacity="1")
    await desk.tick()
    desk.received(anna), desk.received(bruno)
    anna.press("Ci sarò")
    return anna, bruno


async def test_waiting_list_and_the_notice_when_a_place_frees(desk: Desk) -> None:
    anna, bruno = await one_place_taken(desk)
    [waiting] = bruno.press("Ci sarò")
    assert "lista d'attesa" in waiting
    assert not any(isinstance(m, Document) for m in bruno.answers[-1].replies)
    anna.press("No")
    await desk.tick()
    place, calendar = desk.phones.inbox.pop("8")
    assert "Si è liberato un posto" in text_of(place)
    assert isinstance(calendar, Document)


async def test_a_place_freed_by_erasing_ones_data_goes_to_the_waiting_list(desk: Desk) -> None:
    anna, bruno = await one_place_taken(desk)
    bruno.press("Ci sarò")  # waiting
    anna.send("/cancella")
    anna.press("Sì, cancella tutto")
    await desk.tick()
    place, _calendar = desk.phones.inbox.pop("8")
    assert "Si è liberato un posto" in text_of(place)
    with desk.app.database.transaction() as session:
        assert session.scalars(select(Rsvp.waiting)).all() == [False]  # Bruno's, with a place


async def test_reminders_carry_the_place_and_skip_those_who_said_no(desk: Desk) -> None:
    anna, bruno = desk.person("7"), desk.person("8", "Bruno")
    for person in (anna, bruno):
        subscribe(person, ["Pinerolo"], ["Salute e sicurezza sul lavoro"])
    create_event(desk.person("4242", "Staff"))
    await desk.tick()
    desk.received(anna), desk.received(bruno)
    anna.press("Ci sarò")
    bruno.press("No")
    desk.clock.now = datetime(2027, 3, 5, 17, 31, tzinfo=UTC)  # seven days before
    await desk.tick()
    [week] = desk.received(anna)
    assert "Promemoria: l'evento è tra 7 giorni" in week and "Torre Pellice" in week
    assert desk.received(bruno) == []
    desk.clock.now = datetime(2027, 3, 12, 16, 31, tzinfo=UTC)  # an hour before
    await desk.tick()
    texts = desk.received(anna)
    assert any("tra 1 ora" in t for t in texts)


async def test_feedback_the_next_day_reaches_the_staff_view(desk: Desk) -> None:
    anna = desk.person("7")
    subscribe(anna, ["Pinerolo"], ["Tutti gli argomenti"])
    staff = desk.person("4242", "Staff")
    create_event(staff)
    await desk.tick()
    desk.received(anna)
    anna.press("Ci sarò")
    desk.clock.now = datetime(2027, 3, 13, 9, 1, tzinfo=UTC)  # the next morning, 10:01
    await desk.tick()
    [question] = desk.received(anna)[-1:]
    assert "Com'è andato «Sicurezza nei cantieri di montagna»?" in question
    [thanks] = anna.press("4")
    assert "commento" in thanks
    anna.send("Molto utile, ma la sala era fredda.")
    staff.press("Apri l'evento")
    view = text_of(staff.last)
    assert "Gradimento: 4 su 5 (1 voto)" in view
    assert "la sala era fredda" in view
    assert "✅ Ci sarò: 1" in view


def edit_place(staff: Person, typed: str) -> list[str]:
    """Staff open the event, change its place and see the preview (not yet saved)."""
    staff.press("Apri l'evento")
    staff.press("Modifica")
    staff.press("Luogo o collegamento")
    return staff.send(typed)


def ics_content(person: Person) -> bytes:
    """The calendar file among the last messages the person received."""
    [document] = [m for m in person.answers[-1].replies if isinstance(m, Document)]
    return document.content


def sequence(content: bytes) -> int:
    """The version of a calendar file: a higher one replaces the copy a calendar holds."""
    found = re.search(rb"SEQUENCE:(\d+)", content)
    assert found is not None
    return int(found[1])


async def test_an_edit_sends_the_correction_and_a_cancel_tells_the_yes(desk: Desk) -> None:
    anna, bruno = desk.person("7"), desk.person("8", "Bruno")
    for person in (anna, bruno):
        subscribe(person, ["Pinerolo"], ["Salute e sicurezza sul lavoro"])
    staff = desk.person("4242", "Staff")
    create_event(staff)
    await desk.tick()
    desk.received(anna), desk.received(bruno)
    anna.press("Ci sarò")
    first = ics_content(anna)
    [preview, _confirm] = edit_place(staff, "online: https://meet.example.org/smp")
    assert "https://meet.example.org/smp" in preview
    [saved] = staff.press("Salva e invia la correzione")
    assert "2 persone" in saved
    await desk.tick()
    [correction, calendar] = desk.received(anna)  # she had a place: her calendar too
    assert "Correzione" in correction and "https://meet.example.org/smp" in correction
    assert "aggiornare l'evento nel tuo calendario" in calendar
    updated = ics_content(anna)
    assert sequence(updated) > sequence(first) and b"URL:https://meet.example.org/smp" in updated
    assert len(desk.received(bruno)) == 1
    staff.press("Apri l'evento")
    staff.press("Annulla l'evento")
    [cancelled] = staff.press("Sì, annulla l'evento")
    assert "Ho avvisato 1 persona" in cancelled
    await desk.tick()
    [told, calendar] = desk.received(anna)
    assert "annullato" in told and "segnare l'evento come annullato" in calendar
    cancelling = ics_content(anna)
    assert sequence(cancelling) > sequence(updated) and b"STATUS:CANCELLED" in cancelling
    assert b"METHOD:CANCEL\r\n" in cancelling
    assert desk.received(bruno) == []  # he had not answered yes
    [stale] = anna.press("Forse")  # the old announcement's button
    assert "annullato" in stale


async def test_announcing_later_reaches_who_subscribed_meanwhile(desk: Desk) -> None:
    staff = desk.person("4242", "Staff")
    create_event(staff, later="10/3/2027 9:00")
    assert "partirà" in text_of(staff.last)
    anna = desk.person("7")
    subscribe(anna, ["Pinerolo"], ["Salute e sicurezza sul lavoro"])
    await desk.tick()
    assert desk.received(anna) == []
    desk.clock.now = datetime(2027, 3, 10, 8, 0, 30, tzinfo=UTC)
    await desk.tick()
    [announcement] = desk.received(anna)
    assert "Sicurezza nei cantieri" in announcement


async def test_unsubscribing_stops_everything_at_once(desk: Desk) -> None:
    anna = desk.person("7")
    subscribe(anna, ["Pinerolo"], ["Salute e sicurezza sul lavoro"])
    create_event(desk.person("4242", "Staff"))
    await desk.app.announcer.run()  # queued, not yet sent
    [done] = anna.send("/disiscriviti")
    assert "non riceverai più" in done
    await desk.tick()
    assert desk.received(anna) == []
    desk.clock.now = datetime(2027, 3, 11, 17, 31, tzinfo=UTC)
    await desk.tick()
    assert desk.received(anna) == []


async def test_withdrawing_consent_stops_what_was_already_queued(desk: Desk) -> None:
    anna = desk.person("7")
    subscribe(anna, ["Pinerolo"], ["Salute e sicurezza sul lavoro"])
    create_event(desk.person("4242", "Staff"))
    await desk.app.announcer.run()  # queued, not yet sent
    anna.send("/privacy")
    anna.press("Revoca il consenso")
    anna.press("Sì, revoca il consenso")
    await desk.tick()
    assert desk.received(anna) == []
    desk.clock.now = datetime(2027, 3, 11, 17, 31, tzinfo=UTC)  # the day-before reminder
    await desk.tick()
    assert desk.received(anna) == []


async def test_a_user_who_blocked_the_bot_is_unsubscribed(desk: Desk) -> None:
    anna = desk.person("7")
    subscribe(anna, ["Pinerolo"], ["Salute e sicurezza sul lavoro"])
    desk.phones.blocked.add("7")
    create_event(desk.person("4242", "Staff"))
    await desk.tick()
    with desk.app.database.transaction() as session:
        assert session.scalars(select(Subscription)).all() == []


async def test_the_attendee_list_has_consented_names(desk: Desk) -> None:
    anna, bruno = desk.person("7"), desk.person("8", "=HYPERLINK(1;2) Bianchi")
    for person in (anna, bruno):
        subscribe(person, ["Pinerolo"], ["Salute e sicurezza sul lavoro"])
    staff = desk.person("4242", "Staff")
    create_event(staff)
    await desk.tick()
    desk.received(anna), desk.received(bruno)
    anna.press("Ci sarò")
    bruno.press("Forse")
    staff.press("Apri l'evento")
    staff.press("Partecipanti")
    workbook, document = staff.answers[-1].replies
    assert isinstance(document, Document) and document.mime_type == "text/csv"
    lines = document.content.decode("utf-8-sig").splitlines()
    assert lines[0] == "nome;risposta;lista_attesa;risposto_il;voto;commento"  # Italian Excel
    assert any(line.startswith('"\'=HYPERLINK(1;2) Bianchi";maybe') for line in lines)
    assert any(line.startswith("Anna Rossi;yes") for line in lines)
    assert isinstance(workbook, Document) and workbook.filename.endswith(".xlsx")
    sheet = load_workbook(io.BytesIO(workbook.content)).worksheets[0]
    names = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert "=HYPERLINK(1;2) Bianchi" in names  # a text cell, never a formula
    assert all(cell.data_type == "s" for cell in sheet["A"])


def test_staff_only_commands_and_buttons(desk: Desk) -> None:
    anna = desk.person("7")
    for command in ("/nuovo_evento", "/eventi_staff", "/broadcast"):
        [refused] = anna.send(command)
        assert "staff" in refused.lower()
    staff = desk.person("4242", "Staff")
    create_event(staff)
    signer = desk.app.desk.signer
    forged = anna.do(anna.inbound(Kind.BUTTON, payload=signer.pack("es_cancel_yes", 1)))
    assert "non è più valido" in forged[0]
    assert event_row(desk).status != "cancelled"


def test_forged_or_stale_rsvp_buttons_are_refused(desk: Desk) -> None:
    anna = desk.person("7")
    subscribe(anna, ["Pinerolo"], ["Salute e sicurezza sul lavoro"])
    signer = desk.app.desk.signer
    for payload in (signer.pack("ev_rsvp", 999, "y"), signer.pack("ev_rsvp", "x", "y")):
        [stale] = anna.do(anna.inbound(Kind.BUTTON, payload=payload))
        assert "non è più valido" in stale
    create_event(desk.person("4242", "Staff"), later="10/3/2027 9:00")
    [early] = anna.do(anna.inbound(Kind.BUTTON, payload=signer.pack("ev_rsvp", 1, "y")))
    assert "non è più valido" in early  # not announced yet


def test_typed_dates_are_checked_with_a_friendly_answer(desk: Desk) -> None:
    staff = desk.person("4242", "Staff")
    staff.send("/nuovo_evento")
    staff.send("Titolo")
    staff.press("Salta")
    [problem] = staff.send("il 31 febbraio")
    assert "data" in problem.lower()
    [past] = staff.send("1/1/2020 10:00")
    assert "già passato" in past
    [place] = staff.send("12/3/2027 18:30")
    assert "Dove?" in place
    [quit_] = staff.send("/annulla")
    assert "lasciato perdere" in quit_


async def test_announcements_wait_for_the_morning(desk: Desk) -> None:
    anna = desk.person("7")
    subscribe(anna, ["Pinerolo"], ["Salute e sicurezza sul lavoro"])
    desk.clock.now = datetime(2027, 3, 1, 21, 30, tzinfo=UTC)  # 22:30 in Rome
    create_event(desk.person("4242", "Staff"))
    await desk.tick()
    assert desk.received(anna) == []
    desk.clock.now = datetime(2027, 3, 2, 7, 0, 30, tzinfo=UTC)  # 8:00 in Rome
    await desk.tick()
    assert len(desk.received(anna)) == 1


async def test_my_events_show_my_answers(desk: Desk) -> None:
    anna = desk.person("7")
    subscribe(anna, ["Pinerolo"], ["Salute e sicurezza sul lavoro"])
    create_event(desk.person("4242", "Staff"))
    await desk.tick()
    desk.received(anna)
    anna.press("Forse")
    header, event, _actions = anna.send("/eventi")
    assert header == "📅 Prossimi eventi"
    assert "Sicurezza nei cantieri" in event and "La tua risposta: 🤔 Forse" in event


async def test_who_answered_from_the_list_gets_the_correction_too(desk: Desk) -> None:
    staff = desk.person("4242", "Staff")
    create_event(staff)
    await desk.tick()  # announced to no one: nobody had subscribed yet
    carla = desk.person("9", "Carla")
    subscribe(carla, ["Pinerolo"], ["Salute e sicurezza sul lavoro"])
    carla.send("/eventi")
    carla.press("Ci sarò")
    edit_place(staff, "online: https://meet.example.org/smp")
    [saved] = staff.press("Salva e invia la correzione")
    assert "1 persona" in saved
    await desk.tick()
    [correction, calendar] = desk.received(carla)
    assert "Correzione" in correction and "https://meet.example.org/smp" in correction
    assert "aggiornare l'evento" in calendar


async def test_the_last_place_goes_to_one_of_two_quick_yeses(desk: Desk) -> None:
    people = [desk.person(str(7 + n), f"Persona {n}") for n in range(6)]
    for person in people:
        subscribe(person, ["Pinerolo"], ["Salute e sicurezza sul lavoro"])
    create_event(desk.person("4242", "Staff"), capacity="2")
    await desk.tick()
    presses = []
    for person in people:
        desk.received(person)
        presses.append(person.inbound(Kind.BUTTON, payload=person.button("Ci sarò").payload))
    with ThreadPoolExecutor(len(people)) as pool:
        list(pool.map(desk.app.desk.handle, presses))
    with desk.app.database.transaction() as session:
        seats = session.scalars(select(Rsvp.waiting)).all()
    assert sorted(seats) == [False, False, True, True, True, True]


async def test_a_new_date_moves_the_reminders(desk: Desk) -> None:
    anna = desk.person("7")
    subscribe(anna, ["Pinerolo"], ["Salute e sicurezza sul lavoro"])
    staff = desk.person("4242", "Staff")
    create_event(staff)
    await desk.tick()
    desk.received(anna)
    anna.press("Ci sarò")
    staff.press("Apri l'evento")
    staff.press("Modifica")
    staff.press("Data e ora")
    [problem] = staff.send("la settimana dopo")
    assert "Non riesco a leggere la data" in problem
    staff.send("19/3/2027 18:30")
    staff.press("Salva e invia la correzione")
    await desk.tick()
    [correction, _calendar] = desk.received(anna)
    assert "venerdì 19 marzo 2027, 18:30" in correction
    assert b"DTSTART:20270319T173000Z" in ics_content(anna)  # her calendar moves too
    with desk.app.database.transaction() as session:
        pending = session.scalars(
            select(Reminder.due_at).where(Reminder.state == "pending").order_by(Reminder.due_at)
        ).all()
    new_start = datetime(2027, 3, 19, 17, 30, tzinfo=UTC)
    assert [new_start - due for due in pending[:3]] == [
        timedelta(days=7),
        timedelta(days=1),
        timedelta(hours=1),
    ]


def test_guided_conversations_ask_for_the_private_chat(database_url: str) -> None:
    desk = make_desk(database_url, staff_chat_id=-100)
    staff = desk.person("4242", "Staff")
    sender = staff.sender
    for command in ("nuovo_evento", "broadcast"):
        inbound = Inbound(
            "telegram",
            sender,
            "-100",
            Kind.COMMAND,
            text=f"/{command}",
            command=command,
            event_id=f"group-{command}",
            in_group=True,
        )
        [answer] = staff.do(inbound)
        assert "Scrivimi in privato" in answer
    [listing] = staff.do(
        Inbound(
            "telegram",
            sender,
            "-100",
            Kind.COMMAND,
            text="/eventi_staff",
            command="eventi_staff",
            event_id="group-list",
            in_group=True,
        )
    )
    assert "Non ci sono eventi" in listing


async def test_announce_now_in_the_quiet_hours_says_when_it_will_go(desk: Desk) -> None:
    anna = desk.person("7")
    subscribe(anna, ["Pinerolo"], ["Salute e sicurezza sul lavoro"])
    desk.clock.now = datetime(2027, 3, 1, 21, 30, tzinfo=UTC)  # 22:30 in Rome
    staff = desk.person("4242", "Staff")
    create_event(staff)
    created = text_of(staff.last)
    assert "l'annuncio partirà martedì 2 marzo, 08:00" in created
    assert "ore di quiete" in created
    await desk.tick()
    assert desk.received(anna) == []
    [card] = staff.press("Apri l'evento")
    assert "Inviati 0 di 1 Sono le ore di quiete: l'invio partirà alle 08:00." in card


async def test_the_places_shown_are_the_places_left(desk: Desk) -> None:
    anna, bruno = desk.person("7"), desk.person("8", "Bruno")
    for person in (anna, bruno):
        subscribe(person, ["Pinerolo"], ["Salute e sicurezza sul lavoro"])
    create_event(desk.person("4242", "Staff"), capacity="2")
    await desk.tick()
    [announced] = desk.received(anna)
    assert "Posti disponibili: 2" in announced
    [answered] = anna.press("Ci sarò")[:1]
    assert "Ancora 1 posto libero su 2" in answered
    [listed] = bruno.send("/eventi")[1:2]
    assert "Ancora 1 posto libero su 2" in listed
    [full] = bruno.press("Ci sarò")[:1]
    assert "Posti esauriti" in full


async def test_counts_agree_with_their_number(desk: Desk) -> None:
    anna = desk.person("7")
    subscribe(anna, ["Pinerolo"], ["Salute e sicurezza sul lavoro"])
    staff = desk.person("4242", "Staff")
    create_event(staff, capacity="1")
    await desk.tick()
    desk.received(anna)
    anna.press("Ci sarò")
    [card] = staff.press("Apri l'evento")
    assert "Ci sarò: 1 di 1 posto" in card and "Inviato 1 di 1" in card
