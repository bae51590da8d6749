"""A staff member on WhatsApp holds a conversation from her own chat with Sportello:
/conversazioni, one tap, the relay both ways (the topic keeps the record), nobody else can
take it, /chiudi and the score. The fake Graph API and the fake Bot API, both databases."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from bot.app import App
from bot.storage.models import Handoff, HandoffMessage
from tests.booking_world import BRUNO, Clock
from tests.bot_runner import running_bot
from tests.fake_telegram import TINY_PNG, FakeChat, FakeTelegram
from tests.fake_whatsapp import FakeWhatsApp, Phone, phone
from tests.handoff_chat import (
    arrival,
    asks_for_a_person,
    eventually,
    handoff_settings,
    on_both_apis,
    staff_group,
)

ADA_ON_WHATSAPP, GIULIA = "393470000001", "393470000002"


@pytest.fixture
async def app(
    tg: FakeTelegram, wa: FakeWhatsApp, group: FakeChat, database_url: str, clock: Clock
) -> AsyncIterator[App]:
    staff = frozenset({ADA_ON_WHATSAPP, GIULIA})
    async with on_both_apis(tg, wa, database_url, clock, staff_whatsapp_ids=staff) as running:
        yield running


@pytest.fixture
def group(tg: FakeTelegram) -> FakeChat:
    return staff_group(tg)


async def on_whatsapp(wa: FakeWhatsApp, app: App, number: str, name: str) -> Phone:
    """A staff member who just wrote to Sportello (her 24-hour window is open)."""
    member = phone(wa, app, number, name)
    await member.says("ciao")
    member.new()
    return member


async def test_a_staff_member_on_whatsapp_holds_a_telegram_conversation(
    tg: FakeTelegram, wa: FakeWhatsApp, group: FakeChat, app: App
) -> None:
    ada = await on_whatsapp(wa, app, ADA_ON_WHATSAPP, "Ada")
    giulia = await on_whatsapp(wa, app, GIULIA, "Giulia")
    [empty] = await ada.says("/conversazioni")
    assert "Nessuna richiesta aperta" in empty.text

    anna = tg.user(3001, "Anna", last_name="Rossi", language_code="it")
    await asks_for_a_person(anna, "Come funziona il welfare per 3 dipendenti?")
    await group.next_message()  # the card, in Anna's topic
    here = group.topic_named("Anna Rossi · Telegram · IT").message_thread_id
    told = await arrival(ada)  # staff on WhatsApp have no group: each is told
    assert "🙋 Anna Rossi (Telegram) chiede di parlare con una persona" in told.text
    assert "/conversazioni per rispondere" in told.text
    await arrival(giulia)

    [listed] = await ada.says("/conversazioni")
    assert "1. Anna Rossi · Telegram · IT" in listed.text
    assert "«Come funziona il welfare per 3 dipendenti?»" in listed.text
    card, holding = await ada.taps("🙋 1. Anna Rossi")
    assert "Domanda: Come funziona il welfare" in card.text and "🙋 Risponde Ada" in card.text
    assert "Ora quello che scrivi qui arriva a Anna Rossi" in holding.text
    assert "Ada dello staff ha preso la tua richiesta" in (await anna.next_message()).text
    note = await group.next_message()
    assert note.topic == here and "Risponde Ada, dalla sua chat con Sportello" in note.text

    # Nobody else can take it: not from the group's card, not from their own chat.
    bruno = tg.user(BRUNO, "Bruno")
    await bruno.press("🙋 Rispondo io", chat=group)
    await eventually(lambda: bruno.answered_callbacks)
    assert bruno.answered_callbacks[-1].text == "Risponde già Ada."
    [refused] = await giulia.goes("/conversazioni", "👤 1. Anna Rossi")
    assert refused.text == "Risponde già Ada."

    assert await ada.says("Buongiorno Anna! Quanti dipendenti a tempo pieno?") == []
    answer = await anna.next_message()
    assert "👤 Ada · Società Mutua Piemonte" in answer.text
    assert "Quanti dipendenti a tempo pieno?" in answer.text
    record = await group.next_message()  # the topic keeps the record
    assert record.topic == here and "Quanti dipendenti a tempo pieno?" in record.text
    assert await ada.sends_photo(TINY_PNG, "La tabella") == []
    photo = await anna.next_message()
    assert photo.kind == "photo" and photo.photo is not None and "La tabella" in photo.text
    assert (await group.next_message()).kind == "photo"

    await anna.send("Due, e uno part-time")
    relayed = await arrival(ada)
    assert "Anna Rossi" in relayed.text and "Due, e uno part-time" in relayed.text
    assert "Due, e uno part-time" in (await group.next_message()).text
    await anna.expect_silence()  # the bot stays silent

    [canned] = await ada.says("/risposte")  # canned answers work from her chat too
    assert "un_momento" in canned.labels
    [sent] = await ada.taps("un_momento")
    assert "Inviata: Un momento, verifico" in sent.text
    assert "Un momento, verifico e ti rispondo subito." in (await anna.next_message()).text
    assert "Un momento, verifico" in (await group.next_message()).text

    [closed] = await ada.says("/chiudi")
    assert "Conversazione chiusa: la persona torna a Sportello" in closed.text
    score = await anna.next_message()
    assert "ora ti risponde di nuovo Sportello" in score.text
    ending = await group.next_message()
    assert ending.topic == here and "Ada ha chiuso la conversazione" in ending.text
    topic = group.topics[here]
    await eventually(lambda: topic.closed)
    await anna.press("5")
    await anna.next_message()
    assert await ada.says("Grazie a tutti") != []  # back to the bot: no longer relayed

    with app.database.transaction() as session:
        handoff = session.scalars(select(Handoff)).one()
        assert (handoff.state, handoff.closed_by, handoff.score) == ("closed", "staff", 5)
        assert handoff.holder_name == "Ada" and handoff.holder_user_id is not None
        texts = session.scalars(select(HandoffMessage.text).order_by(HandoffMessage.id)).all()
        assert "Buongiorno Anna! Quanti dipendenti a tempo pieno?" in texts
        assert "Due, e uno part-time" in texts and "Grazie a tutti" not in texts


async def test_a_person_ending_it_tells_the_staff_member_in_her_chat(
    tg: FakeTelegram, wa: FakeWhatsApp, group: FakeChat, app: App
) -> None:
    ada = await on_whatsapp(wa, app, ADA_ON_WHATSAPP, "Ada")
    anna = tg.user(3001, "Anna", last_name="Rossi", language_code="it")
    await asks_for_a_person(anna, "Una domanda veloce")
    await group.next_message()
    await arrival(ada)
    await ada.goes("/conversazioni", "🙋 1. Anna Rossi")
    await anna.next_message()
    await anna.send("/fine")
    assert "ora ti risponde di nuovo Sportello" in (await anna.next_message()).text
    assert "Anna Rossi ha chiuso la conversazione." in (await arrival(ada)).text
    [nothing] = await ada.says("/chiudi")
    assert "Non stai rispondendo a nessuno" in nothing.text


async def test_a_telegram_staff_member_holds_it_privately_until_the_person_erases_her_data(
    tg: FakeTelegram, wa: FakeWhatsApp, group: FakeChat, app: App
) -> None:
    maria = phone(wa, app, "393401112223", "Maria Bianchi")
    await maria.says("ciao")
    await maria.says("/operatore")
    await maria.taps("✅ Accetto")
    await maria.taps("✅ Va bene")
    await maria.says("Ho una domanda sul contratto")
    await group.next_message()
    bruno = tg.user(BRUNO, "Bruno")
    await bruno.send("/conversazioni")
    listed = await bruno.next_message()
    assert "1. Maria Bianchi · WhatsApp · IT" in listed.text
    await bruno.press("🙋 1. Maria Bianchi")
    await bruno.next_message()  # the card
    assert "arriva a Maria Bianchi" in (await bruno.next_message()).text
    assert "Bruno dello staff ha preso la tua richiesta" in (await arrival(maria)).text

    await bruno.send("Buongiorno Maria, mi dica")
    assert "Buongiorno Maria, mi dica" in (await arrival(maria)).text
    await bruno.expect_silence()
    assert await maria.says("/cancella") != []
    await maria.taps("🗑 Sì, cancella tutto")
    erased = await bruno.next_message()
    assert "cancellata insieme ai dati della persona" in erased.text
    await bruno.send("/chiudi")
    assert "Non stai rispondendo a nessuno" in (await bruno.next_message()).text


async def test_a_restart_keeps_a_conversation_held_from_a_private_chat(
    tg: FakeTelegram, group: FakeChat, database_url: str, clock: Clock
) -> None:
    clock.advance(hours=2)  # Monday 10:00 in Rome: the office is open
    settings = handoff_settings(tg, database_url)
    anna, bruno = tg.user(3001, "Anna", language_code="it"), tg.user(BRUNO, "Bruno")
    async with running_bot(settings, clock):
        await asks_for_a_person(anna, "Ho una domanda sui fringe benefit")
        await bruno.send("/conversazioni")
        await bruno.next_message()
        await bruno.press("🙋 1. Anna")
        await bruno.next_message()  # the card
        assert "arriva a Anna" in (await bruno.next_message()).text
        await anna.next_message()
    async with running_bot(settings, clock):  # a new process: everything from the database
        await bruno.send("Eccomi, mi dica")
        assert "Eccomi, mi dica" in (await anna.next_message()).text
        await anna.send("Sì, grazie!")
        assert "Sì, grazie!" in (await bruno.next_message()).text


async def test_a_holder_erasing_her_data_frees_the_request(
    tg: FakeTelegram, wa: FakeWhatsApp, group: FakeChat, app: App
) -> None:
    ada = await on_whatsapp(wa, app, ADA_ON_WHATSAPP, "Ada")
    giulia = await on_whatsapp(wa, app, GIULIA, "Giulia")
    anna = tg.user(3001, "Anna", last_name="Rossi", language_code="it")
    await asks_for_a_person(anna, "Una domanda veloce")
    await group.next_message()
    await arrival(ada)
    await arrival(giulia)
    await ada.goes("/conversazioni", "🙋 1. Anna Rossi")
    await anna.next_message()
    await group.next_message()
    await ada.goes("/cancella", "🗑 Sì, cancella tutto")
    freed = await group.next_message()
    assert "Ada non risponde più: la richiesta è di nuovo libera." in freed.text
    [_card, holding] = await giulia.goes("/conversazioni", "🙋 1. Anna Rossi")
    assert "arriva a Anna Rossi" in holding.text
