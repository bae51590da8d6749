"""Queued messages on WhatsApp: the 24-hour window, templates, rate limits, status callbacks."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from bot.app import App
from bot.delivery import outbox
from bot.storage.models import OutboxMessage, WhatsAppSent
from bot.values.markup import text
from bot.values.messages import Address, Delivery, Reply
from tests.booking_world import Clock
from tests.fake_whatsapp import FakeWhatsApp, Phone, on_whatsapp, phone

ANNA, BOB = "393331234567", "447700900123"
NEWS = "📣 Seminario: welfare aziendale 2027\nGiovedì alle 18:30, sala consiliare."


@pytest.fixture
async def app(wa: FakeWhatsApp, database_url: str, clock: Clock) -> AsyncIterator[App]:
    async with on_whatsapp(wa, database_url, clock) as running:
        yield running


@pytest.fixture
async def anna(wa: FakeWhatsApp, app: App) -> Phone:
    anna = phone(wa, app, ANNA, "Anna Rossi")
    await anna.says("ciao")
    anna.new()
    return anna


def queue(app: App, clock: Clock, to: str, kind: str, body: str = NEWS) -> None:
    delivery = Delivery(Address("whatsapp", to), Reply(text(body)), kind=kind, batch="news")
    with app.database.transaction() as session:
        outbox.enqueue(session, delivery, clock())


def states(app: App) -> list[tuple[str, str, str | None]]:
    with app.database.transaction() as session:
        rows = session.execute(
            select(OutboxMessage.kind, OutboxMessage.state, OutboxMessage.last_error).order_by(
                OutboxMessage.id
            )
        )
        return [(kind, state, error) for kind, state, error in rows]


async def until(check: object, app: App) -> None:
    for _ in range(400):
        if check():  # type: ignore[operator]
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"still {states(app)}")


async def test_inside_the_window_a_free_form_message(anna: Phone, app: App, clock: Clock) -> None:
    clock.advance(hours=23)
    queue(app, clock, ANNA, "announcement")
    await app.outbox.drain()  # or the periodic drain, if it was running: either sends it
    await until(lambda: states(app)[0][1] == "sent", app)
    [news] = anna.new()
    assert news.kind == "text" and news.text.startswith("📣 Seminario")


async def test_outside_the_window_a_template_or_nothing(
    anna: Phone, wa: FakeWhatsApp, app: App, clock: Clock
) -> None:
    bob = phone(wa, app, BOB, "Bob")  # +44: English
    await bob.says("hello")
    bob.new()
    clock.advance(hours=25)
    queue(app, clock, ANNA, "broadcast")
    queue(app, clock, BOB, "broadcast")
    queue(app, clock, ANNA, "alert")  # a kind with no template: skipped, never a bad request
    await app.outbox.drain()
    [template] = anna.new()
    assert template.body["template"]["name"] == "sportello_avviso"
    assert template.text == "📣 Seminario: welfare aziendale 2027"  # the title, one line
    [english] = bob.new()
    assert english.body["template"]["language"]["code"] == "en"
    assert [state for _, state, _ in states(app)] == ["sent", "sent", "skipped"]
    with app.database.transaction() as session:
        done = outbox.progress(session, "news")
    assert (done.total, done.sent, done.skipped, done.waiting) == (3, 2, 1, 0)
    await anna.says("grazie, mi interessa")  # the window opens again: free form
    queue(app, clock, ANNA, "broadcast", "Di nuovo libero")
    await app.outbox.drain()
    assert anna.new()[-1].text == "Di nuovo libero"


async def test_re_engagement_error_131047_skips_the_row(
    anna: Phone, wa: FakeWhatsApp, app: App, clock: Clock
) -> None:
    wa.window = clock.now - clock.now  # WhatsApp thinks the window closed; Sportello does not
    clock.advance(hours=2)
    queue(app, clock, ANNA, "announcement")
    await app.outbox.drain()
    await until(lambda: states(app)[0][1] == "skipped", app)
    assert "131047" in str(states(app)[0][2])
    assert anna.new() == []


async def test_rate_limit_errors_back_off_and_lose_nothing(
    anna: Phone, wa: FakeWhatsApp, app: App, clock: Clock
) -> None:
    wa.failures = [130429]  # too many messages from this number
    queue(app, clock, ANNA, "announcement")
    await app.outbox.drain()
    await until(lambda: states(app)[0][1] == "sent", app)  # paused, then sent
    wa.failures = [131056]  # too many to this user: only this chat waits
    queue(app, clock, ANNA, "reminder", "Promemoria")
    await app.outbox.drain()
    await until(lambda: states(app)[1][2] is not None, app)
    assert states(app)[1][1] == "queued"
    clock.advance(seconds=10)
    await app.outbox.drain()
    await until(lambda: states(app)[1][1] == "sent", app)
    assert [m.text for m in anna.new()] == [NEWS, "Promemoria"]


async def test_status_callbacks_update_the_row(
    anna: Phone, wa: FakeWhatsApp, app: App, clock: Clock
) -> None:
    wa.statuses = True
    queue(app, clock, ANNA, "announcement")
    await app.outbox.drain()

    def delivered() -> bool:
        with app.database.transaction() as session:
            return session.scalars(select(WhatsAppSent.status)).all() == ["delivered"]

    await until(delivered, app)
    [(wamid, recipient)] = [(k, v) for k, v in wa.ids.items() if v == ANNA][-1:]
    assert recipient == ANNA
    assert await wa.notify(wa.status(wamid, "failed", 131026)) == 200  # undeliverable
    await until(lambda: states(app)[0][1] == "failed", app)
