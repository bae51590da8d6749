"""Staff on WhatsApp (STAFF_WHATSAPP_IDS): staff commands, booking cards and alerts reach them
there, and an operator takes a call from the card."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from bot.app import App
from bot.config import Settings
from bot.delivery.alerts import nowhere_to_go, staff_addresses
from bot.storage.models import Booking
from bot.values.messages import Address
from tests.booking_world import ADA, BOOKING_FILE, Clock
from tests.fake_whatsapp import FakeWhatsApp, Phone, on_whatsapp, phone
from tests.settings import make_settings
from tests.test_whatsapp_flows import book_until_the_number

ANNA, ADA_ON_WHATSAPP = "393331234567", "393470000001"
ON_WHATSAPP = {"whatsapp_access_token": "t", "whatsapp_app_secret": "s"}


@pytest.fixture
async def app(wa: FakeWhatsApp, database_url: str, clock: Clock) -> AsyncIterator[App]:
    staff = {"staff_user_ids": frozenset({ADA}), "staff_whatsapp_ids": frozenset({ADA_ON_WHATSAPP})}
    async with on_whatsapp(wa, database_url, clock, booking_file=BOOKING_FILE, **staff) as app:
        yield app


@pytest.fixture
async def ada(wa: FakeWhatsApp, app: App) -> Phone:
    ada = phone(wa, app, ADA_ON_WHATSAPP, "Ada")
    await ada.says("ciao")  # her 24-hour window opens: free-form notices reach her
    ada.new()
    return ada


async def test_an_operator_on_whatsapp_takes_a_booking_card(
    ada: Phone, wa: FakeWhatsApp, app: App
) -> None:
    anna = phone(wa, app, ANNA, "Anna Rossi")
    await anna.says("ciao")
    await book_until_the_number(anna)
    for label in ("📱 Usa +39 333 123 4567", "Nessuna nota", "✅ Conferma"):
        await anna.taps(label)
    await app.outbox.drain()
    await wa.received(ADA_ON_WHATSAPP, ada.read + 1)
    [card] = ada.new()
    assert "Anna Rossi" in card.text
    assert card.kind == "interactive:list"  # four buttons: a list, within WhatsApp's limits
    assert "🙋 La prendo io" in card.labels
    [taken] = await ada.taps("🙋 La prendo io")
    assert "🙋 La prendo io" in taken.labels  # the card again, now hers
    with app.database.transaction() as session:
        booking = session.scalars(select(Booking)).one()
        assert (booking.operator_id, booking.taken_by) == (ADA, ADA)


async def test_staff_commands_work_on_whatsapp_for_staff_only(
    ada: Phone, wa: FakeWhatsApp, app: App
) -> None:
    [commands] = await ada.says("/staff")
    assert "/agenda" in commands.text
    anna = phone(wa, app, ANNA, "Anna Rossi")
    await anna.says("ciao")
    [refused] = await anna.says("/staff")
    assert "/agenda" not in refused.text


@pytest.mark.parametrize(
    ("settings", "addresses"),
    [
        ({"staff_whatsapp_ids": "+39 347 000 0001"}, [Address("whatsapp", ADA_ON_WHATSAPP)]),
        (
            {"staff_chat_id": -100, "staff_whatsapp_ids": "IT.15025,393470000001"},
            [
                Address("telegram", "-100"),
                Address("whatsapp", "393470000001"),
                Address("whatsapp", "IT.15025"),
            ],
        ),
        ({"staff_user_ids": "7"}, [Address("telegram", "7")]),
    ],
)
def test_staff_notices_go_to_telegram_and_whatsapp(
    settings: dict[str, object], addresses: list[Address]
) -> None:
    assert staff_addresses(Settings(_env_file=None, **settings)) == addresses  # type: ignore[call-arg, arg-type]


@pytest.mark.parametrize(
    ("settings", "warned"),
    [
        ({}, False),  # the terminal chat: no staff notices anyway
        ({"whatsapp_access_token": "t", "whatsapp_app_secret": "s"}, True),
        ({"whatsapp_access_token": "t", "whatsapp_app_secret": "s", "staff_user_ids": "7"}, True),
        (
            {"whatsapp_access_token": "t", "whatsapp_app_secret": "s", "staff_whatsapp_ids": "1"},
            False,
        ),
        ({"telegram_bot_token": "1:a", "staff_user_ids": "7"}, False),
        ({"telegram_bot_token": "1:a", "staff_user_ids": frozenset()}, True),
    ],
)
def test_start_up_warns_when_staff_notices_have_nowhere_to_go(
    settings: dict[str, object], warned: bool
) -> None:
    values = {"staff_user_ids": frozenset(), **settings}
    assert (nowhere_to_go(make_settings("sqlite://", **values)) is not None) is warned
