"""Nothing a user wrote is lost: replies refused by Telegram are sent again, an update the
library cannot read does not stop the others; Sportello as its own process, killed with
SIGKILL mid-burst, then restarted: every user is answered, no update is handled twice."""

from __future__ import annotations

import asyncio
import signal
import socket
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.delivery import replies
from bot.storage.db import Database
from bot.storage.models import InboundEvent, OutboxMessage, TelegramInbox
from bot.values.markup import text
from bot.values.messages import Inbound, Kind, Reply, Sender
from tests.bot_runner import running_bot, telegram_settings
from tests.fake_telegram import FakeTelegram
from tests.test_outbox_processes import sender_process, until
from tests.test_restart import environment, migrate

BURST = range(7001, 7041)  # 40 users


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def burst_env(tg: FakeTelegram, database_url: str, mode: str) -> dict[str, str]:
    env = {**environment(tg, database_url), "QUIET_HOURS": "off", "LOG_LEVEL": "INFO"}
    if mode == "webhook":
        port = free_port()
        env |= {
            "PORT": str(port),
            "WEBHOOK_URL": f"http://127.0.0.1:{port}/telegram",
            "WEBHOOK_SECRET": "burst-secret",
        }
    return env


def claimed_replies(database_url: str) -> int:
    """Replies recorded with their turn whose sending was not yet recorded."""
    database = Database(database_url)
    with database.transaction() as session:
        query = select(func.count()).where(OutboxMessage.state == "claimed")
        count = session.scalar(query) or 0
    database.dispose()
    return count


def handled(database_url: str) -> tuple[int, int]:
    """(updates handled by the desk, inbox items not yet done)."""
    database = Database(database_url)
    with database.transaction() as session:
        events = session.scalar(select(func.count()).select_from(InboundEvent)) or 0
        waiting = session.scalar(select(func.count()).where(TelegramInbox.done_at.is_(None)))
    database.dispose()
    return events, waiting or 0


async def test_a_reply_refused_with_a_502_is_sent_again(database_url: str) -> None:
    async with FakeTelegram() as tg:
        anna = tg.user(7101, first_name="Anna")
        tg.fail_next("sendMessage", 502, "Bad Gateway")
        async with running_bot(telegram_settings(tg, database_url, quiet_hours="off")):
            await anna.send("/start")
            greeting = await anna.next_message(timeout=10)
            await anna.expect_silence(0.5)
    assert greeting.text.startswith("Ciao Anna")
    assert len(tg.calls_to("sendMessage")) == 2  # refused once, then sent


async def test_a_reply_telegram_keeps_refusing_is_left_to_the_outbox(database_url: str) -> None:
    async with FakeTelegram() as tg:
        anna = tg.user(7102, first_name="Anna")
        tg.fail_next("sendMessage", 502, "Bad Gateway", times=4)  # more than the quick retries
        settings = telegram_settings(tg, database_url, quiet_hours="off", outage_pause_seconds=0.2)
        async with running_bot(settings) as app:
            await anna.send("/start")
            greeting = await anna.next_message(timeout=15)
            await anna.expect_silence(0.5)
            with app.database.transaction() as session:
                states = session.scalars(select(OutboxMessage.state)).all()
    assert greeting.text.startswith("Ciao Anna")
    assert states == ["sent"]  # sent by the outbox sender


async def test_a_reply_no_longer_fresh_is_dropped_not_sent(database_url: str) -> None:
    async with FakeTelegram() as tg:
        anna = tg.user(7103, first_name="Anna")
        settings = telegram_settings(tg, database_url, quiet_hours="off", reply_fresh_seconds=60)
        database = Database(database_url)
        database.upgrade()
        an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
        with database.transaction() as session:
            inbound = Inbound("telegram", Sender("7103"), "7103", Kind.TEXT, event_id="9")
            replies.record(session, inbound, None, [Reply(text("Ecco il menu"))], an_hour_ago, 99)
        database.dispose()
        async with running_bot(settings) as app:  # instance 99 is not alive: taken back
            await anna.expect_silence(1.0)
            with app.database.transaction() as session:
                row = session.scalars(select(OutboxMessage)).one()
    assert (row.state, row.last_error) == ("failed", "not sent while fresh: dropped")


async def test_an_update_the_library_cannot_read_is_skipped_and_polling_goes_on(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with FakeTelegram() as tg:
        anna = tg.user(7104, first_name="Anna")
        async with running_bot(telegram_settings(tg, database_url, quiet_hours="off")):
            broken = tg.push_raw_update("message", {"message_id": "not a message"})
            await anna.send("/start")
            greeting = await anna.next_message(timeout=10)
    assert greeting.text.startswith("Ciao Anna")
    assert tg.pending_updates == []  # both confirmed
    skipped = [r for r in caplog.records if f"update {broken} cannot be read" in r.message]
    assert len(skipped) == 1


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_a_burst_killed_mid_way_is_answered_after_a_restart(
    database_url: str, tmp_path: Path, mode: str
) -> None:
    async with FakeTelegram(webhook_retry_delays=(0.2, 0.5, 1.0, 2.0, 5.0)) as tg:
        users = [tg.user(user_id) for user_id in BURST]
        tg.slow(0.05, "sendMessage")  # replies in the air when the kill lands
        env = burst_env(tg, database_url, mode)
        await migrate(env)

        async with sender_process(env, tmp_path / "first.log") as first:
            await until(lambda: bool(tg.calls_to("getMe")) and _listening(tg, mode), 30)
            await asyncio.gather(*(user.send("/start") for user in users))
            await until(lambda: len(tg.writes) >= 3, within=30)
            first.send_signal(signal.SIGKILL)
            await first.wait()
        unsettled = claimed_replies(database_url)

        async with sender_process(env, tmp_path / "second.log") as second:
            await until(lambda: all(user.chat.bot_messages for user in users), within=40)
            await until(lambda: handled(database_url) == (len(users), 0), within=20)
            await asyncio.sleep(0.5)  # anything late would land now
            second.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(second.wait(), 20) == 0

    got = Counter(chat for _time, chat in tg.writes)
    assert set(got) == set(BURST)  # every user answered
    assert all(user.chat.bot_messages[0].text.startswith("Ciao") for user in users)
    repeated = [chat for chat, count in got.items() if count > 1]
    # A reply repeats only if it was sent and the kill came before that was recorded.
    assert max(got.values()) <= 2 and len(repeated) <= unsettled
    assert all(len({m.text for m in user.chat.bot_messages}) == 1 for user in users)
    tg.assert_no_rejections()


def _listening(tg: FakeTelegram, mode: str) -> bool:
    """The bot takes updates: it polls, or its webhook is set."""
    return bool(tg.calls_to("getUpdates")) if mode == "polling" else tg.webhook_url is not None
