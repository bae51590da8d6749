"""Every flow end to end on WhatsApp: the survey, a booking, an event RSVP."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from bot.app import App
from bot.storage.models import Booking, Rsvp, SurveyResponse
from tests.booking_world import Clock, booking_settings
from tests.bot_runner import running_bot
from tests.desk_chat import Person
from tests.events_chat import create_event
from tests.fake_whatsapp import FakeWhatsApp, Phone, free_port, phone

ANNA = "393331234567"


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


async def test_the_survey_on_whatsapp(anna: Phone, app: App) -> None:
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
    print([(m.kind, m.text[-300:], m.labels) for m in summary])
    thanks = await anna.taps("Conferma e invia")
    assert thanks
    with app.database.transaction() as session:
        response = session.scalars(select(SurveyResponse)).one()
        assert response.status == "completed"
        assert response.answers["area"] == "val_pellice"


async def test_a_booking_on_whatsapp_offers_the_whatsapp_number(anna: Phone, app: App) -> None:
    await anna.says("/richiamata")
    await anna.taps("✅ Accetto")
    await anna.taps("Welfare aziendale e fisco")
    await anna.taps("📞 Telefonata")
    await anna.taps("martedì 24 novembre")
    [ask] = await anna.taps("09:00")
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


async def test_an_event_rsvp_on_whatsapp(anna: Phone, app: App, wa: FakeWhatsApp) -> None:
    await anna.says("/iscriviti")
    await anna.taps("✅ Accetto")
    await anna.taps("Val Pellice")
    await anna.taps("Avanti")
    await anna.taps("Tutti gli argomenti")
    await anna.taps("Fatto")
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


async def test_stop_unsubscribes_at_once(anna: Phone, app: App) -> None:
    await anna.says("/iscriviti")
    await anna.taps("✅ Accetto")
    await anna.taps("Val Pellice")
    await anna.taps("Avanti")
    await anna.taps("Tutti gli argomenti")
    await anna.taps("Fatto")
    [stopped] = await anna.says("STOP")
    assert "/iscriviti" in stopped.text or "più" in stopped.text
    create_event(Person(app.desk, "4242", "Staff"))
    await app.announcer.run()
    await app.outbox.drain()
    assert anna.new() == []
