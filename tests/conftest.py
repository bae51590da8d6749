"""Shared fixtures: a database on SQLite and, when configured, on PostgreSQL; a clock the
test moves; the fake WhatsApp Cloud API."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import psycopg
import pytest

from bot.app import App
from bot.config import Settings
from tests.booking_world import Clock
from tests.databases import postgres_schema
from tests.fake_telegram import FakeTelegram
from tests.fake_whatsapp import FakeWhatsApp, on_whatsapp
from tests.settings import make_settings

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL")
REQUIRE_POSTGRES = os.environ.get("REQUIRE_POSTGRES") == "1"


def postgres_or_skip() -> str:
    """The PostgreSQL URL, or a visible skip (a failure under REQUIRE_POSTGRES=1)."""
    if not POSTGRES_URL:
        if REQUIRE_POSTGRES:
            pytest.fail("REQUIRE_POSTGRES=1 but TEST_POSTGRES_URL is not set")
        pytest.skip("PostgreSQL tests need TEST_POSTGRES_URL")
    try:
        psycopg.connect(POSTGRES_URL, connect_timeout=3).close()
    except psycopg.OperationalError as error:
        if REQUIRE_POSTGRES:
            pytest.fail(f"PostgreSQL at TEST_POSTGRES_URL is not reachable: {error}")
        pytest.skip(f"PostgreSQL not reachable: {error}")
    return POSTGRES_URL


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of each kind; on PostgreSQL, a schema of its own per test."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'sportello.db'}"
        return
    with postgres_schema(postgres_or_skip()) as url:
        yield url


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url)


@pytest.fixture
def clock() -> Clock:
    """The test's own time, moved by hand."""
    return Clock()


@pytest.fixture
async def wa(clock: Clock) -> AsyncIterator[FakeWhatsApp]:
    async with FakeWhatsApp(clock) as fake:
        yield fake
        fake.assert_no_refusals()


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    """The fake Bot API; the test fails if Sportello made a call Telegram would refuse."""
    async with FakeTelegram() as fake:
        yield fake
        fake.assert_no_rejections()


@pytest.fixture
async def wa_app(wa: FakeWhatsApp, database_url: str, clock: Clock) -> AsyncIterator[App]:
    """Sportello on the fake Graph API."""
    async with on_whatsapp(wa, database_url, clock) as running:
        yield running
