"""Scratch databases for tests and benchmarks, dropped afterwards: a temporary SQLite file, or
a PostgreSQL schema of their own so that runs never see each other's rows."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import psycopg


@contextmanager
def postgres_schema(base: str, prefix: str = "t") -> Iterator[str]:
    """The URL of `base` with its search path set to a new, empty schema."""
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(base, autocommit=True, connect_timeout=5) as connection:
        connection.execute(f"CREATE SCHEMA {schema}")
    try:
        separator = "&" if "?" in base else "?"
        yield f"{base}{separator}options={quote(f'-csearch_path={schema}')}"
    finally:
        with psycopg.connect(base, autocommit=True, connect_timeout=5) as connection:
            connection.execute(f"DROP SCHEMA {schema} CASCADE")


@contextmanager
def scratch_database(postgres: str | None) -> Iterator[str]:
    """A fresh schema in the `postgres` database if given, else a temporary SQLite file."""
    if postgres is not None:
        with postgres_schema(postgres, "bench") as url:
            yield url
        return
    with tempfile.TemporaryDirectory(prefix="sportello-") as directory:
        yield f"sqlite:///{Path(directory) / 'sportello.db'}"
