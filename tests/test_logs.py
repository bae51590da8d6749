"""Logs: a whole booking on Telegram leaves no phone number and no bot token in them, even at
DEBUG; JSON lines for machines."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from bot.cli import secrets
from bot.ops import logs
from bot.ops.logs import Redactor
from tests.booking_world import Clock, booking_settings
from tests.bot_runner import running_bot
from tests.fake_telegram import FakeTelegram
from tests.test_booking_telegram import STAFF_GROUP
from tests.test_booking_telegram import (
    test_a_callback_booked_handled_and_reminded_on_telegram as a_booking_on_telegram,
)

TOKEN = "123456789:AAE-sportelloTestTokenWith35Chars_xyz"


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "POST https://api.telegram.org/bot123456:" + "A" * 35 + "/getMe",
            "POST https://api.telegram.org/bot[redacted]/getMe",
        ),
        ("Grazie, ti chiameremo al +39 333 123 4567.", "Grazie, ti chiameremo al [redacted]."),
        ("wa_id +393331234567 wrote", "wa_id [redacted] wrote"),
        (
            "{'phone_number': '393331234567', 'user_id': 3001}",
            "{'phone_number': '[redacted]', 'user_id': 3001}",
        ),
        ("outbox reminder:booking:12: sent", "outbox reminder:booking:12: sent"),
        ("leader: 3 of +5 instances", "leader: 3 of +5 instances"),
        ("secret s3cr3t-webhook in a line", "secret [redacted] in a line"),
    ],
)
def test_what_is_blanked(line: str, expected: str) -> None:
    assert Redactor(["s3cr3t-webhook", None, ""])(line) == expected


async def test_a_whole_booking_logs_no_phone_and_no_token(
    database_url: str, clock: Clock, restore_logging: None
) -> None:
    captured = io.StringIO()
    async with FakeTelegram(token=TOKEN) as tg:
        settings = booking_settings(
            database_url,
            telegram_bot_token=tg.token,
            telegram_api_base_url=tg.base_url,
            staff_chat_id=STAFF_GROUP,
        )
        logs.configure("DEBUG", "text", secrets(settings), captured)
        async with running_bot(settings, clock) as app:
            await a_booking_on_telegram(tg, app, clock)
    text = captured.getvalue()
    assert "sendMessage" in text  # python-telegram-bot's DEBUG lines are there, and blanked
    assert TOKEN not in text and TOKEN.split(":")[1] not in text
    for phone in ("393331234567", "+39 333 123 4567", "3331234567"):
        assert phone not in text
    above_debug = [line for line in text.splitlines() if " DEBUG " not in line]
    assert not [line for line in above_debug if "Anna" in line or "Rossi" in line]


def test_json_lines_for_machines(restore_logging: None) -> None:
    captured = io.StringIO()
    logs.configure("INFO", "json", [TOKEN], captured)
    logging.getLogger("bot.test").warning("token %s for +39 333 123 4567", TOKEN)
    line = json.loads(captured.getvalue())
    assert line["level"] == "WARNING" and line["logger"] == "bot.test"
    assert line["message"] == "token [redacted] for [redacted]"
