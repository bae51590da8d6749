"""Backups while the bot runs, and restores: SQLite's online backup API, PostgreSQL's pg_dump.

A SQLite backup is a SQLite file (a consistent snapshot, even in WAL mode with writers busy);
a PostgreSQL backup is pg_dump's custom format, restored with pg_restore.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy import func, inspect, select

from bot.storage.db import Database
from bot.storage.models import Base

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"
# All pages in one step, inside one read transaction: in WAL mode writers go on meanwhile,
# whereas a copy in several steps starts over whenever another connection writes.
ALL_PAGES = -1


class BackupError(Exception):
    """The backup or restore could not be done; the message says why and what to do."""


def backup(database: Database, out: Path) -> None:
    """Writes a consistent copy of the whole database to `out`."""
    out.parent.mkdir(parents=True, exist_ok=True)
    if database.is_sqlite:
        _sqlite_copy(_sqlite_path(database), out)
    else:
        schema = [f"--schema={name}" for name in _search_path(database)[:1]]
        _run(
            _tool("pg_dump"),
            "--format=custom",
            "--no-owner",
            *schema,
            f"--file={out}",
            _libpq(database),
        )


def restore(database: Database, backup_file: Path, force: bool = False) -> None:
    """Replaces the database's content with the backup's; refuses a database with data in it
    unless `force`."""
    kind = backup_kind(backup_file)
    expected = "sqlite" if database.is_sqlite else "postgresql"
    if kind != expected:
        raise BackupError(f"{backup_file} is a {kind} backup, but DATABASE_URL is {expected}")
    if not force and holds_data(database):
        raise BackupError(
            "the database already holds data: restore into an empty one, or add --force "
            "to replace everything in it"
        )
    if database.is_sqlite:
        database.dispose()
        _sqlite_copy(backup_file, _sqlite_path(database))
    else:
        _run(
            _tool("pg_restore"),
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            f"--dbname={_libpq(database)}",
            str(backup_file),
        )


def backup_kind(path: Path) -> str:
    """ "sqlite" or "postgresql", from the file's first bytes."""
    try:
        with path.open("rb") as file:
            head = file.read(len(SQLITE_MAGIC))
    except OSError as error:
        raise BackupError(f"cannot read {path}: {error.strerror}") from None
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PG_DUMP_MAGIC):
        return "postgresql"
    raise BackupError(f"{path} is not a Sportello backup (neither SQLite nor pg_dump custom)")


def holds_data(database: Database) -> bool:
    """Has any of Sportello's tables a row?"""
    present = set(inspect(database.engine).get_table_names())
    with database.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            if table.name in present and connection.scalar(select(func.count()).select_from(table)):
                return True
    return False


def _sqlite_path(database: Database) -> Path:
    name = database.engine.url.database
    if not name or name == ":memory:":
        raise BackupError("an in-memory database has nothing to back up")
    return Path(name)


def _sqlite_copy(source: Path, target: Path) -> None:
    """SQLite's online backup API: a consistent snapshot while writers carry on."""
    if not source.exists():
        raise BackupError(f"{source} does not exist")
    with sqlite3.connect(source) as origin, sqlite3.connect(target) as copy:
        origin.execute(f"PRAGMA busy_timeout={10_000}")
        origin.backup(copy, pages=ALL_PAGES)
    origin.close()
    copy.close()


def _libpq(database: Database) -> str:
    """The URL as libpq tools take it (no SQLAlchemy driver name)."""
    url = database.engine.url.set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            f"{name} is not installed: install the PostgreSQL client tools of the server's "
            "major version or newer (Debian/Ubuntu: apt install postgresql-client)"
        )
    return path


def _run(*command: str) -> None:
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        lines = (result.stderr or result.stdout).strip().splitlines()
        raise BackupError(f"{Path(command[0]).name} failed: {lines[-1] if lines else 'no output'}")


def _search_path(database: Database) -> list[str]:
    """The schemas of `options=-csearch_path=...` in the URL (one instance per schema)."""
    options = str(database.engine.url.query.get("options", ""))
    for option in options.split():
        name, _, value = option.removeprefix("-c").partition("=")
        if name.strip() == "search_path":
            return [part.strip() for part in value.split(",") if part.strip()]
    return []
