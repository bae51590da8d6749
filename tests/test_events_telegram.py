"""A whole seminar on Telegram: staff create it, a subscriber answers, the reminder comes."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.bot_runner import running_bot, telegram_settings
from tests.events_chat import Clock
from tests.fake_telegram import FakeTelegram, FakeUser

STAFF = 4242


async def step(user: FakeUser, label: str) -> str:
    """Presses a button and returns what the bot shows next (a new message or an edit)."""
    await user.press(label)
    return (await user.next_message()).text


async def subscribe(anna: FakeUser) -> None:
    await anna.send("/iscriviti")
    await anna.next_message()  # why consent is needed
    await anna.next_message()  # the notice
    assert "Di quali territori" in await step(anna, "✅ Accetto")
    await step(anna, "▫️ Val Pellice")
    await step(anna, "Avanti ➡️")
    await step(anna, "▫️ Tutti gli argomenti")
    assert "sei iscritto" in await step(anna, "✔️ Fatto")


async def create_event(staff: FakeUser) -> None:
    for typed in (
        "/nuovo_evento",
        "Welfare aziendale 2027",
        "Le novità fiscali per le piccole imprese.",
        "12/3/2027 18:30",
        "Online: https://meet.example.org/smp",
    ):
        await staff.send(typed)
        await staff.next_message()
    await step(staff, "▫️ Welfare aziendale e fisco")
    await step(staff, "Avanti ➡️")
    await step(staff, "▫️ Tutti i territori")
    await step(staff, "Avanti ➡️")
    preview = await step(staff, "Nessun limite")
    assert "Welfare aziendale 2027" in preview and "venerdì 12 marzo 2027, 18:30" in preview
    controls = await staff.next_message()
    assert "Destinatari: 1 iscritto." in controls.text
    assert "Evento creato" in await step(staff, "📣 Annuncia ora")


async def test_announce_rsvp_and_reminder_on_telegram(database_url: str) -> None:
    clock = Clock()
    async with FakeTelegram() as tg:
        settings = telegram_settings(tg, database_url, outbox_chat_rate=100.0)
        async with running_bot(settings, clock) as app:
            anna = tg.user(5001, first_name="Anna", language_code="it")
            staff = tg.user(STAFF, first_name="Staff", language_code="it")
            await subscribe(anna)
            await create_event(staff)
            await app.announcer.run()
            await app.outbox.drain()
            announcement = await anna.next_message()
            assert "Welfare aziendale 2027" in announcement.text
            assert "Collegamento per partecipare online" in announcement.text
            assert announcement.button_labels == ["✅ Ci sarò", "🤔 Forse", "❌ No"]

            await anna.press("✅ Ci sarò")
            edited = await anna.next_message()
            assert edited.kind == "edit" and edited.message_id == announcement.message_id
            assert "La tua risposta: ✅ Ci sarò" in edited.text
            assert "• ✅ Ci sarò" in edited.button_labels
            calendar = await anna.next_message()
            assert calendar.document is not None
            assert calendar.document.filename.endswith(".ics")
            assert b"BEGIN:VEVENT" in calendar.document.content

            clock.now = datetime(2027, 3, 12, 16, 31, tzinfo=UTC)  # an hour before
            assert await app.reminders.run() >= 1
            await app.outbox.drain()
            reminder = await anna.next_message()
            assert "Promemoria" in reminder.text
            assert "https://meet.example.org/smp" in (reminder.html or "")
            await app.announcer.run()  # everything is out: the final report
            await app.outbox.drain()
            report = await staff.next_message()
            assert "Invio finito" in report.text
        tg.assert_no_rejections()
