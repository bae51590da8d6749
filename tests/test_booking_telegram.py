"""A callback booked, handled and cancelled on Telegram: the real Application, the fake Bot API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from bot.app import App
from tests.booking_world import ADA, Clock, booking_settings
from tests.bot_runner import running_bot
from tests.fake_telegram import FakeTelegram

STAFF_GROUP = -1001234


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake
        fake.assert_no_rejections()


@pytest.fixture
async def bot(tg: FakeTelegram, database_url: str, clock: Clock) -> AsyncIterator[App]:
    settings = booking_settings(
        database_url,
        telegram_bot_token=tg.token,
        telegram_api_base_url=tg.base_url,
        staff_chat_id=STAFF_GROUP,
    )
    async with running_bot(settings, clock) as app:
        yield app


async def test_a_callback_booked_handled_and_reminded_on_telegram(
    tg: FakeTelegram, bot: App, clock: Clock
) -> None:
    group = tg.group(STAFF_GROUP, "Staff SMP")
    anna = tg.user(3001, first_name="Anna", last_name="Rossi", language_code="it")
    ada = tg.user(ADA, first_name="Ada")
    await anna.send("/richiamata")
    await anna.next_message()
    await anna.next_message()
    await anna.press("✅ Accetto")
    topics = await anna.next_message()
    assert "Di cosa vuoi parlare?" in topics.text
    await anna.press("Welfare aziendale e fisco")
    mode = await anna.next_message()
    assert mode.kind == "edit"
    await anna.press("📞 Telefonata")
    await anna.next_message()
    await anna.press("martedì 24 novembre")
    times = await anna.next_message()
    assert "09:00" in times.button_labels
    await anna.press("09:00")
    phone = await anna.next_message()
    assert "A quale numero ti chiamiamo?" in phone.text
    back = await anna.next_message()
    assert back.button_labels == ["⬅️ Indietro"]
    await anna.send_contact("393331234567", user_id=3001)  # the share-my-number key
    thanks = await anna.next_message()
    assert "Grazie, ti chiameremo al +39 333 123 4567." in thanks.text
    await anna.next_message()
    await anna.press("Nessuna nota")
    summary = await anna.next_message()
    assert "Numero: +39 333 123 4567" in summary.text
    await anna.press("✅ Conferma")
    confirmation = await anna.next_message()
    assert "Fatto! Ti chiameremo martedì 24 novembre, 09:00." in confirmation.text
    assert confirmation.button_labels == ["🕑 Sposta", "✖️ Annulla la richiamata"]
    calendar = await anna.next_message()
    assert calendar.kind == "document" and calendar.document is not None
    assert calendar.document.filename == "richiamata.ics"

    card = await group.next_message()
    assert "🆕 Nuova richiamata" in card.text and "Persona: Anna Rossi" in card.text
    await ada.press("🙋 La prendo io", chat=group)
    taken = await group.next_message()
    assert taken.kind == "edit" and "🙋 Presa da Ada" in taken.text

    clock.now = datetime(2026, 11, 24, 7, 0, tzinfo=UTC)  # an hour before, 08:00 in Rome
    await bot.reminders.run()
    await bot.outbox.drain()
    reminder = await anna.next_message()
    assert "Tra poco ti chiamiamo: 09:00." in reminder.text
    await bot.reminders.run()
    await bot.outbox.drain()
    await anna.expect_silence(0.3)  # never twice


async def test_a_person_moves_then_cancels_and_staff_hear_of_both(
    tg: FakeTelegram, bot: App
) -> None:
    group = tg.group(STAFF_GROUP, "Staff SMP")
    marco = tg.user(3002, first_name="Marco", language_code="it")
    await marco.send("/richiamata")
    await marco.next_message()
    await marco.next_message()
    await marco.press("✅ Accetto")
    await marco.next_message()
    await marco.press("Fondo sanitario")
    await marco.next_message()
    await marco.press("📞 Telefonata")
    await marco.next_message()
    await marco.press("lunedì 23 novembre")
    await marco.next_message()
    await marco.press("11:00")
    await marco.next_message()
    await marco.next_message()  # the way back
    await marco.send("0121 123456")
    await marco.next_message()
    await marco.next_message()
    await marco.send("Chiamatemi dopo le 11, grazie")
    await marco.next_message()
    await marco.press("✅ Conferma")
    await marco.next_message()
    await marco.next_message()
    assert "🆕 Nuova richiamata" in (await group.next_message()).text

    await marco.send("/prenotazioni")
    await marco.next_message()
    await marco.press("🕑 Sposta")
    await marco.next_message()
    await marco.next_message()
    await marco.press("martedì 24 novembre")
    await marco.next_message()
    await marco.press("10:00")
    summary = await marco.next_message()
    assert "Al posto di quella di lunedì 23 novembre, 11:00." in summary.text
    await marco.press("✅ Conferma")
    await marco.next_message()
    await marco.next_message()
    moved = await group.next_message()
    assert "🔁 Richiamata spostata" in moved.text and "Nota: Chiamatemi dopo le 11" in moved.text

    await marco.press("✖️ Annulla la richiamata")
    await marco.next_message()
    await marco.press("Sì, annulla")
    assert "Richiamata annullata" in (await marco.next_message()).text
    assert "✖️ Richiamata annullata dalla persona" in (await group.next_message()).text
