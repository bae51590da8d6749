"""The handoff when things are not simple: out of hours, nobody free, a restart in the
middle, an erasure in the middle, a group without topics, canned answers, the report."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from bot.app import App
from bot.config import Settings
from bot.storage import personal_data
from bot.storage.db import Database
from bot.storage.models import ChatThread, Handoff, HandoffMessage, ThreadMessage, User
from tests.booking_world import ADA, Clock
from tests.bot_runner import running_bot
from tests.fake_telegram import FakeTelegram
from tests.handoff_chat import (
    asks_for_a_person,
    eventually,
    handoff_settings,
    staff_group,
    taken_by_ada,
)


@pytest.fixture
def settings(tg: FakeTelegram, database_url: str, clock: Clock) -> Settings:
    clock.advance(hours=2)  # Monday 10:00 in Rome: the office is open
    return handoff_settings(tg, database_url)


@pytest.fixture
async def bot(settings: Settings, clock: Clock) -> AsyncIterator[App]:
    async with running_bot(settings, clock) as app:
        yield app


async def test_out_of_hours_the_request_waits_for_the_opening(
    tg: FakeTelegram, settings: Settings, clock: Clock
) -> None:
    group = staff_group(tg)
    clock.advance(hours=10)  # Monday 20:00 in Rome
    anna = tg.user(3001, "Anna", language_code="it")
    async with running_bot(settings, clock):
        await anna.send("/operatore")
        await anna.next_message()
        await anna.next_message()
        await anna.press("✅ Accetto")
        await anna.next_message()
        await anna.press("✅ Va bene")
        closed = await anna.next_message()
        assert "lo staff non è in ufficio: torna martedì 24 novembre, 09:00" in closed.text
        await anna.next_message()
        await anna.send("Posso avere un rimborso per le spese mediche?")
        told = await anna.next_message()
        assert "la leggeranno alla riapertura" in told.text
        assert told.button_labels == ["📞 Fissa una richiamata"]
        card = await group.next_message()
        assert "Arrivata fuori orario: da leggere alla riapertura." in card.text


async def test_nobody_takes_the_request_in_time(tg: FakeTelegram, bot: App, clock: Clock) -> None:
    group = staff_group(tg)
    anna = tg.user(3001, "Anna", language_code="it")
    await asks_for_a_person(anna, "Mi serve aiuto con la busta paga")
    await group.next_message()
    clock.advance(minutes=14)
    assert await bot.reminders.run() == 0
    clock.advance(minutes=2)
    assert await bot.reminders.run() == 1
    await bot.outbox.drain()
    sorry = await anna.next_message()
    assert "nessuno dello staff è libero" in sorry.text
    assert sorry.button_labels == ["📞 Fissa una richiamata"]
    await tg.user(ADA, "Ada").press("🙋 Rispondo io", chat=group)  # the request is still there
    assert "🙋 Risponde Ada" in (await group.next_message()).text


async def test_a_restart_between_two_relayed_messages(
    tg: FakeTelegram, settings: Settings, clock: Clock
) -> None:
    group = staff_group(tg)
    anna, ada = tg.user(3001, "Anna", language_code="it"), tg.user(ADA, "Ada")
    async with running_bot(settings, clock):
        await asks_for_a_person(anna, "Ho una domanda sui fringe benefit")
        topic = await taken_by_ada(tg, group, anna)
        await ada.send("Eccomi, mi dica", chat=group, topic=topic.message_thread_id)
        assert "Eccomi, mi dica" in (await anna.next_message()).text
    async with running_bot(settings, clock):  # a new process: everything from the database
        await ada.send("È ancora lì?", chat=group, topic=topic.message_thread_id)
        assert "È ancora lì?" in (await anna.next_message()).text
        await anna.send("Sì, scusi!")
        again = await group.next_message()
        assert again.topic == topic.message_thread_id and "Sì, scusi!" in again.text
        await anna.expect_silence()
    assert len(group.topics) == 1


async def test_an_erasure_in_the_middle_deletes_the_topic(tg: FakeTelegram, bot: App) -> None:
    group = staff_group(tg)
    anna = tg.user(3001, "Anna", language_code="it")
    await asks_for_a_person(anna, "Vorrei sapere dei buoni pasto")
    topic = await taken_by_ada(tg, group, anna)
    await anna.send("/cancella")
    await anna.next_message()
    await anna.press("🗑 Sì, cancella tutto")
    assert "ho cancellato tutti i tuoi dati" in (await anna.next_message()).text
    note = await group.next_message()
    assert "cancellata insieme ai dati della persona" in note.text and note.topic is None
    assert topic.deleted
    with bot.database.transaction() as session:
        for model in (Handoff, HandoffMessage, ChatThread):
            assert session.scalar(select(func.count()).select_from(model)) == 0
    await anna.send("ciao")  # back with the bot, from scratch
    assert "Come posso aiutarti?" in (await anna.next_message()).text


async def test_withdrawing_consent_in_the_middle_deletes_the_conversation(
    tg: FakeTelegram, bot: App
) -> None:
    group = staff_group(tg)
    anna = tg.user(3001, "Anna", language_code="it")
    await asks_for_a_person(anna, "Una domanda riservata")
    topic = await taken_by_ada(tg, group, anna)
    await anna.send("/privacy")
    await anna.next_message()
    await anna.next_message()
    await anna.press("Revoca il consenso")
    assert "Confermi?" in (await anna.next_message()).text  # what goes is said first
    await anna.press("Sì, revoca il consenso")
    assert "Consenso revocato" in (await anna.next_message()).text
    assert "cancellata insieme ai dati della persona" in (await group.next_message()).text
    assert topic.deleted
    with bot.database.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Handoff)) == 0


async def test_retention_erasing_a_person_deletes_their_topic(
    tg: FakeTelegram, bot: App, clock: Clock
) -> None:
    group = staff_group(tg)
    anna = tg.user(3001, "Anna", language_code="it")
    await asks_for_a_person(anna, "Una domanda lontana")
    topic = await taken_by_ada(tg, group, anna)
    clock.advance(days=800)  # longer than RETENTION_MONTHS without a word
    assert await bot.housekeeping.erase_inactive() == 1  # Anna (Ada wrote only in the group)
    await bot.outbox.drain()
    assert "cancellata insieme ai dati della persona" in (await group.next_message()).text
    assert topic.deleted


async def test_a_group_without_topics_answers_by_replying(tg: FakeTelegram, bot: App) -> None:
    group = staff_group(tg, forum=False)
    anna, ada = tg.user(3001, "Anna", language_code="it"), tg.user(ADA, "Ada")
    await asks_for_a_person(anna, "Come funziona l'assistenza sanitaria integrativa?")
    card = await group.next_message()
    assert card.topic is None and group.topics == {}
    await ada.press("🙋 Rispondo io", chat=group)
    await group.next_message()
    await anna.next_message()
    await ada.send("Le spiego subito", chat=group, reply_to=card.message_id)
    assert "Le spiego subito" in (await anna.next_message()).text
    await anna.send("Grazie")
    relayed = await group.next_message()
    await eventually(lambda: noted(bot, relayed.message_id))  # the bot writes down its id
    await ada.send("Prego!", chat=group, reply_to=relayed.message_id)
    assert "Prego!" in (await anna.next_message()).text
    await ada.send("Pausa caffè?", chat=group)  # no reply: staff among themselves
    await anna.expect_silence()
    await group.expect_silence()


async def test_canned_answers_go_in_the_persons_language(tg: FakeTelegram, bot: App) -> None:
    group = staff_group(tg)
    john, ada = tg.user(3002, "John", language_code="en"), tg.user(ADA, "Ada")
    await john.send("I want to talk to someone")
    await john.next_message()
    await john.next_message()
    await john.press("✅ I agree")
    await john.next_message()
    await john.press("✅ OK")
    await john.next_message()
    await john.send("Do you help with childcare costs?")
    await john.next_message()
    topic = await taken_by_ada(tg, group, john)
    await ada.send("/risposte", chat=group, topic=topic.message_thread_id)
    listed = await group.next_message()
    assert listed.topic == topic.message_thread_id and "un_momento" in listed.button_labels
    await ada.press("un_momento", chat=group)
    assert "Inviata: One moment, let me check" in (await group.next_message()).text
    assert (
        "One moment, let me check and I will answer right away." in (await john.next_message()).text
    )


async def test_the_report_counts_requests_answers_and_scores(tg: FakeTelegram, bot: App) -> None:
    group = staff_group(tg)
    anna, ada = tg.user(3001, "Anna", language_code="it"), tg.user(ADA, "Ada")
    await asks_for_a_person(anna, "Una domanda")
    topic = await taken_by_ada(tg, group, anna)
    await ada.send("Risposta", chat=group, topic=topic.message_thread_id)
    await anna.next_message()
    await anna.send("/fine")
    await anna.next_message()
    await anna.press("4")
    await group.next_message()
    await ada.send("/handoff_report 7")
    report = await ada.next_message()
    assert "Richieste: 1" in report.text and "Prese in carico: 1" in report.text
    assert "Senza risposta: 0" in report.text and "Voti: 4★×1 (media 4)" in report.text


async def test_the_menu_still_works_while_staff_hold_the_conversation(
    tg: FakeTelegram, bot: App
) -> None:
    staff_group(tg)
    anna = tg.user(3001, "Anna", language_code="it")
    await asks_for_a_person(anna, "Prima domanda")
    await anna.send("/menu")
    assert "Come posso aiutarti?" in (await anna.next_message()).text
    await anna.press("🙋 Parla con una persona")
    assert "Sei già in contatto con lo staff" in (await anna.next_message()).text


def noted(bot: App, message_id: int) -> bool:
    """Has the bot linked this message of the group to its thread?"""
    query = select(ThreadMessage).where(ThreadMessage.message_id == str(message_id))
    with bot.database.transaction() as session:
        return session.scalars(query).first() is not None


def test_retention_empties_the_texts_of_old_closed_conversations(database_url: str) -> None:
    database = Database(database_url)
    database.upgrade()
    long_ago, recently = datetime(2024, 1, 10, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC)
    with database.transaction() as session:
        user = User(channel="telegram", external_id="1", chat_id="1", locale="it")
        session.add(user)
        session.flush()
        for closed_at in (long_ago, recently):
            handoff = Handoff(user_id=user.id, state="closed", closed_at=closed_at)
            session.add(handoff)
            session.flush()
            session.add(HandoffMessage(handoff_id=handoff.id, user_id=user.id, text="segreto"))
    with database.transaction() as session:
        assert personal_data.expire_relayed_texts(session, datetime(2025, 1, 1, tzinfo=UTC)) == 1
        texts = session.scalars(select(HandoffMessage.text).order_by(HandoffMessage.id)).all()
        assert texts == ["", "segreto"]
    database.dispose()
