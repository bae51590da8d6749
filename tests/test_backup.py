"""`sportello backup` while conversations are being written, and `sportello restore`."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.storage import backup
from bot.storage.backup import BackupError
from bot.storage.db import Database
from bot.storage.models import Conversation, User


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    db = Database(database_url)
    db.upgrade()
    yield db
    db.dispose()


def write_conversations(database: Database, first: int, count: int) -> None:
    for number in range(first, first + count):
        with database.transaction() as session:
            user = User(
                channel="telegram", external_id=str(number), chat_id=str(number), locale="it"
            )
            session.add(user)
            session.flush()
            session.add(Conversation(user_id=user.id, flow="faq", data={"n": number}))


def rows(database: Database) -> set[tuple[object, ...]]:
    with database.transaction() as session:
        query = select(User.id, User.external_id, Conversation.flow, Conversation.data)
        found = session.execute(query.join(Conversation))
        return {(user, external, flow, data["n"]) for user, external, flow, data in found}


class Writer(threading.Thread):
    """Someone chatting all along: one user and their conversation per transaction."""

    def __init__(self, database: Database) -> None:
        super().__init__(daemon=True)
        self.database, self.stop, self.written = database, threading.Event(), 0

    def run(self) -> None:
        while not self.stop.is_set():
            write_conversations(self.database, 10_000 + self.written, 1)
            self.written += 1


def test_a_backup_taken_while_people_chat_restores_every_row(
    database: Database, tmp_path: Path
) -> None:
    write_conversations(database, 1, 200)
    before = rows(database)
    writer = Writer(database)
    writer.start()
    while writer.written < 20:  # people are chatting
        threading.Event().wait(0.01)
    out = tmp_path / "sportello.backup"
    backup.backup(database, out)
    written_during = writer.written
    writer.stop.set()
    writer.join()
    assert writer.written > 20 and written_during > 20
    source = rows(database)

    with pytest.raises(BackupError, match="already holds data"):
        backup.restore(database, out)
    backup.restore(database, out, force=True)
    restored = rows(database)
    assert before <= restored <= source  # a consistent snapshot, every row intact
    assert len(restored) >= 200 + 20


def test_a_sqlite_backup_goes_into_a_new_empty_database(tmp_path: Path) -> None:
    original = Database(f"sqlite:///{tmp_path / 'old.db'}")
    original.upgrade()
    write_conversations(original, 1, 5)
    backup.backup(original, tmp_path / "copy.backup")
    fresh = Database(f"sqlite:///{tmp_path / 'new.db'}")
    fresh.upgrade()
    backup.restore(fresh, tmp_path / "copy.backup")  # empty: no --force needed
    assert rows(fresh) == rows(original)
    assert fresh.current_revision() == fresh.head_revision()


def test_what_cannot_be_done_is_said(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    postgres = Database("postgresql://sportello@127.0.0.1:9/sportello")
    sqlite = Database(f"sqlite:///{tmp_path / 'a.db'}")
    sqlite.upgrade()
    backup.backup(sqlite, tmp_path / "a.backup")
    with pytest.raises(BackupError, match="is a sqlite backup, but DATABASE_URL is postgresql"):
        backup.restore(postgres, tmp_path / "a.backup")
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(BackupError, match="is not a Sportello backup"):
        backup.restore(sqlite, tmp_path / "notes.txt")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(BackupError, match="pg_dump is not installed: install the PostgreSQL"):
        backup.backup(postgres, tmp_path / "b.backup")
