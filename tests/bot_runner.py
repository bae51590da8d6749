"""Runs the real Sportello app (python-telegram-bot Application) against the fake Bot API."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bot.app import App
from bot.config import Settings
from bot.core.desk import Clock, utc_clock
from bot.storage.db import Database
from tests.fake_telegram import FakeTelegram
from tests.settings import make_settings


def telegram_settings(tg: FakeTelegram, database_url: str, **values: object) -> Settings:
    return make_settings(
        database_url,
        telegram_bot_token=tg.token,
        telegram_api_base_url=tg.base_url,
        **values,
    )


@asynccontextmanager
async def running_bot(settings: Settings, clock: Clock = utc_clock) -> AsyncIterator[App]:
    """Sportello serving the channels its settings configure (Telegram by polling or webhook,
    WhatsApp) until the block ends."""
    Database(settings.database_url).upgrade()
    app = App(settings, clock)
    stop = asyncio.Event()
    serving = asyncio.create_task(app.serve(stop))
    await _until_started(app, serving)
    try:
        yield app
    finally:
        stop.set()
        await asyncio.wait_for(serving, 15)


async def _until_started(app: App, serving: asyncio.Task[None]) -> None:
    for _ in range(500):
        if serving.done():
            serving.result()  # raises what went wrong
        if app.ready.is_set():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("Sportello did not start within 5 s")
