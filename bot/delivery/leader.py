"""Which instance runs the periodic jobs, and which senders are alive.

On PostgreSQL each instance keeps one dedicated connection, outside the pool, holding two
session advisory locks: its own (so others can tell it is alive: a killed process's locks go
with its connection) and, for one instance only, the leader's. If that connection drops the
instance stops leading; the others try for the lock every few seconds and one takes over.
The locks are keyed by the schema, so deployments (and tests) sharing a database never mix.
On SQLite there is one instance: always the leader.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import zlib
from typing import Any

import psycopg
from sqlalchemy import text
from sqlalchemy.orm import Session

from bot.storage.db import Database

log = logging.getLogger(__name__)
LEADER, SENDER = "sportello:leader", "sportello:sender"
HELD = """
    SELECT count(*) FROM pg_locks
    WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted
      AND classid::bigint = %s AND objid::bigint = %s AND objsubid = 2
"""
LIVE = """
    SELECT objid::bigint FROM pg_locks
    WHERE locktype = 'advisory' AND granted AND objsubid = 2 AND classid::bigint = :space
      AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
"""
# Dead peers are noticed within seconds, not after the kernel's two-hour default.
KEEPALIVE = {"keepalives": 1, "keepalives_idle": 5, "keepalives_interval": 2, "keepalives_count": 2}


def lock_space(name: str, schema: str) -> int:
    """A 31-bit key for the advisory locks of this schema."""
    return zlib.crc32(f"{name}:{schema}".encode()) & 0x7FFFFFFF


class Leadership:
    """This instance's presence; `is_leader` says whether it runs the leader-only jobs."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.instance = secrets.randbelow(2**31 - 2) + 1  # names the rows this sender claims
        self.is_leader = database.is_sqlite
        self._connection: psycopg.Connection[Any] | None = None
        self._schema = ""

    def keep(self) -> bool:
        """Holds this instance's lock and tries for the leader's; returns `is_leader`."""
        if self.database.is_sqlite:
            return True
        try:
            connection = self._connection or self._connect()
            leading = self._holds(connection, LEADER, 0) or self._try(connection, LEADER, 0)
        except psycopg.Error as error:
            log.warning("leader: lock connection lost (%s); retrying", error)
            self._drop()
            leading = False
        self._announce(leading)
        return leading

    async def watch(self) -> bool:
        """`keep`, as a periodic job: off the event loop."""
        return await asyncio.to_thread(self.keep)

    def live_senders(self, session: Session) -> set[int] | None:
        """The instances alive now (on SQLite, only this one); None when unknown."""
        if self.database.is_sqlite:
            return {self.instance}
        if not self._schema:
            return None
        space = lock_space(SENDER, self._schema)
        rows = session.execute(text(LIVE), {"space": space}).scalars()
        return {int(row) for row in rows}

    def close(self) -> None:
        """Lets go of both locks: another instance may lead."""
        self._drop()
        self.is_leader = self.database.is_sqlite

    def _connect(self) -> psycopg.Connection[Any]:
        engine = self.database.engine
        args, params = engine.dialect.create_connect_args(engine.url)
        params = {**params, **KEEPALIVE, "connect_timeout": 5, "application_name": self._name()}
        connection: psycopg.Connection[Any] = psycopg.connect(*args, autocommit=True, **params)
        row = connection.execute("SELECT current_schema()").fetchone()
        self._schema = str(row[0]) if row else "public"
        if not self._try(connection, SENDER, self.instance):
            connection.close()
            raise psycopg.OperationalError("this instance's id is taken by another instance")
        self._connection = connection
        return connection

    def _try(self, connection: psycopg.Connection[Any], name: str, key: int) -> bool:
        space = lock_space(name, self._schema)
        row = connection.execute("SELECT pg_try_advisory_lock(%s, %s)", (space, key)).fetchone()
        return bool(row and row[0])

    def _holds(self, connection: psycopg.Connection[Any], name: str, key: int) -> bool:
        row = connection.execute(HELD, (lock_space(name, self._schema), key)).fetchone()
        return bool(row and row[0])

    def _drop(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _announce(self, leading: bool) -> None:
        if leading and not self.is_leader:
            log.info("leader: %s now runs the periodic jobs", self._name())
        elif self.is_leader and not leading:
            log.warning("leader: %s no longer runs the periodic jobs", self._name())
        self.is_leader = leading

    def _name(self) -> str:
        return f"sportello-{os.getpid()}-{self.instance}"
