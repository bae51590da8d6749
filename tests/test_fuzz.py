"""Thousands of random updates through the real Application and the fake Bot API: no
traceback, no call Telegram would refuse, and the bot still answers afterwards."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator

import pytest

from bot.app import App
from bot.core import menu
from tests.booking_world import ADA, Clock, on_telegram
from tests.bot_runner import running_bot
from tests.fake_telegram import FakeTelegram
from tests.fuzzing import STAFF_GROUP, Fuzzer, run, settle

UPDATES = 2000  # bench/fuzz.py runs more
SEED = 15


@pytest.fixture
async def bot(database_url: str, clock: Clock) -> AsyncIterator[tuple[FakeTelegram, App]]:
    """The app and the fake Bot API; button presses never expire, however long a run is."""
    async with FakeTelegram(callback_query_timeout=600) as tg:
        settings = on_telegram(tg.base_url, tg.token, database_url, STAFF_GROUP)
        async with running_bot(settings, clock) as app:
            yield tg, app


async def test_random_updates_break_nothing(
    bot: tuple[FakeTelegram, App], caplog: pytest.LogCaptureFixture
) -> None:
    tg, _app = bot
    caplog.set_level(logging.WARNING)
    fuzzer = Fuzzer.create(tg, SEED, staff_id=ADA)
    started = time.monotonic()
    sent = await run(fuzzer, UPDATES)
    print(f"fuzz: {sent} updates in {time.monotonic() - started:.1f} s", fuzzer.sent)
    assert sent >= UPDATES
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert errors == [], [r.getMessage() for r in errors[:5]]
    tg.assert_no_rejections()
    asked = {user.id: await user.send("/menu") for user in fuzzer.users}
    await settle(tg)
    for user in fuzzer.users:  # still answering, everyone
        answer = user.chat.last_message
        assert answer is not None and answer.message_id > asked[user.id]
        assert len(answer.button_labels) == len(menu.ENTRIES)  # the menu
