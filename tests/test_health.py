"""/healthz and /metrics, served in polling mode too; start-up waits for the database."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from bot.app import App
from bot.channels.whatsapp import inbox
from bot.config import ConfigError
from bot.delivery.health import MAX_TICK_AGE, Checkup, Health
from bot.delivery.outbox import AnswerLost, PermanentFailure, Skipped, Throttled
from bot.delivery.sender import send_result
from bot.ops import metrics
from bot.ops.startup import Unreachable
from bot.storage.db import Database
from tests.bot_runner import running_bot, telegram_settings
from tests.fake_telegram import FakeTelegram
from tests.settings import make_settings
from tests.test_cli import sportello


@pytest.mark.parametrize(
    ("health", "healthy"),
    [
        (Health(database=True, tick_age=1.5, backlog=0, uncertain=0), True),
        (Health(database=True, tick_age=1.5, backlog=40, uncertain=3), True),  # staff's work
        (Health(database=False, tick_age=1.5, backlog=0, uncertain=0), False),
        (Health(database=True, tick_age=MAX_TICK_AGE + 1, backlog=0, uncertain=0), False),
        (Health(database=True, tick_age=None, backlog=0, uncertain=0), False),  # never ticked
    ],
)
def test_what_healthy_means(health: Health, healthy: bool) -> None:
    assert health.healthy is healthy
    assert (health.body()["status"] == "ok") is healthy


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


def sample(page: str, name: str, **labels: str) -> float:
    """One sample's value in a Prometheus text page (0 when absent)."""
    wanted = ",".join(f'{key}="{value}"' for key, value in labels.items())
    pattern = rf"^{name}(?:\{{{re.escape(wanted)}\}})? (\S+)$" if wanted else rf"^{name} (\S+)$"
    found = re.search(pattern, page, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


async def test_polling_serves_health_and_counts(tg: FakeTelegram, tmp_path: Path) -> None:
    database = tmp_path / "sportello.db"
    settings = telegram_settings(tg, f"sqlite:///{database}", metrics_token="m3trics-token")
    async with running_bot(settings) as app, httpx.AsyncClient() as client:
        base = f"http://127.0.0.1:{app.web_port}"
        healthy = await client.get(f"{base}/healthz")
        assert healthy.status_code == 200
        assert healthy.json()["status"] == "ok" and healthy.json()["database"] == "ok"

        assert (await client.get(f"{base}/metrics")).status_code == 401
        auth = {"Authorization": "Bearer m3trics-token"}
        before = (await client.get(f"{base}/metrics", headers=auth)).text
        anna = tg.user(4101, first_name="Anna")
        await anna.send("/start")
        await anna.next_message()
        await anna.send("quanto costa la quota associativa?")
        await anna.next_message()
        after = (await client.get(f"{base}/metrics", headers=auth)).text
        texts = sample(after, "sportello_updates_total", channel="telegram", kind="text")
        assert texts > sample(before, "sportello_updates_total", channel="telegram", kind="text")
        assert sample(after, "sportello_reply_seconds_count", channel="telegram") >= 2
        assert sample(after, "sportello_sends_total", channel="telegram", result="sent") >= 0
        assert "sportello_outbox_rows" in after

        database.rename(tmp_path / "gone.db")
        gone = await client.get(f"{base}/healthz")
        assert gone.status_code == 503 and gone.json()["database"] == "unreachable"


def test_counters_add_up() -> None:
    before = sample(
        metrics.exposition().decode(), "sportello_faq_questions_total", outcome="offered"
    )
    metrics.faq_outcome("offered")
    after = sample(
        metrics.exposition().decode(), "sportello_faq_questions_total", outcome="offered"
    )
    assert after == before + 1


def test_start_up_retries_an_unreachable_database(caplog: pytest.LogCaptureFixture) -> None:
    closed_port = "postgresql://sportello@127.0.0.1:9/sportello"
    settings = make_settings(closed_port, startup_retry_seconds=2.5)
    with caplog.at_level(logging.WARNING), pytest.raises(Unreachable) as failure:
        App(settings)
    tries = [r.getMessage() for r in caplog.records if r.name == "bot.ops.startup"]
    assert len(tries) >= 2  # one line per try, no traceback
    assert all(r.exc_info is None for r in caplog.records if r.name == "bot.ops.startup")
    assert "cannot reach the database" in tries[0] and "try 1 failed, next in 1 s" in tries[0]
    assert str(failure.value).startswith("cannot reach the database, tried for 2.5 s")


async def test_start_up_retries_an_unreachable_bot_api(
    tmp_path: Path, unused_tcp_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(
        f"sqlite:///{tmp_path / 'sportello.db'}",
        telegram_bot_token="123456:ABC",
        telegram_api_base_url=f"http://127.0.0.1:{unused_tcp_port}/bot",
        # long enough that a slow first try on a busy machine still leaves one retry to log
        startup_retry_seconds=2.5,
    )
    app = App(settings)
    with caplog.at_level(logging.WARNING), pytest.raises(Unreachable, match="Telegram Bot API"):
        await app.serve(asyncio.Event())
    tries = [r.getMessage() for r in caplog.records if r.name == "bot.ops.startup"]
    assert tries and all("cannot reach the Telegram Bot API (NetworkError" in t for t in tries)


async def test_a_revoked_token_stops_with_one_line(tg: FakeTelegram, tmp_path: Path) -> None:
    settings = telegram_settings(tg, f"sqlite:///{tmp_path / 'sportello.db'}")
    revoked = settings.model_copy(update={"telegram_bot_token": "123456:revoked"})
    with pytest.raises(ConfigError, match="TELEGRAM_BOT_TOKEN: refused by Telegram"):
        await App(revoked).serve(asyncio.Event())


@pytest.mark.parametrize(
    ("error", "result"),
    [
        (Throttled(3.0), "429"),
        (PermanentFailure("Forbidden: bot was blocked by the user", blocked=True), "blocked"),
        (PermanentFailure("Bad Request: chat not found"), "failed"),
        (Skipped("outside the 24-hour window"), "skipped"),
        (AnswerLost("connection reset"), "uncertain"),
        (asyncio.CancelledError(), "uncertain"),  # the send timeout cancelled it mid-call
        (RuntimeError("502 Bad Gateway"), "retry"),
    ],
)
def test_how_a_send_is_counted(error: BaseException, result: str) -> None:
    assert send_result(error) == result


async def test_the_whatsapp_inbox_lag_is_read_at_each_scrape(database_url: str) -> None:
    database = Database(database_url)
    database.upgrade()
    waiting_since = datetime.now(UTC) - timedelta(seconds=90)
    with database.transaction() as session:
        inbox.store(session, [("wamid.1", {"text": "ciao"})], waiting_since)
    health = await Checkup(database, time.monotonic).examine()
    database.dispose()
    assert health.healthy
    assert sample(metrics.exposition().decode(), "sportello_whatsapp_inbox_lag_seconds") >= 90


def test_the_command_says_it_in_one_line(tmp_path: Path) -> None:
    closed_port = {"DATABASE_URL": "postgresql://x@127.0.0.1:9/x", "STARTUP_RETRY_SECONDS": "0"}
    result = sportello("chat", env=closed_port, cwd=tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .startswith("sportello: cannot reach the database, tried for 0 s (OperationalError: ")
    )
