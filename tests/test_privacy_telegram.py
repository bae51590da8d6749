"""Privacy over Telegram: the real Application, the fake Bot API, the staff group."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from bot.app import App
from tests.booking_world import ADA, Clock, on_telegram
from tests.bot_runner import running_bot
from tests.fake_telegram import FakeTelegram, FakeUser

STAFF_GROUP = -1001234


@pytest.fixture
async def world(database_url: str, clock: Clock) -> AsyncIterator[tuple[FakeTelegram, App]]:
    """The fake Bot API, Sportello polling it; no call of the bot may be refused."""
    async with FakeTelegram() as fake:
        settings = on_telegram(fake.base_url, fake.token, database_url, STAFF_GROUP)
        async with running_bot(settings, clock) as app:
            yield fake, app
        fake.assert_no_rejections()


async def book_a_call(person: FakeUser) -> None:
    """Consent, topic, phone call, Monday at 11:00, a number, a note, confirmation."""
    await person.send("/richiamata")
    await person.next_message()
    await person.next_message()
    for step in ("✅ Accetto", "Fondo sanitario", "📞 Telefonata", "lunedì 23 novembre", "11:00"):
        await person.press(step)
        await person.next_message()
    await person.next_message()  # the way back, under the phone question
    await person.send("333 765 4321")
    await person.next_message()
    await person.next_message()
    await person.send("Chiedete di Alice, dopo pranzo")
    await person.next_message()
    await person.press("✅ Conferma")
    await person.next_message()
    await person.next_message()


async def test_the_staff_card_is_redacted_when_the_person_erases_their_data(
    world: tuple[FakeTelegram, App],
) -> None:
    tg, app = world
    group = tg.group(STAFF_GROUP, "Staff SMP", bot_is_admin=True)
    eve = tg.user(3003, first_name="Eve", language_code="it")
    await eve.send("ciao a tutti", chat=group)  # her first message, in the group
    alice = tg.user(3001, first_name="Alice", last_name="Bianchi", language_code="it")
    await book_a_call(alice)
    card = await group.next_message()
    assert "Persona: Alice Bianchi" in card.text and "Nota: Chiedete di Alice" in card.text

    await eve.send("/miei_dati")
    exported = await eve.next_message()
    assert exported.document is not None
    assert "Alice" not in exported.document.content.decode()
    assert json.loads(exported.document.content)["tables"]["outbox"] == []

    await alice.send("/cancella")
    await alice.next_message()
    await alice.press("🗑 Sì, cancella tutto")
    await alice.next_message()
    await app.outbox.drain()
    redacted, notice = [await group.next_message() for _ in range(2)]
    assert redacted.kind == "edit" and redacted.message_id == card.message_id
    assert "la persona ha cancellato i suoi dati" in notice.text and "Alice" not in notice.text
    assert group.message(card.message_id).text.startswith("🗑 Messaggio rimosso")
    assert "Alice" not in group.message(card.message_id).text


async def test_a_button_that_shows_the_same_screen_sends_no_edit(
    world: tuple[FakeTelegram, App],
) -> None:
    tg, _app = world
    group = tg.group(STAFF_GROUP, "Staff SMP")
    ada = tg.user(ADA, first_name="Ada")
    await book_a_call(tg.user(3001, first_name="Alice", language_code="it"))
    await group.next_message()
    await ada.press("🙋 La prendo io", chat=group)
    assert "🙋 Presa da Ada" in (await group.next_message()).text
    await ada.press("🙋 La prendo io", chat=group)  # again: the card would not change
    await group.expect_silence(0.3)
    edits = [c for c in tg.calls_to("editMessageText") if c.params["chat_id"] == STAFF_GROUP]
    assert len(edits) == 1
