"""WhatsApp users as WhatsApp names them since 2026: a business-scoped user id (BSUID) in every
message, the phone number only when the user shares it, and the link between the two."""

from __future__ import annotations

import asyncio
import json

import pytest
from sqlalchemy import func, select

from bot.app import App
from bot.channels.whatsapp.identity import WhatsAppId, sender_id, user_key, who
from bot.delivery import outbox
from bot.storage.models import User, WhatsAppContact, WhatsAppSent
from bot.values.markup import text
from bot.values.messages import Address, Delivery, Reply
from tests.booking_world import Clock
from tests.fake_whatsapp import FakeWhatsApp, handled, phone, wamid

ANNA, ANNA_BSUID = "393331234567", "IT.1502576394655843"
NEW_NUMBER, NEW_BSUID = "393339998877", "IT.9988776655443322"
NINA_BSUID = "IT.77000111222333"


@pytest.fixture
def app(wa_app: App) -> App:
    return wa_app


def contacts(app: App) -> list[tuple[str, str | None, str | None, str | None]]:
    with app.database.transaction() as session:
        rows = session.execute(
            select(User.external_id, WhatsAppContact.bsuid, WhatsAppContact.phone, User.name)
            .join(WhatsAppContact, WhatsAppContact.user_id == User.id)
            .order_by(User.id)
        )
        return [(key, bsuid, number, name) for key, bsuid, number, name in rows]


@pytest.mark.parametrize(
    ("message", "card", "expected"),
    [
        ({"from": ANNA}, {"wa_id": ANNA}, WhatsAppId(ANNA)),
        (
            {"from": ANNA, "from_user_id": ANNA_BSUID},
            {"wa_id": ANNA, "user_id": ANNA_BSUID, "profile": {"username": "@anna"}},
            WhatsAppId(ANNA, ANNA_BSUID, "@anna"),
        ),
        ({"from_user_id": ANNA_BSUID}, None, WhatsAppId(None, ANNA_BSUID)),
        ({}, {"user_id": ANNA_BSUID}, WhatsAppId(None, ANNA_BSUID)),
    ],
)
def test_who_sent_a_message(
    message: dict[str, str], card: dict[str, object] | None, expected: WhatsAppId
) -> None:
    assert sender_id(message, card) == expected


def test_keys_and_addresses() -> None:
    assert WhatsAppId(ANNA, ANNA_BSUID).key == ANNA_BSUID  # a new user: keyed by the BSUID
    assert WhatsAppId(ANNA, ANNA_BSUID).address == ANNA  # but written to by number
    assert WhatsAppId(None, ANNA_BSUID).address == ANNA_BSUID
    long = "IT." + "7" * 128
    assert len(user_key(long)) == 64 and user_key(long) == user_key(long)
    assert who({"recipient_user_id": ANNA_BSUID}) == ANNA_BSUID


async def test_seen_first_by_number_then_by_bsuid_stays_one_user(
    wa: FakeWhatsApp, app: App
) -> None:
    anna = phone(wa, app, ANNA, "Anna Rossi")  # before April 2026: a number only
    [greeting] = await anna.says("ciao")
    assert greeting.text.startswith("*Ciao Anna!*")
    with_bsuid = phone(wa, app, ANNA, "Anna Rossi", user_id=ANNA_BSUID)
    with_bsuid.read = anna.read  # the same phone
    [menu] = await with_bsuid.says("menu")  # the same user: a menu, no greeting
    assert not menu.text.startswith("*Ciao Anna!*")
    anna.read = with_bsuid.read
    assert contacts(app) == [(ANNA, ANNA_BSUID, ANNA, "Anna Rossi")]
    hidden = phone(wa, app, "", "Anna Rossi", user_id=ANNA_BSUID, username="@anna")
    await hidden.says("menu")  # she took a username: her number no longer comes
    assert anna.new()[-1].kind == "interactive:list"  # still written to by her known number
    assert contacts(app) == [(ANNA, ANNA_BSUID, ANNA, "Anna Rossi")]


async def test_a_new_number_moves_the_link(wa: FakeWhatsApp, app: App) -> None:
    anna = phone(wa, app, ANNA, "Anna Rossi", user_id=ANNA_BSUID)
    await anna.says("ciao")
    system = {
        "from": ANNA,
        "id": wamid(),
        "timestamp": "1",
        "type": "system",
        "system": {
            "body": f"User Anna Rossi changed from {ANNA} to {NEW_NUMBER}",
            "wa_id": NEW_NUMBER,
            "user_id": NEW_BSUID,
            "type": "user_changed_number",
        },
    }
    assert await wa.notify({"messages": [system]}) == 200
    await handled(app, system["id"])
    assert contacts(app) == [(ANNA_BSUID, NEW_BSUID, NEW_NUMBER, "Anna Rossi")]
    moved = phone(wa, app, NEW_NUMBER, "Anna Rossi", user_id=NEW_BSUID)  # a new phone
    [menu] = await moved.says("menu")
    assert not menu.text.startswith("*Ciao Anna!*")  # known: no second greeting
    assert len(contacts(app)) == 1


async def test_statuses_by_bsuid_reach_the_outbox_row(
    wa: FakeWhatsApp, app: App, clock: Clock
) -> None:
    nina = phone(wa, app, "", "Nina", user_id=NINA_BSUID, username="@nina")
    await nina.says("ciao")
    wa.statuses = True
    delivery = Delivery(Address("whatsapp", NINA_BSUID), Reply(text("Novità")), kind="broadcast")
    with app.database.transaction() as session:
        outbox.enqueue(session, delivery, clock())
    await app.outbox.drain()
    for _ in range(400):
        with app.database.transaction() as session:
            if session.scalars(select(WhatsAppSent.status)).all() == ["delivered"]:
                break
        await asyncio.sleep(0.01)
    else:
        raise AssertionError("no delivered status")
    assert nina.new()[-1].text == "Novità"
    sent = [m for m, address in wa.ids.items() if address == NINA_BSUID]
    assert "recipient_user_id" in wa.status(sent[-1], "read")["statuses"][0]


async def test_my_data_and_erasure_cover_the_whatsapp_identifiers(
    wa: FakeWhatsApp, app: App
) -> None:
    nina = phone(wa, app, "", "Nina", user_id=NINA_BSUID, username="@nina.valli")
    await nina.says("ciao")
    [document] = [m for m in await nina.says("/miei_dati") if m.kind == "document"]
    _name, _mime, content = wa.media[document.body["document"]["id"]]
    [row] = json.loads(content)["tables"]["whatsapp_contacts"]
    assert (row["bsuid"], row["username"], row["phone"]) == (NINA_BSUID, "@nina.valli", None)
    await nina.says("/cancella")
    await nina.taps("🗑 Sì, cancella tutto")
    with app.database.transaction() as session:
        assert session.scalar(select(func.count()).select_from(WhatsAppContact)) == 0
