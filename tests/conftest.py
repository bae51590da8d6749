"""Shared fixtures: a database on SQLite and, when configured, on PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest

from bot.config import Settings

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
    base = postgres_or_skip()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(base, autocommit=True) as connection:
        connection.execute(f"CREATE SCHEMA {schema}")
    separator = "&" if "?" in base else "?"
    yield f"{base}{separator}options={quote(f'-csearch_path={schema}')}"
    with psycopg.connect(base, autocommit=True) as connection:
        connection.execute(f"DROP SCHEMA {schema} CASCADE")


def make_settings(database_url: str, **values: object) -> Settings:
    """Settings for a test: nothing read from the environment or a .env file."""
    defaults: dict[str, object] = {
        "database_url": database_url,
        "telegram_bot_token": None,
        "staff_user_ids": frozenset({4242}),
        "staff_chat_id": None,
        "default_locale": "it",
        "secret_key": "test-secret",
    }
    return Settings.model_construct(**{**Settings().model_dump(), **defaults, **values})


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url)
