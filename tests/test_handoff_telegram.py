"""A person behind the desk, on Telegram: a request, its topic in the staff group, the relay
both ways, /chiudi and the score. The real Application against the fake Bot API."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from bot.app import App
from bot.ops import metrics
from bot.storage.models import Handoff, HandoffMessage
from tests.booking_world import ADA, BRUNO, Clock
from tests.bot_runner import running_bot
from tests.fake_telegram import TINY_PNG, FakeChat, FakeTelegram
from tests.handoff_chat import CARLO, asks_for_a_person, eventually, handoff_settings, staff_group


@pytest.fixture
def group(tg: FakeTelegram) -> FakeChat:
    return staff_group(tg)


@pytest.fixture
async def bot(
    tg: FakeTelegram, group: FakeChat, database_url: str, clock: Clock
) -> AsyncIterator[App]:
    clock.advance(hours=2)  # Monday 10:00 in Rome: the office is open
    async with running_bot(handoff_settings(tg, database_url), clock) as app:
        yield app


async def test_a_telegram_user_talks_to_a_person_and_back(
    tg: FakeTelegram, group: FakeChat, bot: App
) -> None:
    anna = tg.user(3001, "Anna", last_name="Rossi", language_code="it")
    ada, bruno, carlo = tg.user(ADA, "Ada"), tg.user(BRUNO, "Bruno"), tg.user(CARLO, "Carlo")
    counted = {event: handoffs_counted(event) for event in ("requested", "claimed", "closed")}
    told = await asks_for_a_person(anna, "Come funziona il welfare per 3 dipendenti?")
    assert "una persona dello staff ti risponderà a breve" in told.text

    card = await group.next_message()
    topic = group.topic_named("Anna Rossi · Telegram · IT")
    assert card.topic == topic.message_thread_id
    assert "Domanda: Come funziona il welfare per 3 dipendenti?" in card.text
    assert card.button_labels == ["🙋 Rispondo io", "📞 Proponi richiamata"]
    await carlo.press("🙋 Rispondo io", chat=group)  # not staff: refused, nothing changes
    assert "riservata allo staff" in (await group.next_message()).text
    await ada.press("🙋 Rispondo io", chat=group)
    taken = await group.next_message()
    assert taken.kind == "edit" and "🙋 Risponde Ada" in taken.text
    assert taken.button_labels == ["📞 Proponi richiamata"]
    await bruno.press_data(card.buttons[0][0].value, card.message_id, chat=group)
    await eventually(lambda: bruno.answered_callbacks)
    assert bruno.answered_callbacks[-1].text == "Risponde già Ada."  # a second one cannot take it
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
    await anna.send_document("busta.pdf", b"%PDF-1.4 busta paga", caption="La mia busta paga")
    payslip = await group.next_message()
    assert payslip.kind == "document" and payslip.document is not None
    assert payslip.document.filename == "busta.pdf" and payslip.topic == here
    assert payslip.document.content == b"%PDF-1.4 busta paga" and "La mia busta" in payslip.text
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
    await eventually(lambda: topic.closed)
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
    assert {event: handoffs_counted(event) - n for event, n in counted.items()} == {
        "requested": 1,
        "claimed": 1,
        "closed": 1,
    }


def handoffs_counted(event: str) -> float:
    """/metrics' handoff counter for one event."""
    value = metrics.REGISTRY.get_sample_value("sportello_handoffs_total", {"event": event})
    return value or 0.0
