"""The WhatsApp channel over HTTP: Meta's webhook in, the fake Graph API out."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy import func, select

from bot.app import App
from bot.channels.whatsapp import inbox
from bot.channels.whatsapp.channel import WhatsAppChannel
from bot.config import ConfigError, Settings
from bot.storage.models import WhatsAppInbox
from tests.booking_world import Clock
from tests.bot_runner import running_bot
from tests.fake_telegram import FakeTelegram
from tests.fake_whatsapp import (
    VERIFY_TOKEN,
    FakeWhatsApp,
    free_port,
    handled,
    phone,
)
from tests.settings import make_settings

ANNA = "393331234567"


@pytest.fixture
async def app(wa: FakeWhatsApp, database_url: str, clock: Clock) -> AsyncIterator[App]:
    settings = make_settings(database_url, quiet_hours="off", **wa.settings(free_port()))
    async with running_bot(settings, clock) as running:
        yield running


async def test_the_first_message_gets_the_greeting_and_the_menu(wa: FakeWhatsApp, app: App) -> None:
    anna = phone(wa, app, ANNA, "Anna Rossi")
    [menu] = await anna.says("buongiorno, mi servono informazioni")
    assert menu.text.startswith("*Ciao Anna!*\nSono Sportello")
    assert menu.kind == "interactive:list"
    assert "📝 Questionario" in menu.labels
    [again] = await anna.says("menu")
    assert again.kind == "interactive:list" and "📝 Questionario" in again.labels


async def test_a_faq_question_in_own_words(wa: FakeWhatsApp, app: App) -> None:
    anna = phone(wa, app, ANNA, "Anna Rossi")
    await anna.says("ciao")
    answer = await anna.says("posso dare buoni benzina ai dipendenti senza tasse?")
    assert any("carburante" in seen.text.lower() for seen in answer)
    assert answer[-1].kind.startswith("interactive")


async def test_a_wrong_or_missing_signature_is_refused_and_never_handled(
    wa: FakeWhatsApp, app: App
) -> None:
    message = {"from": ANNA, "id": "wamid.forged", "timestamp": "1", "type": "text"}
    value = {"messages": [{**message, "text": {"body": "ciao"}}]}
    assert await wa.notify(value, secret="not-the-secret") == 403
    assert await wa.notify(value, secret=None) == 403
    with app.database.transaction() as session:
        assert session.scalar(select(func.count()).select_from(WhatsAppInbox)) == 0
    assert wa.inbox[ANNA] == []


async def test_the_verification_handshake(wa: FakeWhatsApp, app: App) -> None:
    params = {
        "hub.mode": "subscribe",
        "hub.verify_token": VERIFY_TOKEN,
        "hub.challenge": "1158201444",
    }
    async with httpx.AsyncClient() as http:
        right = await http.get(wa.webhook_url, params=params)
        wrong = await http.get(wa.webhook_url, params={**params, "hub.verify_token": "guess"})
    assert (right.status_code, right.text) == (200, "1158201444")
    assert wrong.status_code == 403


async def test_a_notification_delivered_twice_is_handled_once(wa: FakeWhatsApp, app: App) -> None:
    anna = phone(wa, app, ANNA, "Anna Rossi")
    await anna.says("ciao")
    message = {"from": ANNA, "id": "wamid.twice", "timestamp": "1", "type": "text"}
    value = {"messages": [{**message, "text": {"body": "/privacy"}}]}
    assert await wa.notify(value) == 200
    await handled(app, "wamid.twice")
    first = anna.new()
    assert first
    assert await wa.notify(value) == 200  # Meta retries: same message id
    await handled(app, "wamid.twice")
    assert anna.new() == []


async def test_telegram_and_whatsapp_share_one_web_server(
    wa: FakeWhatsApp, database_url: str, clock: Clock
) -> None:
    port = free_port()
    async with FakeTelegram() as tg:
        settings = make_settings(
            database_url,
            telegram_bot_token=tg.token,
            telegram_api_base_url=tg.base_url,
            webhook_url=f"http://127.0.0.1:{port}/telegram",
            webhook_secret="s3cr3t-token",
            **wa.settings(port),
        )
        async with running_bot(settings, clock) as app:
            bruno = tg.user(1012, first_name="Bruno")
            await bruno.send("/start")
            assert (await bruno.next_message()).text.startswith("Ciao Bruno!")
            anna = phone(wa, app, ANNA, "Anna Rossi")
            [menu] = await anna.says("ciao")
            assert menu.text.startswith("*Ciao Anna!*")
        tg.assert_no_rejections()


def test_whatsapp_refuses_to_start_without_the_app_secret(database_url: str) -> None:
    with pytest.raises(ValidationError, match="WHATSAPP_APP_SECRET"):
        Settings(
            database_url=database_url,
            whatsapp_access_token="token",
            whatsapp_phone_number_id="1",
            _env_file=None,  # type: ignore[call-arg]
        )
    settings = make_settings(database_url, whatsapp_access_token="token")
    with pytest.raises(ConfigError, match="WHATSAPP_APP_SECRET"):
        WhatsAppChannel(settings, None, None, Clock())  # type: ignore[arg-type]


async def test_photos_locations_and_contacts_get_an_answer(wa: FakeWhatsApp, app: App) -> None:
    anna = phone(wa, app, ANNA, "Anna Rossi")
    await anna.says("ciao")
    photo = await anna.shares(type="image", image={"id": "media-1", "mime_type": "image/jpeg"})
    place = await anna.shares(type="location", location={"latitude": 44.88, "longitude": 7.33})
    card = {"name": {"formatted_name": "Bruno"}, "phones": [{"phone": "+39 333 765 4321"}]}
    contact = await anna.shares(type="contacts", contacts=[card])
    assert photo[0].text.startswith("Per ora leggo solo messaggi di testo e pulsanti")
    assert place[0].text.startswith("Grazie, ma non uso la posizione.")
    assert contact[0].text.startswith("Grazie, ma in questo momento non mi serve un contatto")
    assert anna.new() == []


async def test_each_message_is_marked_read_with_typing_while_answered(
    wa: FakeWhatsApp, app: App
) -> None:
    anna = phone(wa, app, ANNA, "Anna Rossi")
    await anna.says("ciao")
    await anna.says("menu")
    assert len(wa.marked_read) == 2
    assert all(m["typing_indicator"] == {"type": "text"} for m in wa.marked_read)
    with app.database.transaction() as session:
        keys = session.scalars(select(WhatsAppInbox.key).order_by(WhatsAppInbox.id)).all()
    assert [m["message_id"] for m in wa.marked_read] == keys


async def test_items_stored_by_another_instance_wake_this_one(
    wa: FakeWhatsApp, app: App, clock: Clock
) -> None:
    """PostgreSQL: another instance's webhook leaves items for anyone and notifies; SQLite has
    one instance, whose webhook hands items over in-process."""
    if app.database.is_sqlite:
        pytest.skip("one instance on SQLite")
    anna = phone(wa, app, ANNA, "Anna Rossi")
    await anna.says("ciao")
    message = {"from": ANNA, "id": "wamid.elsewhere", "timestamp": "1", "type": "text"}
    item = {"message": {**message, "text": {"body": "menu"}}, "name": "Anna", "contact": {}}
    with app.database.transaction() as session:  # as another instance's webhook does
        inbox.store(session, [("wamid.elsewhere", item)], clock(), claim=False)
    await handled(app, "wamid.elsewhere")  # long before the idle worker's own look (30 s)
    assert anna.new()[-1].kind == "interactive:list"


async def test_a_staff_reply_from_the_business_app_silences_the_bot(
    wa: FakeWhatsApp, app: App, clock: Clock
) -> None:
    anna = phone(wa, app, ANNA, "Anna Rossi")
    await anna.says("ciao")
    echo = {
        "from": "390121000000",  # SMP's number, from the WhatsApp Business app
        "to": ANNA,
        "id": "wamid.from-the-app",
        "timestamp": str(int(clock().timestamp())),
        "type": "text",
        "text": {"body": "Buongiorno Anna, sono Giulia: la chiamo tra poco."},
    }
    assert await wa.notify({"message_echoes": [echo]}) == 200
    await handled(app, "echo:wamid.from-the-app")
    read = len(wa.marked_read)
    assert await anna.says("grazie, aspetto") == []  # Giulia answers, not the bot
    assert len(wa.marked_read) == read  # still unread in Giulia's app
    clock.advance(minutes=31)  # WHATSAPP_STAFF_PAUSE, 30 minutes by default
    [menu] = await anna.says("menu")
    assert menu.kind == "interactive:list"
