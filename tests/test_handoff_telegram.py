"""A person behind the desk, on Telegram: a request, its topic in the staff group, the relay
both ways, /chiudi and the score. The real Application against the fake Bot API."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from bot.app import App
from bot.storage.models import Handoff, HandoffMessage
from tests.booking_world import ADA, BRUNO, Clock, booking_settings
from tests.bot_runner import running_bot
from tests.fake_telegram import TINY_PNG, FakeChat, FakeTelegram, FakeUser, ForumTopic

STAFF_GROUP = -1005550001
CARLO = 7001  # in the staff group, but no staff


@pytest.fixture
def group(tg: FakeTelegram) -> FakeChat:
    return tg.group(STAFF_GROUP, "Staff SMP", forum=True, bot_is_admin=True)


@pytest.fixture
async def bot(
    tg: FakeTelegram, group: FakeChat, database_url: str, clock: Clock
) -> AsyncIterator[App]:
    clock.advance(hours=2)  # Monday 10:00 in Rome: the office is open
    settings = booking_settings(
        database_url,
        telegram_bot_token=tg.token,
        telegram_api_base_url=tg.base_url,
        staff_chat_id=STAFF_GROUP,
        outbox_chat_rate=50,
        quiet_hours="off",
    )
    async with running_bot(settings, clock) as app:
        yield app


async def asks_for_a_person(anna: FakeUser, question: str) -> None:
    """/operatore, consent, the notice, the question."""
    await anna.send("/operatore")
    await anna.next_message()
    notice = await anna.next_message()
    assert "Informativa privacy" in notice.text
    await anna.press("✅ Accetto")
    staff_read = await anna.next_message()
    assert "sarà letto dallo staff" in staff_read.text
    await anna.press("✅ Va bene")
    ask = await anna.next_message()
    assert "Scrivi in un messaggio la tua domanda" in ask.text
    await anna.send(question)


async def test_a_telegram_user_talks_to_a_person_and_back(
    tg: FakeTelegram, group: FakeChat, bot: App
) -> None:
    anna = tg.user(3001, "Anna", last_name="Rossi", language_code="it")
    ada, bruno, carlo = tg.user(ADA, "Ada"), tg.user(BRUNO, "Bruno"), tg.user(CARLO, "Carlo")
    await asks_for_a_person(anna, "Come funziona il welfare per 3 dipendenti?")
    told = await anna.next_message()
    assert "una persona dello staff ti risponderà a breve" in told.text

    card = await group.next_message()
    topic = group.topic_named("Anna Rossi · Telegram · IT")
    assert card.topic == topic.message_thread_id
    assert "Domanda: Come funziona il welfare per 3 dipendenti?" in card.text
    assert card.button_labels == ["🙋 Rispondo io", "📞 Proponi richiamata"]
    await ada.press("🙋 Rispondo io", chat=group)
    taken = await group.next_message()
    assert taken.kind == "edit" and "🙋 Risponde Ada" in taken.text
    assert "Ada dello staff ha preso la tua richiesta" in (await anna.next_message()).text

    here = topic.message_thread_id
    await ada.send("Buongiorno Anna! Le mando il modulo.", chat=group, topic=here)
    answer = await anna.next_message()
    assert "👤 Ada · Società Mutua Piemonte" in answer.text
    assert "Buongiorno Anna! Le mando il modulo." in answer.text
    await ada.send_photo(TINY_PNG, caption="Il modulo", chat=group, topic=here)
    photo = await anna.next_message()
    assert photo.kind == "photo" and photo.photo is not None
    assert photo.photo.content == TINY_PNG and "Il modulo" in photo.text

    await anna.send("Grazie! E per i buoni pasto?")
    relayed = await group.next_message()
    assert relayed.topic == here and "Anna Rossi" in relayed.text
    assert "Grazie! E per i buoni pasto?" in relayed.text
    await anna.send("/faq")  # a command the bot would answer: it goes to staff instead
    assert "/faq" in (await group.next_message()).text
    await anna.expect_silence()

    await bruno.send("Rispondo anche io?", chat=group, topic=here)
    refused = await group.next_message()
    assert "Risponde Ada: il tuo messaggio non è stato inoltrato." in refused.text
    await carlo.send("Ciao Anna, sono Carlo", chat=group, topic=here)
    await group.expect_silence()
    await anna.expect_silence()

    await ada.send("/chiudi", chat=group, topic=here)
    closed = await group.next_message()
    assert "Conversazione chiusa" in closed.text and closed.topic == here
    score = await anna.next_message()
    assert "ora ti risponde di nuovo Sportello" in score.text
    assert score.button_labels[:5] == ["1", "2", "3", "4", "5"]
    await _until(lambda: topic.closed)
    await anna.press("5")
    await anna.next_message()
    await anna.send("Gentilissimi")
    assert "Grazie, lo leggeremo" in (await anna.next_message()).text

    with bot.database.transaction() as session:
        handoff = session.scalars(select(Handoff)).one()
        assert (handoff.state, handoff.closed_by, handoff.score) == ("closed", "staff", 5)
        assert handoff.comment == "Gentilissimi" and handoff.holder_id == ADA
        texts = session.scalars(select(HandoffMessage.text).order_by(HandoffMessage.id)).all()
        assert "Buongiorno Anna! Le mando il modulo." in texts
        assert "Ciao Anna, sono Carlo" not in texts


async def _until(condition: object, tries: int = 100) -> None:
    import asyncio

    for _ in range(tries):
        if callable(condition) and condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("never happened")


_ = ForumTopic
