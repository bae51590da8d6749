"""Kill the process between two steps: a new one continues the conversation, nothing twice."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import func, select

from bot.storage.db import Database
from bot.storage.models import OutboxMessage
from tests.fake_telegram import FakeTelegram


def environment(tg: FakeTelegram, database_url: str) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DATABASE_"))}
    return {
        **keep,
        "TELEGRAM_BOT_TOKEN": tg.token,
        "TELEGRAM_API_BASE_URL": tg.base_url,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "restart-test",
        "PORT": "0",  # /healthz on a free port: several processes never collide
    }


async def migrate(env: dict[str, str]) -> None:
    """`sportello db upgrade`, as an operator runs it before starting the bot."""
    upgrade = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "db", "upgrade", env=env, stdout=asyncio.subprocess.DEVNULL
    )
    assert await upgrade.wait() == 0


async def replies_settled(database_url: str, within: float = 10.0) -> None:
    """Waits until the bot has recorded every reply it sent (none is left `claimed`)."""
    database = Database(database_url)
    try:
        for _ in range(int(within / 0.05)):
            with database.transaction() as session:
                query = select(func.count()).where(OutboxMessage.state == "claimed")
                if not session.scalar(query):
                    return
            await asyncio.sleep(0.05)
        raise AssertionError(f"replies still unsettled after {within} s")
    finally:
        database.dispose()


@asynccontextmanager
async def sportello_process(env: dict[str, str]) -> AsyncIterator[asyncio.subprocess.Process]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", env=env, stderr=asyncio.subprocess.DEVNULL
    )
    try:
        yield process
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_a_killed_bot_resumes_the_conversation(database_url: str) -> None:
    async with FakeTelegram() as tg:
        env = environment(tg, database_url)
        await migrate(env)
        anna = tg.user(2001, first_name="Anna")

        async with sportello_process(env) as first:
            await anna.send("/cancella")
            question = await anna.next_message(timeout=30)
            assert "Vuoi davvero cancellare" in question.text
            await replies_settled(database_url)  # else the reply may come again (at least once)
            first.send_signal(signal.SIGKILL)  # no goodbye: state must already be stored
            await first.wait()

        async with sportello_process(env) as second:
            await anna.press("🗑 Sì, cancella tutto")
            done = await anna.next_message(timeout=30)
            assert "ho cancellato tutti i tuoi dati" in done.text
            await anna.expect_silence(1.0)  # the /cancella re-delivered after the kill: skipped
            second.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(second.wait(), 20) == 0
        assert tg.rejected == []


async def test_a_survey_resumes_after_a_kill_at_the_same_question(database_url: str) -> None:
    async with FakeTelegram() as tg:
        env = environment(tg, database_url)
        await migrate(env)
        marco = tg.user(2002, first_name="Marco")

        async with sportello_process(env) as first:
            await marco.send("/questionario")
            await marco.next_message(timeout=30)
            await marco.next_message()
            await marco.press("✅ Accetto")
            await marco.next_message()
            await marco.press("▶️ Inizia")
            await marco.next_message()
            await marco.press("Pinerolo")
            second_question = await marco.next_message()
            assert second_question.text.startswith("Domanda 2 di")
            await replies_settled(database_url)
            first.send_signal(signal.SIGKILL)
            await first.wait()

        async with sportello_process(env):
            await marco.press("Dipendente o collaboratore")  # on the message sent before the kill
            third = await marco.next_message(timeout=30)
            assert third.text.startswith("Domanda 3 di")
        tg.assert_no_rejections()
