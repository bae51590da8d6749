"""What the handoff tests share: the staff group, the settings, asking for a person."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from bot.app import App
from bot.config import Settings
from tests.booking_world import ADA, Clock, booking_settings
from tests.bot_runner import running_bot
from tests.fake_telegram import BotMessage, FakeChat, FakeTelegram, FakeUser, ForumTopic
from tests.fake_whatsapp import FakeWhatsApp, Phone, Seen, free_port

STAFF_GROUP = -1005550001
CARLO = 7001  # in the staff group, but no staff


def staff_group(tg: FakeTelegram, forum: bool = True) -> FakeChat:
    """The staff group, with topics (or without), where the bot is an admin."""
    return tg.group(STAFF_GROUP, "Staff SMP", forum=forum, bot_is_admin=True)


def handoff_settings(tg: FakeTelegram, database_url: str, **values: object) -> Settings:
    return booking_settings(
        database_url,
        telegram_bot_token=tg.token,
        telegram_api_base_url=tg.base_url,
        staff_chat_id=STAFF_GROUP,
        outbox_chat_rate=50,
        quiet_hours="off",
        **values,
    )


@asynccontextmanager
async def on_both_apis(
    tg: FakeTelegram, wa: FakeWhatsApp, database_url: str, clock: Clock, **values: object
) -> AsyncIterator[App]:
    """Sportello on the fake Bot API and the fake Graph API, on Monday 10:00 in Rome (the
    office is open)."""
    clock.advance(hours=2)
    settings = handoff_settings(
        tg, database_url, whatsapp_chat_gap=0, **wa.settings(free_port()), **values
    )
    async with running_bot(settings, clock) as running:
        yield running


async def asks_for_a_person(anna: FakeUser, question: str) -> BotMessage:
    """/operatore, consent, the notice, the question; returns what the bot says then."""
    await anna.send("/operatore")
    await anna.next_message()
    notice = await anna.next_message()
    assert "Informativa privacy" in notice.text
    await anna.press("✅ Accetto")
    staff_read = await anna.next_message()
    assert "sarà letto dallo staff" in staff_read.text
    await anna.press("✅ Va bene")
    await anna.next_message()
    await anna.send(question)
    return await anna.next_message()


async def taken_by_ada(tg: FakeTelegram, group: FakeChat, anna: FakeUser) -> ForumTopic:
    """Ada takes the request from its card; returns its topic."""
    card = await group.next_message()
    topic = group.topics[card.topic] if card.topic is not None else None
    await tg.user(ADA, "Ada").press("🙋 Rispondo io", chat=group)
    await group.next_message()
    await anna.next_message()
    assert topic is not None
    return topic


async def arrival(person: Phone) -> Seen:
    """The next message the outbox delivers to the person."""
    await eventually(lambda: len(person.seen) > person.read)
    return person.new()[0]


async def eventually(condition: Callable[[], object], seconds: float = 5.0) -> None:
    """Waits until `condition()` holds (something the outbox does in the background)."""
    for _ in range(int(seconds / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the condition never held")
