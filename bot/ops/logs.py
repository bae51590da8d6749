"""Log lines for people (text) or machines (JSON), with secrets and phone numbers blanked.

Redaction happens on the formatted line, traceback included, so it also covers the lines of
libraries: python-telegram-bot and httpx print the Bot API URL, token inside, at DEBUG.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TextIO

# A Telegram bot token (digits, colon, 35 URL-safe characters) and E.164-looking numbers.
BOT_TOKEN = re.compile(r"(?<!\d)\d{5,}:[A-Za-z0-9_-]{30,}")
PHONE = re.compile(r"(?<![\w+])\+\d[\d ]{6,16}\d\b")
PHONE_FIELD = re.compile(r"(phone_number\W{1,4})\+?\d[\d ]{5,18}\d")  # Telegram's contacts
HIDDEN = "[redacted]"
QUIET_LIBRARIES = ("httpx", "apscheduler", "alembic.runtime.migration")


class Redactor:
    """Blanks the given secrets, anything shaped like a bot token, and phone numbers."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        self.secrets = sorted({s for s in secrets if s and len(s) >= 6}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, HIDDEN)
        text = PHONE_FIELD.sub(rf"\g<1>{HIDDEN}", BOT_TOKEN.sub(HIDDEN, text))
        return PHONE.sub(HIDDEN, text)


class TextFormatter(logging.Formatter):
    def __init__(self, redact: Redactor) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")
        self.redact = redact

    def format(self, record: logging.LogRecord) -> str:
        return self.redact(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message (and the traceback, if any)."""

    def __init__(self, redact: Redactor) -> None:
        super().__init__()
        self.redact = redact

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": self.redact(record.getMessage()),
        }
        if record.exc_info:
            line["traceback"] = self.redact(self.formatException(record.exc_info))
        return json.dumps(line, ensure_ascii=False)


def configure(
    level: str,
    log_format: str = "text",
    secrets: Iterable[str | None] = (),
    stream: TextIO | None = None,
) -> logging.Handler:
    """Replaces the root logger's handlers with one redacting handler on `stream`."""
    redact = Redactor(secrets)
    handler = logging.StreamHandler(stream or sys.stderr)
    json_lines = log_format == "json"
    handler.setFormatter(JsonFormatter(redact) if json_lines else TextFormatter(redact))
    root = logging.getLogger()
    for old in root.handlers[:]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    if root.level > logging.DEBUG:  # their INFO lines are one per request
        for noisy in QUIET_LIBRARIES:
            logging.getLogger(noisy).setLevel(logging.WARNING)
    return handler
