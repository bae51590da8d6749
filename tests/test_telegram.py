"""Sportello on Telegram: the real Application, over HTTP, against the fake Bot API server."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import func, select

from bot.app import App
from bot.delivery import outbox
from bot.storage.models import Consent, OutboxMessage
from bot.values.markup import text
from bot.values.messages import Address, Delivery, Reply
from tests.bot_runner import running_bot, telegram_settings
from tests.fake_telegram import FakeTelegram

STAFF = 4242


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake
        fake.assert_no_rejections()  # Sportello never makes a call Telegram would refuse


@pytest.fixture
async def bot(tg: FakeTelegram, database_url: str) -> AsyncIterator[App]:
    async with running_bot(telegram_settings(tg, database_url)) as app:
        yield app


async def test_a_new_user_is_greeted_in_italian_with_the_menu(tg: FakeTelegram, bot: App) -> None:
    anna = tg.user(1001, first_name="Anna", language_code="it")
    await anna.send("/start")
    greeting = await anna.next_message()
    assert greeting.text.startswith("Ciao Anna!")
    assert greeting.button_labels == [
        "❓ Domande frequenti",
        "📝 Questionario",
        "🙋 Parla con una persona",
        "📞 Fissa una richiamata",
        "🗓 Le mie richiamate",
        "📅 Eventi e seminari",
        "🌐 Lingua",
    ]
    assert "<b>Ciao Anna!</b>" in (greeting.html or "")
    assert tg.rejected == []


async def test_language_follows_telegram_and_can_be_changed(tg: FakeTelegram, bot: App) -> None:
    claire = tg.user(1002, first_name="Claire", language_code="fr")
    await claire.send("bonjour")
    menu = await claire.next_message()
    assert "🌐 Langue" in menu.button_labels

    await claire.press("🌐 Langue")
    question = await claire.next_message()
    assert question.button_labels == ["Italiano", "English", "Français"]

    await claire.press("English")
    confirmation = await claire.next_message()
    assert confirmation.kind == "edit"  # the question becomes the answer
    assert "from now on I'll write to you in English" in confirmation.text
    await claire.send("/menu")
    assert "🌐 Language" in (await claire.next_message()).button_labels


async def test_consent_comes_before_personal_data(tg: FakeTelegram, bot: App) -> None:
    anna = tg.user(1003, first_name="Anna")
    await anna.send("/start")
    await anna.next_message()
    await anna.press("📅 Eventi e seminari")
    intro = await anna.next_message()
    notice = await anna.next_message()
    assert "informativa" in intro.text
    assert "Società Mutua Piemonte ETS" in notice.text
    assert notice.button_labels == ["✅ Accetto", "No, grazie"]

    await anna.press("✅ Accetto")
    coming = await anna.next_message()
    assert coming.kind == "edit"  # the notice makes way for what Anna asked for
    assert "Di quali territori" in coming.text  # the subscription, after consent
    assert anna.answered_callbacks[-1].text == "Grazie, consenso registrato."
    with bot.database.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Consent)) == 1


async def test_privacy_my_data_and_erasure(tg: FakeTelegram, bot: App) -> None:
    anna = tg.user(1004, first_name="Anna")
    await anna.send("/privacy")
    notice = await anna.next_message()
    state = await anna.next_message()
    assert "Titolare del trattamento" in notice.text
    assert "Non hai dato il consenso" in state.text

    await anna.send("/miei_dati")
    export = await anna.next_message()
    assert export.kind == "document"
    assert export.document is not None
    data = json.loads(export.document.content)
    assert data["tables"]["users"][0]["name"] == "Anna"

    await anna.send("/cancella")
    question = await anna.next_message()
    assert question.button_labels == ["🗑 Sì, cancella tutto", "Annulla"]
    await anna.press("🗑 Sì, cancella tutto")
    done = await anna.next_message()
    assert "ho cancellato tutti i tuoi dati" in done.text

    await anna.press_data(question.buttons[0][0][1] or "", message_id=question.message_id)
    stale = await anna.next_message()
    assert "non è più valido" in stale.text


async def test_two_quick_taps_are_applied_once(tg: FakeTelegram, bot: App) -> None:
    anna = tg.user(1005, first_name="Anna")
    await anna.send("/cancella")
    question = await anna.next_message()
    data = question.buttons[0][0][1] or ""
    await asyncio.gather(
        anna.press_data(data, message_id=question.message_id),
        anna.press_data(data, message_id=question.message_id),
    )
    first, second = await anna.next_message(), await anna.next_message()
    texts = sorted([first.text, second.text])
    assert any("ho cancellato tutti i tuoi dati" in t for t in texts)
    assert any("non è più valido" in t for t in texts)


async def test_a_redelivered_update_is_not_handled_twice(tg: FakeTelegram, bot: App) -> None:
    anna = tg.user(1006, first_name="Anna")
    await anna.send("/start")
    await anna.next_message()
    await tg.redeliver(tg.last_update_id)
    await anna.expect_silence(0.5)


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        ("sticker", "leggo solo messaggi di testo"),
        ("photo", "leggo solo messaggi di testo"),
        ("voice", "leggo solo messaggi di testo"),
        ("location", "non uso la posizione"),
    ],
)
async def test_media_gets_a_friendly_answer(
    tg: FakeTelegram, bot: App, action: str, expected: str
) -> None:
    anna = tg.user(1007, first_name="Anna")
    if action == "location":
        await anna.send_location(44.82, 7.23)
    else:
        await getattr(anna, f"send_{action}")()
    assert expected in (await anna.next_message()).text


@pytest.mark.parametrize(
    "text",
    [
        "😀" * 50,
        "x" * 4096,
        "   ",
        "<b>grassetto</b> & <script>",
        "\u202eevil",
        "_*[link](http://x)*_",
        "/comando_inesistente",
    ],
)
async def test_any_text_gets_a_reply_telegram_accepts(
    tg: FakeTelegram, bot: App, text: str
) -> None:
    anna = tg.user(1008, first_name="<Anna & Co>")
    await anna.send(text)
    reply = await anna.next_message()
    assert reply.text.strip()
    assert tg.rejected == []


async def test_an_edited_message_is_answered(tg: FakeTelegram, bot: App) -> None:
    anna = tg.user(1009, first_name="Anna")
    sent = await anna.send("buongiorno")
    await anna.next_message()
    await anna.edit(sent, "buonasera")
    assert "modificato un messaggio" in (await anna.next_message()).text


async def test_forged_button_data_is_refused(tg: FakeTelegram, bot: App) -> None:
    anna = tg.user(1010, first_name="Anna")
    await anna.send("/start")
    menu = await anna.next_message()
    await anna.press_data("erase_yes~AAAAAAAA", message_id=menu.message_id)
    assert "non è più valido" in (await anna.next_message()).text
    assert anna.answered_callbacks  # the button's spinner was stopped


async def test_staff_commands_refuse_others(tg: FakeTelegram, database_url: str) -> None:
    settings = telegram_settings(tg, database_url, staff_user_ids=frozenset({STAFF}))
    async with running_bot(settings):
        visitor, operator = tg.user(1011, first_name="Ugo"), tg.user(STAFF, first_name="Sara")
        await visitor.send("/staff")
        assert "riservata allo staff" in (await visitor.next_message()).text
        await operator.send("/staff")
        assert "/staff" in (await operator.next_message()).text


async def test_the_command_menu_is_published_per_language(tg: FakeTelegram, bot: App) -> None:
    calls = [params for method, params, *_ in tg.calls if method == "setMyCommands"]
    languages = {params.get("language_code") for params in calls}
    assert {None, "en", "fr"} <= languages


async def test_webhook_mode_checks_the_secret(tg: FakeTelegram, database_url: str) -> None:
    port = free_port()
    settings = telegram_settings(
        tg,
        database_url,
        webhook_url=f"http://127.0.0.1:{port}/telegram",
        webhook_secret="s3cr3t-token",
        port=port,
    )
    async with running_bot(settings):
        anna = tg.user(1012, first_name="Anna")
        await anna.send("/start")
        assert (await anna.next_message()).text.startswith("Ciao Anna!")
        async with httpx.AsyncClient() as client:
            health = await client.get(f"http://127.0.0.1:{port}/healthz")
            forged = await client.post(
                f"http://127.0.0.1:{port}/telegram",
                json={"update_id": 1, "message": {}},
                headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"},
            )
        assert health.status_code == 200
        assert forged.status_code == 403
        await anna.expect_silence(0.3)


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_queued_messages_reach_telegram_through_the_outbox(
    tg: FakeTelegram, database_url: str
) -> None:
    settings = telegram_settings(tg, database_url, staff_user_ids=frozenset({STAFF}))
    operator = tg.user(STAFF, first_name="Sara")
    async with running_bot(settings) as app:
        with app.database.transaction() as session:
            alert = Delivery(Address("telegram", str(STAFF)), Reply(text("⚠️ prova <b>")), "k1")
            assert outbox.enqueue(session, alert, app.desk.clock())
            assert not outbox.enqueue(session, alert, app.desk.clock())  # same key: once
        message = await operator.next_message(timeout=10)
        assert message.text == "⚠️ prova <b>"
        await operator.expect_silence(0.5)
        with app.database.transaction() as session:
            states = session.scalars(select(OutboxMessage.state)).all()
        assert states == ["sent"]
