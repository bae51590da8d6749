"""What the handoff tests share: the staff group, the settings, asking for a person."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from bot.config import Settings
from tests.booking_world import ADA, booking_settings
from tests.fake_telegram import BotMessage, FakeChat, FakeTelegram, FakeUser, ForumTopic

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


async def eventually(condition: Callable[[], object], seconds: float = 5.0) -> None:
    """Waits until `condition()` holds (something the outbox does in the background)."""
    for _ in range(int(seconds / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the condition never held")
