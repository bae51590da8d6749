"""Webhook bodies: a size limit while reading (413), bounded JSON depth (400), the secret or
signature checked before parsing; on both webhooks, through the real server."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import AsyncIterator

import httpx
import pytest

from bot.app import App
from bot.channels.webhook_body import NotJson, depth, parse_json
from tests.booking_world import Clock
from tests.bot_runner import running_bot, telegram_settings
from tests.fake_telegram import FakeTelegram
from tests.fake_whatsapp import APP_SECRET, FakeWhatsApp, free_port
from tests.settings import make_settings

SECRET = "s3cr3t-token"


@pytest.mark.parametrize(
    ("value", "expected"),
    [(1, 0), ([], 1), ({"a": [1, {"b": []}]}, 4), ([[[[]]]], 4), ({"a": 1, "b": {"c": 2}}, 2)],
)
def test_depth(value: object, expected: int) -> None:
    assert depth(value) == expected


@pytest.mark.parametrize("raw", [b"[" * 100_000, b"[" * 65 + b"]" * 65, b"{", b"\xff", b""])
def test_deep_or_broken_json_is_refused_without_a_traceback(raw: bytes) -> None:
    with pytest.raises(NotJson):
        parse_json(raw)


def signed(raw: bytes) -> dict[str, str]:
    digest = hmac.new(APP_SECRET.encode(), raw, hashlib.sha256).hexdigest()
    return {"X-Hub-Signature-256": f"sha256={digest}", "Content-Type": "application/json"}


async def chunks(total: int, size: int = 1 << 16) -> AsyncIterator[bytes]:
    """A body streamed without Content-Length."""
    sent = 0
    while sent < total:
        yield b" " * size
        sent += size


@pytest.fixture
async def whatsapp(wa: FakeWhatsApp, database_url: str, clock: Clock) -> AsyncIterator[App]:
    settings = make_settings(
        database_url,
        quiet_hours="off",
        whatsapp_webhook_max_bytes=64_000,
        **wa.settings(free_port()),
    )
    async with running_bot(settings, clock) as running:
        yield running


async def test_whatsapp_refuses_big_unsigned_and_deep_bodies(
    wa: FakeWhatsApp, whatsapp: App
) -> None:
    deep = b"[" * 5000 + b"]" * 5000
    async with httpx.AsyncClient(timeout=30) as http:
        unsigned = await http.post(wa.webhook_url, content=chunks(50_000_000))
        big = await http.post(wa.webhook_url, content=b"{}" * 40_000, headers=signed(b"x"))
        streamed = await http.post(wa.webhook_url, content=chunks(50_000_000), headers=signed(b"x"))
        nested = await http.post(wa.webhook_url, content=deep, headers=signed(deep))
        forged = await http.post(wa.webhook_url, content=deep, headers=signed(b"other"))
    assert unsigned.status_code == 403  # refused before a byte of it is read
    assert big.status_code == 413 and streamed.status_code == 413
    assert nested.status_code == 400 and forged.status_code == 403


async def test_telegram_refuses_big_and_deep_bodies_after_the_secret(
    database_url: str,
) -> None:
    port = free_port()
    async with FakeTelegram() as tg:
        settings = telegram_settings(
            tg,
            database_url,
            webhook_url=f"http://127.0.0.1:{port}/telegram",
            webhook_secret=SECRET,
            webhook_max_bytes=64_000,
            port=port,
        )
        async with running_bot(settings), httpx.AsyncClient(timeout=30) as http:
            url = f"http://127.0.0.1:{port}/telegram"
            right = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
            wrong = {"X-Telegram-Bot-Api-Secret-Token": "guess"}
            forged = await http.post(url, content=chunks(50_000_000), headers=wrong)
            big = await http.post(url, content=chunks(50_000_000), headers=right)
            nested = await http.post(url, content=b"[" * 5000 + b"]" * 5000, headers=right)
            junk = await http.post(url, content=b"not json", headers=right)
            fine = await http.get(f"http://127.0.0.1:{port}/healthz")
        assert forged.status_code == 403 and big.status_code == 413
        assert nested.status_code == 400 and junk.status_code == 400
        assert fine.status_code == 200
        tg.assert_no_rejections()
