"""Engines, sessions and migrations for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from bot.paths import MIGRATIONS_DIR

BUSY_TIMEOUT_MS = 10_000


class SchemaNotReady(Exception):
    """PostgreSQL has pending migrations; someone must run `sportello db upgrade`."""


def driver_url(url: str) -> str:
    """Picks the driver: psycopg 3 for PostgreSQL, the standard library for SQLite."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def is_sqlite(url: str) -> bool:
    return make_url(driver_url(url)).get_backend_name() == "sqlite"


def make_engine(url: str) -> Engine:
    """An engine whose errors never show SQL parameters: they can hold what users wrote."""
    url = driver_url(url)
    if not is_sqlite(url):
        return create_engine(
            url, pool_pre_ping=True, pool_size=10, max_overflow=10, hide_parameters=True
        )
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url, connect_args={"check_same_thread": False, "timeout": 30}, hide_parameters=True
    )
    _tune_sqlite(engine)
    return engine


def _tune_sqlite(engine: Engine) -> None:
    """WAL, busy timeout, foreign keys; BEGIN IMMEDIATE so writers queue instead of failing."""

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


class Database:
    """The engine and a session factory; `transaction()` is the unit of work."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        # SQLite has one writer and every transaction takes the write lock (BEGIN IMMEDIATE):
        # this process's threads queue for it here instead of sleeping in SQLite's busy handler.
        self._writer = threading.RLock() if self.is_sqlite else None

    @property
    def is_sqlite(self) -> bool:
        return is_sqlite(self.url)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with self._writer or nullcontext(), self._sessions.begin() as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()

    # Migrations ---------------------------------------------------------------

    def alembic_config(self) -> Config:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        config.set_main_option("sqlalchemy.url", driver_url(self.url).replace("%", "%%"))
        config.attributes["engine"] = self.engine
        return config

    def upgrade(self, revision: str = "head") -> None:
        command.upgrade(self.alembic_config(), revision)

    def downgrade(self, revision: str) -> None:
        command.downgrade(self.alembic_config(), revision)

    def current_revision(self) -> str | None:
        with self.engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()

    def head_revision(self) -> str | None:
        return ScriptDirectory.from_config(self.alembic_config()).get_current_head()

    def ensure_schema(self) -> None:
        """On SQLite, migrates; on PostgreSQL, refuses to run on an old schema."""
        if self.current_revision() == self.head_revision():
            return
        if self.is_sqlite:
            self.upgrade()
            return
        raise SchemaNotReady(
            "the PostgreSQL schema is not up to date: run `sportello db upgrade` first "
            "(one instance at a time)"
        )
