"""Settings for tests, built from values and never from the environment."""

from __future__ import annotations

from bot.config import Settings


def make_settings(database_url: str, **values: object) -> Settings:
    """Settings for a test: nothing read from the environment or a .env file."""
    defaults: dict[str, object] = {
        "database_url": database_url,
        "telegram_bot_token": None,
        "staff_user_ids": frozenset({4242}),
        "staff_chat_id": None,
        "default_locale": "it",
        "secret_key": "test-secret",
        "port": 0,  # /healthz is served in every mode: on a free port, so tests never collide
    }
    return Settings.model_construct(**{**Settings().model_dump(), **defaults, **values})
