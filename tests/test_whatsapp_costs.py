"""What a broadcast costs on WhatsApp, before and after sending: recipients inside the 24-hour
window (free), those needing a template (by category), those skipped for lack of one, and the
estimate from the price table in the WhatsApp file."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest

from bot.app import App
from bot.delivery.whatsapp_costs import OTHER, Prices
from tests.booking_world import Clock
from tests.desk_chat import Person, text_of
from tests.events_chat import create_event
from tests.fake_whatsapp import FakeWhatsApp, on_whatsapp, phone
from tests.test_whatsapp_flows import subscribe

GIULIA = "393470000009"  # staff, on WhatsApp
PLAN = """
templates:
  broadcast:
    category: marketing
    it: {name: sportello_avviso, language: it, params: [title]}
prices:
  date: "2026-12-01"
  source: "the test's own table"
  examples: false
  currency: EUR
  countries:
    IT: {prefix: "39", marketing: 0.05, utility: 0.02}
    other: {marketing: 0.08, utility: 0.03}
"""
PRICES = Prices(
    rates={"IT": {"marketing": Decimal("0.05")}, OTHER: {"marketing": Decimal("0.08")}},
    prefixes={"39": "IT", "1": "US", "1242": "BS"},
)


@pytest.mark.parametrize(
    ("phone_number", "bsuid", "country", "price"),
    [
        ("393331234567", None, "IT", Decimal("0.05")),
        ("12425551234", None, "BS", Decimal("0.08")),  # the longest calling code wins
        ("15551234567", None, "US", Decimal("0.08")),  # no row of its own: "other"
        (None, "IT.1502576394655843", "IT", Decimal("0.05")),  # no number: the BSUID's country
        (None, None, OTHER, Decimal("0.08")),
    ],
)
def test_the_country_and_price_of_a_recipient(
    phone_number: str | None, bsuid: str | None, country: str, price: Decimal
) -> None:
    assert PRICES.country(phone_number, bsuid) == country
    assert PRICES.price("marketing", country) == price


@pytest.fixture
async def app(
    wa: FakeWhatsApp, database_url: str, clock: Clock, tmp_path: Path
) -> AsyncIterator[App]:
    plan = tmp_path / "whatsapp.yaml"
    plan.write_text(PLAN, encoding="utf-8")
    staff = {"staff_whatsapp_ids": frozenset({GIULIA})}
    async with on_whatsapp(wa, database_url, clock, whatsapp_file=plan, **staff) as app:
        yield app


async def test_the_broadcast_preview_and_report_show_whatsapp_costs(
    wa: FakeWhatsApp, app: App, clock: Clock
) -> None:
    subscribers = [
        phone(wa, app, "393331234567", "Anna"),
        phone(wa, app, "393337654321", "Bruno"),
        phone(wa, app, "393338888888", "Carla"),
        phone(wa, app, "393339999999", "Bob"),
        phone(wa, app, "", "Nina", user_id="IT.77001", username="@nina"),  # no number
    ]
    for person in subscribers:
        await person.says("ciao")
        await subscribe(person)
    for person, language in ((subscribers[3], "English"), (subscribers[4], "Français")):
        await person.goes("/lingua", language)  # no English or French template here
    clock.advance(hours=25)  # every window closed...
    await subscribers[0].says("grazie!")  # ... but Anna's, who just wrote
    giulia = phone(wa, app, GIULIA, "Giulia")
    await giulia.says("ciao")
    await giulia.says("/broadcast")
    await giulia.says("Nuovo bando per le mutue: scadenza 30 aprile.")
    await giulia.taps("Avanti")
    _preview, note = await giulia.taps("Avanti")
    assert "Destinatari: 5 iscritti." in note.text
    assert (
        "📱 WhatsApp: 1 nella finestra di 24 ore (gratis), 2 con modello marketing, "
        "0 con modello utility, 2 saltati"
    ) in note.text
    assert "Costo stimato: 0,1 EUR (prezzi del 2026-12-01; fonte: the test's own table)." in (
        note.text
    )
    assert "Prezzi d'esempio" not in note.text
    await giulia.taps("📣 Invia")
    await app.announcer.run()
    await app.outbox.drain()
    await app.announcer.run()  # everything out: the report
    await app.outbox.drain()
    await wa.received(GIULIA, giulia.read + 1)
    report = giulia.new()[-1]
    assert "Invio finito" in report.text
    assert "1 nella finestra di 24 ore (gratis), 2 con modello marketing" in report.text
    assert "Costo stimato: 0,1 EUR" in report.text


async def test_the_announcement_preview_shows_whatsapp_costs_too(
    wa: FakeWhatsApp, app: App, clock: Clock
) -> None:
    anna, bruno = phone(wa, app, "393331234567", "Anna"), phone(wa, app, "393337654321", "Bruno")
    for person in (anna, bruno):
        await person.says("ciao")
        await subscribe(person)
    clock.advance(hours=25)
    await anna.says("ci sono")  # Anna inside the window; Bruno outside, and no event template
    staff = Person(app.desk, "4242", "Staff")
    create_event(staff)
    review = [text_of(m) for a in staff.answers for m in a.replies if "Anteprima" in text_of(m)]
    assert "📱 WhatsApp: 1 nella finestra di 24 ore (gratis), 0 con modello marketing" in review[-1]
    assert "1 saltati" in review[-1]
