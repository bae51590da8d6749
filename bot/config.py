"""One settings object, read from the environment (and `.env`), checked at start-up."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.paths import DATA_DIR, FLOWS_DIR

SUPPORTED_LOCALES = ("it", "en", "fr")


@dataclass(frozen=True)
class QuietHours:
    """From `start` to `end` in local wall-clock time; an `end` before `start` spans midnight."""

    start: time
    end: time

    @classmethod
    def parse(cls, text: str) -> QuietHours | None:
        """ "21:00-08:00" -> QuietHours; "" or "off" -> None (no quiet hours)."""
        text = text.strip()
        if text.lower() in ("", "off", "none"):
            return None
        start, _, end = text.partition("-")
        try:
            return cls(time.fromisoformat(start.strip()), time.fromisoformat(end.strip()))
        except ValueError:
            raise ValueError("expected HH:MM-HH:MM, such as 21:00-08:00, or off") from None

    def contains(self, moment: datetime, zone: ZoneInfo) -> bool:
        """Is this moment within the quiet hours, on the clocks of `zone`?"""
        local = moment.astimezone(zone).time().replace(tzinfo=None)
        if self.start <= self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def release(self, moment: datetime, zone: ZoneInfo) -> datetime:
        """When a message due at `moment` goes: then, or when the quiet hours end."""
        if not self.contains(moment, zone):
            return moment
        local = moment.astimezone(zone)
        end = datetime.combine(local.date(), self.end, tzinfo=zone)
        if end <= local:
            end = datetime.combine(local.date() + timedelta(days=1), self.end, tzinfo=zone)
        return end.astimezone(moment.tzinfo)


class ConfigError(Exception):
    """A setting is wrong; the message names the variable and what it expects."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True
    )

    telegram_bot_token: str | None = None
    telegram_api_base_url: str = "https://api.telegram.org/bot"
    database_url: str = Field(default_factory=lambda: f"sqlite:///{DATA_DIR}/sportello.db")
    staff_user_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    staff_chat_id: int | None = None
    # Staff on WhatsApp: business-scoped user ids (IT.150…) or phone numbers (39333…).
    staff_whatsapp_ids: Annotated[frozenset[str], NoDecode] = frozenset()
    default_locale: str = "it"
    timezone: str = "Europe/Rome"
    webhook_url: str | None = None
    # The domain in the UIDs of calendar files (RFC 5545 wants one the sender controls);
    # empty: the webhook's host, else "sportello.invalid".
    calendar_domain: str = ""
    webhook_secret: str | None = None
    port: int = Field(default=8080, ge=0, le=65535)  # 0: any free port (tests)
    host: str = "127.0.0.1"  # the address PORT listens on; 0.0.0.0 for every interface
    metrics_token: str | None = None  # when set, /metrics wants "Authorization: Bearer ..."
    log_format: Literal["text", "json"] = "text"
    startup_retry_seconds: float = Field(default=120, ge=0, le=3600)  # Bot API, database
    # Webhook bodies over these are refused (413) while they are read, before any parsing.
    webhook_max_bytes: int = Field(default=1_048_576, ge=1024)
    whatsapp_webhook_max_bytes: int = Field(default=3_145_728, ge=1024)
    retention_months: int = Field(default=24, ge=1, le=240)
    # Breakdowns by area hide counts below this: a count of 1 in a small valley names a firm.
    report_min_count: int = Field(default=3, ge=1, le=100)
    outbox_rate: float = Field(default=25.0, gt=0, le=10_000)  # messages/s, whole deployment
    outbox_chat_rate: float = Field(default=1.0, gt=0, le=100)  # messages/s to one chat
    quiet_hours: str = "21:00-08:00"  # announcements and broadcasts wait; "off" for none
    # A reply not sent yet (a crash, Telegram away) is still sent this long after the turn.
    reply_fresh_seconds: float = Field(default=300.0, gt=0, le=86_400)
    # Telegram away (5xx, no connection): every sender pauses, first this long, then twice
    # as long after each failed probe call, up to the most.
    outage_pause_seconds: float = Field(default=5.0, gt=0, le=3600)
    outage_pause_most_seconds: float = Field(default=120.0, gt=0, le=3600)
    secret_key: str | None = None
    log_level: str = "INFO"
    booking_file: Path = FLOWS_DIR / "booking.yaml"
    whatsapp_api_base_url: str = "https://graph.facebook.com"
    whatsapp_api_version: str = "v25.0"  # Meta supports it until 29 July 2028
    whatsapp_phone_number_id: str | None = None
    whatsapp_access_token: str | None = None
    whatsapp_app_secret: str | None = None
    whatsapp_verify_token: str | None = None
    whatsapp_file: Path = FLOWS_DIR / "whatsapp.yaml"  # templates and short labels
    whatsapp_outbox_rate: float = Field(default=60.0, gt=0, le=1000)  # per phone number
    whatsapp_chat_gap: float = Field(default=6.0, ge=0, le=3600)  # seconds, to one user
    # Minutes the bot keeps quiet in a chat after staff wrote there from the Business app.
    whatsapp_staff_pause: float = Field(default=30.0, ge=0, le=7 * 24 * 60)

    @model_validator(mode="after")
    def whatsapp_complete(self) -> Settings:
        if self.whatsapp_access_token:
            for name in ("whatsapp_app_secret", "whatsapp_phone_number_id"):
                if not getattr(self, name):
                    raise ValueError(f"{name.upper()}: required when WHATSAPP_ACCESS_TOKEN is set")
        return self

    @field_validator(
        "telegram_bot_token",
        "webhook_url",
        "webhook_secret",
        "secret_key",
        "whatsapp_access_token",
        "whatsapp_app_secret",
        "whatsapp_verify_token",
        "whatsapp_phone_number_id",
        "metrics_token",
    )
    @classmethod
    def blank_is_none(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None

    @field_validator("log_format", mode="before")
    @classmethod
    def lower_case(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("telegram_bot_token")
    @classmethod
    def token_shape(cls, value: str | None) -> str | None:
        if value is not None and (":" not in value or not value.split(":", 1)[0].isdigit()):
            raise ValueError("expected a bot token from @BotFather, like 123456:ABC-DEF...")
        return value

    @field_validator("telegram_api_base_url", "webhook_url", "whatsapp_api_base_url")
    @classmethod
    def http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("expected an http:// or https:// URL")
        return value

    @field_validator("database_url")
    @classmethod
    def known_database(cls, value: str) -> str:
        if not value.startswith(("sqlite:", "postgresql:", "postgresql+psycopg:", "postgres:")):
            raise ValueError("expected a sqlite:///path or postgresql://user@host/db URL")
        return value

    @field_validator("staff_user_ids", mode="before")
    @classmethod
    def comma_separated_ids(cls, value: object) -> object:
        if isinstance(value, str):
            try:
                return frozenset(int(part) for part in value.split(",") if part.strip())
            except ValueError:
                raise ValueError("expected comma-separated numeric Telegram user ids") from None
        return value

    @field_validator("staff_whatsapp_ids", mode="before")
    @classmethod
    def whatsapp_ids(cls, value: object) -> object:
        """Comma-separated; a phone number keeps its digits only (+39 333 … = 39333…)."""
        if isinstance(value, str):
            parts = [part.strip() for part in value.split(",") if part.strip()]
            return frozenset(p if "." in p else "".join(filter(str.isdigit, p)) for p in parts)
        return value

    @field_validator("default_locale")
    @classmethod
    def supported_locale(cls, value: str) -> str:
        if value not in SUPPORTED_LOCALES:
            raise ValueError(f"expected one of {', '.join(SUPPORTED_LOCALES)}")
        return value

    @field_validator("timezone")
    @classmethod
    def known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("expected an IANA time zone such as Europe/Rome") from None
        return value

    @field_validator("quiet_hours")
    @classmethod
    def quiet_hours_shape(cls, value: str) -> str:
        QuietHours.parse(value)  # raises ValueError with the expected shape
        return value

    @field_validator("webhook_secret")
    @classmethod
    def webhook_secret_charset(cls, value: str | None) -> str | None:
        allowed = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
        if value is not None and (len(value) > 256 or not set(value) <= allowed):
            raise ValueError("expected 1-256 characters among A-Z, a-z, 0-9, _ and -")
        return value

    @model_validator(mode="after")
    def webhook_has_secret(self) -> Settings:
        if self.webhook_url and not self.webhook_secret:
            raise ValueError("WEBHOOK_SECRET: required when WEBHOOK_URL is set")
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def uid_domain(self) -> str:
        """The domain of calendar UIDs: CALENDAR_DOMAIN, else the webhook's host."""
        webhook_host = urlsplit(self.webhook_url).hostname if self.webhook_url else None
        return self.calendar_domain.strip() or webhook_host or "sportello.invalid"

    @property
    def quiet(self) -> QuietHours | None:
        return QuietHours.parse(self.quiet_hours)

    @property
    def telegram_file_url(self) -> str:
        """The Bot API's file URL, which follows from its base URL."""
        base = self.telegram_api_base_url
        return base[: -len("/bot")] + "/file/bot" if base.endswith("/bot") else base + "/file"

    def is_staff(self, user_id: int | None) -> bool:
        return user_id is not None and user_id in self.staff_user_ids

    def is_staff_sender(self, channel: str, platform_id: int | None, *ids: str) -> bool:
        """Telegram staff by numeric user id; WhatsApp staff by one of their identifiers
        (BSUID, number) in STAFF_WHATSAPP_IDS."""
        if channel == "whatsapp":
            return any(i.lstrip("+") in self.staff_whatsapp_ids for i in ids if i)
        return self.is_staff(platform_id)

    @property
    def sqlite_path(self) -> Path | None:
        prefix = "sqlite:///"
        if self.database_url.startswith(prefix) and self.database_url != "sqlite:///:memory:":
            return Path(self.database_url[len(prefix) :])
        return None


def load_settings(env_file: str | None = ".env") -> Settings:
    """Reads the settings; a wrong value raises ConfigError with one clear line."""
    try:
        return Settings(_env_file=env_file)
    except ValidationError as error:
        raise ConfigError(describe(error)) from None


def describe(error: ValidationError) -> str:
    first = error.errors()[0]
    reason = str(first["msg"]).removeprefix("Value error, ")
    if not first["loc"]:
        return reason  # a rule across variables names them itself
    return f"{str(first['loc'][0]).upper()}: {reason}"
