"""Migrations: from empty to head and back, on SQLite and PostgreSQL."""

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import Table, inspect

from bot.storage.db import Database, SchemaNotReady
from bot.storage.models import Base


def table_names(database: Database) -> set[str]:
    return set(inspect(database.engine).get_table_names()) - {"alembic_version"}


def test_upgrade_to_head_and_back_down(database_url: str) -> None:
    database = Database(database_url)
    assert database.current_revision() is None
    database.upgrade()
    assert database.current_revision() == database.head_revision()
    assert table_names(database) == set(Base.metadata.tables)
    database.downgrade("base")
    assert database.current_revision() is None
    assert table_names(database) == set()
    database.upgrade()
    assert table_names(database) == set(Base.metadata.tables)
    database.dispose()


def test_sqlite_migrates_itself_postgres_asks_for_it(database_url: str) -> None:
    database = Database(database_url)
    if database.is_sqlite:
        database.ensure_schema()
        assert database.current_revision() == database.head_revision()
    else:
        with pytest.raises(SchemaNotReady, match="sportello db upgrade"):
            database.ensure_schema()
    database.dispose()


def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'wal.db'}")
    with database.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10_000
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    database.dispose()


def test_models_and_migrations_agree(database_url: str) -> None:
    """Autogenerate finds nothing to do: the migrations build exactly the models' schema."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    database = Database(database_url)
    database.upgrade()
    with database.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []
    database.dispose()


def test_whatsapp_users_keyed_by_number_keep_it_as_their_phone(database_url: str) -> None:
    """0013: a WhatsApp user from before BSUIDs is found by their number from then on."""
    from sqlalchemy import text

    database = Database(database_url)
    database.upgrade("0008")
    with database.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO users (id, channel, external_id, chat_id, name, locale,"
                " locale_chosen, created_at, last_seen_at) VALUES (1, 'whatsapp',"
                " '393331234567', '393331234567', 'Anna', 'it', false, :now, :now)"
            ),
            {"now": "2026-11-01 10:00:00+00:00"},
        )
        connection.execute(
            text(
                "INSERT INTO whatsapp_contacts (user_id, last_inbound_at, choices)"
                " VALUES (1, :now, '[]')"
            ),
            {"now": "2026-11-01 10:00:00+00:00"},
        )
    database.upgrade()
    with database.engine.connect() as connection:
        row = connection.execute(text("SELECT phone, bsuid FROM whatsapp_contacts")).one()
    assert tuple(row) == ("393331234567", None)


def a_row(table: Table) -> dict[str, object]:
    """A value for every column of `table` (every id is 1: references find their row)."""
    samples: list[tuple[type, object]] = [
        (sa.Boolean, False),
        (sa.DateTime, datetime(2026, 12, 1, 9, 30, tzinfo=UTC)),
        (sa.Date, date(2026, 12, 1)),
        (sa.Float, 1.5),
        (sa.Integer, 1),
        (sa.LargeBinary, b"\x01"),
        (sa.JSON, {"a": 1}),
        (sa.String, "x"),
    ]
    row: dict[str, object] = {}
    for column in table.columns:
        kind = column.type
        impl = getattr(kind, "impl", kind)
        row[column.name] = next(value for sort, value in samples if isinstance(impl, sort))
    return row


def row_counts(database: Database) -> dict[str, int]:
    with database.engine.connect() as connection:
        return {
            name: connection.execute(
                sa.select(sa.func.count()).select_from(sa.table(name))
            ).scalar_one()
            for name in table_names(database)
        }


def test_downgrades_and_upgrades_keep_every_row_of_every_table(database_url: str) -> None:
    """A batch copy of a table (SQLite) must not cascade into the tables that refer to it."""
    database = Database(database_url)
    database.upgrade()
    with database.engine.begin() as connection:
        for table in Base.metadata.sorted_tables:
            connection.execute(table.insert().values(a_row(table)))
    full = row_counts(database)
    assert set(full.values()) == {1}  # data in every table
    for revision in ("0008", "0007", "0006", "0005"):
        database.downgrade(revision)
        assert row_counts(database) == {name: full[name] for name in table_names(database)}
    oldest = table_names(database)
    database.upgrade()
    assert {name: count for name, count in row_counts(database).items() if name in oldest} == {
        name: 1 for name in oldest
    }
    database.dispose()
