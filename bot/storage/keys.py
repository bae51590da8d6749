"""Keys generated once and shared through the database by every instance."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy.exc import IntegrityError

from bot.storage.db import Database
from bot.storage.models import AppSecret


def button_key(database: Database, configured: str | None) -> bytes:
    """The key that signs button data: SECRET_KEY if set, else one stored in the database."""
    if configured:
        return hashlib.sha256(configured.encode()).digest()
    return stored_secret(database, "buttons")


def stored_secret(database: Database, name: str) -> bytes:
    with database.transaction() as session:
        found = session.get(AppSecret, name)
        if found is not None:
            return found.value
    try:
        with database.transaction() as session:
            session.add(AppSecret(name=name, value=secrets.token_bytes(32)))
    except IntegrityError:
        pass  # another instance made it first: use theirs
    with database.transaction() as session:
        stored = session.get(AppSecret, name)
        assert stored is not None
        return stored.value
