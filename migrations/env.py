"""Alembic environment: uses the engine the app made (bot.db.Database.alembic_config)."""

from typing import Any, Literal

from alembic import context
from sqlalchemy import Connection, Engine, create_engine

from bot.storage.models import Base, UTCDateTime

config = context.config
target_metadata = Base.metadata


def render_item(kind: str, item: Any, autogen_context: Any) -> str | Literal[False]:
    """Migrations use plain SQLAlchemy types, never the app's own (they must outlive it)."""
    if kind == "type" and isinstance(item, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def configure(**where: Any) -> None:
    """Alembic's context, on a connection or a URL (offline)."""
    context.configure(
        target_metadata=target_metadata, render_as_batch=True, render_item=render_item, **where
    )


def run_offline() -> None:
    configure(url=config.get_main_option("sqlalchemy.url"), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    engine: Engine = config.attributes.get("engine") or create_engine(
        str(config.get_main_option("sqlalchemy.url"))
    )
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            foreign_keys(connection, on=False)
        try:
            configure(connection=connection)
            with context.begin_transaction():
                context.run_migrations()
                if sqlite:
                    check_references(connection)
            connection.commit()
        finally:
            if sqlite:
                foreign_keys(connection, on=True)


def foreign_keys(connection: Connection, on: bool) -> None:
    """SQLite: a batch operation copies a table, drops the old one and renames the copy;
    with foreign keys on, the drop would delete (ON DELETE CASCADE) every row that refers to
    it. The pragma only takes effect outside a transaction: it goes to the driver directly."""
    connection.connection.driver_connection.execute(  # type: ignore[union-attr]
        f"PRAGMA foreign_keys={'ON' if on else 'OFF'}"
    )


def check_references(connection: Connection) -> None:
    """With foreign keys off, nothing checked them: a migration that broke one fails here."""
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise RuntimeError(f"the migration left rows that refer to nothing: {broken[:5]}")


if context.is_offline_mode():
    run_offline()
else:
    run_online()
