"""WhatsApp's refusals: a user who stopped marketing messages (131050), Meta's per-user
marketing cap (131049), and WhatsApp's own failures (5xx) while answering."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.app import App
from bot.channels.whatsapp.api import GraphError
from bot.channels.whatsapp.delivery import worth_retrying
from bot.delivery import outbox
from bot.storage.models import Subscription
from tests.booking_world import Clock
from tests.fake_whatsapp import FakeWhatsApp, Phone, phone
from tests.test_whatsapp_flows import subscribe
from tests.test_whatsapp_outbox import queue, states, until

ANNA = "393331234567"


@pytest.fixture
async def anna(wa: FakeWhatsApp, wa_app: App) -> Phone:
    anna = phone(wa, wa_app, ANNA, "Anna Rossi")
    await anna.says("ciao")
    await subscribe(anna)
    anna.new()
    return anna


def subscribed(app: App) -> bool:
    with app.database.transaction() as session:
        return bool(session.scalars(select(Subscription.active)).one())


@pytest.mark.parametrize(
    ("status", "code", "again"),
    [(500, 131000, True), (503, 0, True), (429, 130429, True), (400, 131009, False)],
)
def test_which_refusals_are_worth_another_try(status: int, code: int, again: bool) -> None:
    assert worth_retrying(GraphError(status, code, "")) is again


async def test_131050_unsubscribes_from_announcements_only(
    anna: Phone, wa: FakeWhatsApp, wa_app: App, clock: Clock
) -> None:
    assert subscribed(wa_app)
    wa.failures = [131050]  # she stopped marketing messages from SMP
    queue(wa_app, clock, ANNA, "broadcast")
    queue(wa_app, clock, ANNA, "announcement", "Un altro avviso")
    await wa_app.outbox.drain()
    await until(lambda: not subscribed(wa_app), wa_app)
    queue(wa_app, clock, ANNA, "reminder", "Promemoria: domani alle 9 ti chiamiamo")
    await wa_app.outbox.drain()
    await until(lambda: states(wa_app)[-1][1] == "sent", wa_app)
    assert [(kind, state) for kind, state, _ in states(wa_app)] == [
        ("broadcast", "failed"),  # the queued announcement went with her subscription
        ("reminder", "sent"),  # her own booking's reminder still reaches her
    ]
    assert [m.text for m in anna.new()] == ["Promemoria: domani alle 9 ti chiamiamo"]


async def test_131050_in_a_status_notification_does_the_same(
    anna: Phone, wa: FakeWhatsApp, wa_app: App, clock: Clock
) -> None:
    queue(wa_app, clock, ANNA, "announcement")
    await wa_app.outbox.drain()
    await until(lambda: states(wa_app)[0][1] == "sent", wa_app)
    [wamid] = [m for m, address in wa.ids.items() if address == ANNA][-1:]
    assert await wa.notify(wa.status(wamid, "failed", 131050)) == 200
    await until(lambda: not subscribed(wa_app), wa_app)


async def test_131049_is_skipped_counted_and_not_tried_again(
    anna: Phone, wa: FakeWhatsApp, wa_app: App, clock: Clock
) -> None:
    wa.failures = [131049]  # Meta's cap on marketing messages to her
    calls = wa.calls
    queue(wa_app, clock, ANNA, "broadcast")
    await wa_app.outbox.drain()
    await until(lambda: states(wa_app)[0][1] == "skipped", wa_app)
    clock.advance(hours=1)
    await wa_app.outbox.drain()
    assert wa.calls == calls + 1
    assert "131049" in str(states(wa_app)[0][2])
    with wa_app.database.transaction() as session:
        assert outbox.progress(session, "news").skipped == 1
    assert subscribed(wa_app)  # a cap is not a refusal: she stays subscribed


async def test_a_reply_is_tried_again_on_5xx_never_on_4xx(anna: Phone, wa: FakeWhatsApp) -> None:
    wa.failures = [131000, 131000]  # "something went wrong", twice
    [menu] = await anna.says("menu")
    assert menu.kind == "interactive:list"
    calls = wa.calls
    wa.failures = [131009]  # a bad request: another try would be refused the same way
    assert await anna.says("menu") == []
    assert wa.calls == calls + 1
