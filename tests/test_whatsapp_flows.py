"""Every flow end to end on WhatsApp: the survey, a booking, an event RSVP."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from bot.app import App
from bot.storage.models import Booking, Rsvp, SurveyResponse, User, WhatsAppContact
from tests.booking_world import Clock, booking_settings
from tests.bot_runner import running_bot
from tests.desk_chat import Person
from tests.events_chat import create_event
from tests.fake_whatsapp import FakeWhatsApp, Phone, Seen, free_port, phone

ANNA = "393331234567"
NINA_BSUID = "IT.1502576394655843"


@pytest.fixture
async def app(wa: FakeWhatsApp, database_url: str, clock: Clock) -> AsyncIterator[App]:
    settings = booking_settings(
        database_url, quiet_hours="off", whatsapp_chat_gap=0, **wa.settings(free_port())
    )
    async with running_bot(settings, clock) as running:
        yield running


@pytest.fixture
async def anna(wa: FakeWhatsApp, app: App) -> Phone:
    anna = phone(wa, app, ANNA, "Anna Rossi")
    await anna.says("ciao")
    return anna


@pytest.fixture
async def nina(wa: FakeWhatsApp, app: App) -> Phone:
    """A user with a username: WhatsApp gives her BSUID, never her phone number."""
    nina = phone(wa, app, "", "Nina", user_id=NINA_BSUID, username="@nina.valli")
    await nina.says("ciao")
    return nina


async def test_the_survey_on_whatsapp(anna: Phone, app: App) -> None:
    await take_the_survey(anna)
    with app.database.transaction() as session:
        response = session.scalars(select(SurveyResponse)).one()
        assert response.status == "completed"
        assert response.answers["area"] == "val_pellice"


async def take_the_survey(anna: Phone) -> None:
    await anna.says("/questionario")
    await anna.taps("✅ Accetto")
    [first] = await anna.taps("Inizia")
    assert first.text.startswith("Domanda 1 di 13") and first.kind == "interactive:list"
    await anna.says("val pellice")  # typed instead of tapped
    await anna.taps("Titolare, socio, presidente")
    await anna.taps("Commercio")
    await anna.taps("Sì")
    await anna.taps("Da 1 a 5")
    await anna.taps("Sì, alcuni")
    for scale in ["Molto", "Abbastanza", "Poco", "Per niente", "Poco", "Molto", "Molto"]:
        await anna.taps(scale)
    [text_question] = await anna.taps("Abbastanza")
    assert "Scrivi la risposta" in text_question.text
    await anna.says("un doposcuola in valle e aiuto per i nonni")
    await anna.taps("Sì")
    await anna.taps("Salute: visite, rimborsi")
    await anna.taps("Fatto")
    await anna.taps("No")  # collabora
    await anna.taps("Molto")  # interesse_collaborare
    summary = await anna.taps("No")  # rete
    assert summary[0].text.startswith("*Ecco le tue risposte:*")
    thanks = await anna.taps("Conferma e invia")
    assert thanks


async def test_a_booking_on_whatsapp_offers_the_whatsapp_number(anna: Phone, app: App) -> None:
    ask = await book_until_the_number(anna)
    assert "Ti chiamiamo a questo numero?" in ask.text
    assert ask.kind == "interactive:list"  # 22 characters: too long for a reply button
    assert ask.labels == ["📱 Usa +39 333 123 4567", "⬅️ Indietro"]
    await anna.taps("📱 Usa +39 333 123 4567")
    await anna.taps("Nessuna nota")
    confirmation, calendar = await anna.taps("✅ Conferma")
    assert "Fatto! Ti chiameremo martedì 24 novembre, 09:00." in confirmation.text
    assert confirmation.labels == ["🕑 Sposta", "✖️ Annulla"]  # the short form from content
    assert calendar.kind == "document"
    assert calendar.body["document"]["filename"] == "richiamata.ics"
    with app.database.transaction() as session:
        assert session.scalars(select(Booking.phone)).one() == "+393331234567"


async def book_until_the_number(person: Phone) -> Seen:
    """A phone call on Tuesday at 9: up to the question of the number to call."""
    steps = ("✅ Accetto", "Welfare aziendale e fisco", "📞 Telefonata", "martedì 24 novembre")
    ask, *_way_back = await person.goes("/richiamata", *steps, "09:00")
    return ask


async def test_an_event_rsvp_on_whatsapp(anna: Phone, app: App, wa: FakeWhatsApp) -> None:
    await subscribe(anna)
    create_event(Person(app.desk, "4242", "Staff"))
    await app.announcer.run()
    await app.outbox.drain()
    [announcement] = anna.new()
    assert "Sicurezza nei cantieri di montagna" in announcement.text
    assert announcement.kind == "interactive:button"
    updated, calendar = await anna.taps("Ci sarò")
    assert "La tua risposta: ✅ Ci sarò" in updated.text
    assert calendar.kind == "document" and calendar.body["document"]["filename"].endswith(".ics")
    assert (
        wa.media[calendar.body["document"]["id"]][1] == "text/plain"
    )  # WhatsApp has no text/calendar
    with app.database.transaction() as session:
        assert session.scalars(select(Rsvp.answer)).all() == ["yes"]


async def subscribe(person: Phone) -> None:
    """Announcements of every event in Val Pellice."""
    steps = ("✅ Accetto", "Val Pellice", "Avanti", "Tutti gli argomenti", "Fatto")
    await person.goes("/iscriviti", *steps)


async def test_stop_unsubscribes_at_once(anna: Phone, app: App) -> None:
    await subscribe(anna)
    [stopped] = await anna.says("STOP")
    assert "/iscriviti" in stopped.text or "più" in stopped.text
    create_event(Person(app.desk, "4242", "Staff"))
    await app.announcer.run()
    await app.outbox.drain()
    assert anna.new() == []


async def test_a_username_user_without_a_number_goes_everywhere(
    nina: Phone, app: App, wa: FakeWhatsApp
) -> None:
    [menu] = nina.seen
    assert menu.text.startswith("*Ciao Nina!*") and "📝 Questionario" in menu.labels
    assert wa.aliases[NINA_BSUID] == NINA_BSUID  # every reply went to her BSUID
    answer = await nina.says("posso dare buoni benzina ai dipendenti senza tasse?")
    assert any("carburante" in seen.text.lower() for seen in answer)
    await take_the_survey(nina)
    ask = await book_until_the_number(nina)
    assert "A quale numero ti chiamiamo?" in ask.text  # no number to offer: she types it
    assert not any("Usa +" in label for label in ask.labels)
    await nina.says("333 765 4321")
    await nina.taps("Nessuna nota")
    confirmation, _calendar = await nina.taps("✅ Conferma")
    assert "Fatto! Ti chiameremo martedì 24 novembre, 09:00." in confirmation.text
    wa.assert_no_refusals()
    with app.database.transaction() as session:
        assert session.scalars(select(Booking.phone)).one() == "+393337654321"
        assert session.scalars(select(SurveyResponse.status)).one() == "completed"
        user = session.scalars(select(User)).one()
        assert user.external_id == NINA_BSUID
        contact = session.get(WhatsAppContact, user.id)
        assert contact is not None
        assert (contact.bsuid, contact.phone, contact.username) == (
            NINA_BSUID,
            None,
            "@nina.valli",
        )


async def test_outside_the_window_fixed_wording_templates_carry_what_varies(
    anna: Phone, app: App, wa: FakeWhatsApp, clock: Clock
) -> None:
    ask = await book_until_the_number(anna)
    await anna.taps(ask.labels[0])
    await anna.taps("Nessuna nota")
    await anna.taps("✅ Conferma")
    await subscribe(anna)
    clock.advance(hours=24, minutes=10)  # Tuesday 8:10, the call at 9:00; her window closed
    create_event(Person(app.desk, "4242", "Staff"))
    await app.announcer.run()
    await app.outbox.drain()
    [event] = anna.new()
    assert event.body["template"]["name"] == "sportello_evento"
    assert event.text == (
        "Sicurezza nei cantieri di montagna | venerdì 12 marzo 2027, 18:30 | "
        "Sala consiliare, Torre Pellice"
    )
    await app.reminders.run()
    await app.outbox.drain()
    reminder = anna.new()[-1]
    assert reminder.body["template"]["name"] == "sportello_richiamata"
    assert reminder.text == "martedì 24 novembre | 09:00"
