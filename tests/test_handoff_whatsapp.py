"""A person behind the desk for a WhatsApp user: the request reaches the Telegram staff group,
the relay goes both ways, and once the 24-hour window closes the holder is told."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.app import App
from tests.booking_world import ADA, Clock
from tests.fake_telegram import TINY_PNG, FakeChat, FakeTelegram
from tests.fake_whatsapp import FakeWhatsApp, phone
from tests.handoff_chat import arrival, eventually, on_both_apis, staff_group

MARIA = "393401112223"


@pytest.fixture
def group(tg: FakeTelegram) -> FakeChat:
    return staff_group(tg)


@pytest.fixture
async def app(
    tg: FakeTelegram, wa: FakeWhatsApp, group: FakeChat, database_url: str, clock: Clock
) -> AsyncIterator[App]:
    async with on_both_apis(tg, wa, database_url, clock) as running:
        yield running


async def test_a_whatsapp_user_talks_to_a_person(
    tg: FakeTelegram, wa: FakeWhatsApp, group: FakeChat, app: App, clock: Clock
) -> None:
    maria = phone(wa, app, MARIA, "Maria Bianchi")
    ada = tg.user(ADA, "Ada")
    await maria.says("ciao")  # a first message opens with the menu
    await maria.says("Buongiorno, vorrei parlare con una persona")
    await maria.taps("✅ Accetto")
    [ask] = await maria.taps("✅ Va bene")
    assert "Scrivi in un messaggio la tua domanda" in ask.text
    [told] = await maria.says("Ho una domanda sul contratto del mio dipendente")
    assert "ti risponderà a breve" in told.text

    card = await group.next_message()
    topic = group.topic_named("Maria Bianchi · WhatsApp · IT")
    assert card.topic == topic.message_thread_id and "Canale: WhatsApp" in card.text
    await ada.press("🙋 Rispondo io", chat=group)
    await group.next_message()
    assert "Ada dello staff ha preso la tua richiesta" in (await arrival(maria)).text
    here = topic.message_thread_id
    await ada.send("Buongiorno Maria, di che contratto si tratta?", chat=group, topic=here)
    answer = await arrival(maria)
    assert answer.kind == "text" and "di che contratto si tratta?" in answer.text
    await ada.send_photo(TINY_PNG, caption="La tabella", chat=group, topic=here)
    photo = await arrival(maria)
    assert photo.kind == "image" and "La tabella" in photo.text

    assert await maria.says("Commercio, part-time") == []  # the bot stays silent
    relayed = await group.next_message()
    assert relayed.topic == here and "Commercio, part-time" in relayed.text
    assert await maria.sends_photo(TINY_PNG, "Il contratto") == []
    contract = await group.next_message()
    assert contract.kind == "photo" and contract.photo is not None
    assert contract.photo.content == TINY_PNG and "Il contratto" in contract.text

    clock.advance(hours=25)  # Maria's 24-hour window is closed
    await ada.send("Ci sei ancora?", chat=group, topic=here)
    refused = await group.next_message()
    assert "solo un modello approvato di WhatsApp può raggiungerla" in refused.text
    [score] = await maria.says("/fine")
    assert "ora ti risponde di nuovo Sportello" in score.text
    closed = await group.next_message()
    assert "Maria Bianchi ha chiuso la conversazione." in closed.text
    await eventually(lambda: topic.closed)
