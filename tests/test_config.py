"""Settings: defaults, and one clear line naming the variable when a value is wrong."""

from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        *("TELEGRAM_BOT_TOKEN", "DATABASE_URL", "STAFF_USER_IDS", "WEBHOOK_URL", "PORT"),
        *("HOST", "LOG_FORMAT"),
    ):
        monkeypatch.delenv(name, raising=False)


def test_defaults_need_no_configuration() -> None:
    settings = load_settings(env_file=None)
    assert settings.telegram_bot_token is None
    assert settings.database_url.startswith("sqlite:///")
    assert settings.default_locale == "it"
    assert settings.timezone == "Europe/Rome"
    assert settings.telegram_file_url == "https://api.telegram.org/file/bot"
    assert (settings.host, settings.port, settings.log_format) == ("127.0.0.1", 8080, "text")


def test_values_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STAFF_USER_IDS", "12, 34,")
    monkeypatch.setenv("TELEGRAM_API_BASE_URL", "http://127.0.0.1:8081/bot")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:abc")
    settings = load_settings(env_file=None)
    assert settings.staff_user_ids == {12, 34}
    assert settings.is_staff(12) and not settings.is_staff(56)
    assert settings.telegram_file_url == "http://127.0.0.1:8081/file/bot"


def test_a_dotenv_file_is_read(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("DEFAULT_LOCALE=fr\nRETENTION_MONTHS=12\n")
    settings = load_settings(env_file=str(env))
    assert (settings.default_locale, settings.retention_months) == ("fr", 12)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("STAFF_USER_IDS", "12,mario", "STAFF_USER_IDS: expected comma-separated numeric"),
        ("PORT", "http", "PORT: Input should be a valid integer"),
        ("PORT", "70000", "PORT: Input should be less than or equal to 65535"),
        ("TIMEZONE", "Europe/Pinerolo", "TIMEZONE: expected an IANA time zone"),
        ("DEFAULT_LOCALE", "de", "DEFAULT_LOCALE: expected one of it, en, fr"),
        ("DATABASE_URL", "mysql://x", "DATABASE_URL: expected a sqlite:///path or postgresql"),
        ("TELEGRAM_BOT_TOKEN", "not-a-token", "TELEGRAM_BOT_TOKEN: expected a bot token"),
        ("TELEGRAM_API_BASE_URL", "api.telegram.org", "TELEGRAM_API_BASE_URL: expected an http"),
        ("WEBHOOK_SECRET", "with space", "WEBHOOK_SECRET: expected 1-256 characters"),
        ("RETENTION_MONTHS", "0", "RETENTION_MONTHS: Input should be greater than or equal to 1"),
        ("LOG_FORMAT", "xml", "LOG_FORMAT: Input should be 'text' or 'json'"),
    ],
)
def test_a_wrong_value_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as raised:
        load_settings(env_file=None)
    assert str(raised.value).startswith(message)
    assert "\n" not in str(raised.value)


def test_a_webhook_needs_a_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:abc")
    monkeypatch.setenv("WEBHOOK_URL", "https://sportello.example.org/telegram")
    with pytest.raises(ConfigError, match="WEBHOOK_SECRET: required when WEBHOOK_URL is set"):
        load_settings(env_file=None)
