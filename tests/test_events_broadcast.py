"""/broadcast: a one-off message to a segment, a preview, a count, a second confirmation."""

from __future__ import annotations

import pytest

from bot.app import features
from bot.core.desk import Desk as Core
from bot.events.config import load_events_config
from tests.desk_chat import Person
from tests.events_chat import Desk, make_desk, subscribe


@pytest.fixture
def desk(database_url: str) -> Desk:
    return make_desk(database_url)


def write_broadcast(staff: Person, text: str, interest: str | None = None) -> list[str]:
    staff.send("/broadcast")
    staff.send(text)
    if interest:
        staff.press("Tutti gli argomenti")  # off: only the chosen topic
        staff.press(interest)
    staff.press("Avanti")
    return staff.press("Avanti")  # every territory


async def test_a_broadcast_goes_to_the_segment_with_progress_and_report(desk: Desk) -> None:
    anna, bruno = desk.person("7"), desk.person("8", "Bruno")
    subscribe(anna, ["Pinerolo"], ["Fondi sanitari e mutue"])
    subscribe(bruno, ["Val Chisone"], ["Ambiente e comunità energetiche"])
    staff = desk.person("4242", "Staff")
    preview, count = write_broadcast(
        staff, "Nuovo bando per le mutue: scadenza 30 aprile.", "Fondi sanitari"
    )
    assert "📣 Società Mutua Piemonte" in preview and "scadenza 30 aprile" in preview
    assert "Destinatari: 1 iscritto." in count
    [sending] = staff.press("Invia")
    assert "in invio a 1 iscritto." in sending
    await desk.tick()
    [message] = desk.received(anna)
    assert "scadenza 30 aprile" in message and "/disiscriviti" in message
    assert desk.received(bruno) == []
    [report] = desk.received(staff)
    assert "Inviato 1 di 1" in report
    [progress] = staff.press("Avanzamento")
    assert "Inviato 1 di 1" in progress


async def test_above_the_threshold_a_second_confirmation(desk: Desk) -> None:
    app = desk.app
    config = load_events_config().model_copy(update={"broadcast_confirm_above": 1})
    small = Core(
        app.settings,
        app.database,
        app.desk.signer,
        features(app.library, app.survey, app.booking, config),
        desk.clock,
    )
    for user_id in ("7", "8"):
        subscribe(Person(small, user_id), ["Pinerolo"], ["Tutti gli argomenti"])
    staff = Person(small, "4242", name="Staff")
    write_broadcast(staff, "Assemblea dei soci il 20 aprile.")
    [again] = staff.press("Invia")
    assert "Stai per scrivere a 2 persone" in again
    [sending] = staff.press("Sì, invia a 2 persone")
    assert "in invio a 2 iscritti" in sending
    await desk.tick()
    assert len(desk.received(Person(small, "7"))) == 1


def test_nobody_to_write_to(desk: Desk) -> None:
    staff = desk.person("4242", "Staff")
    write_broadcast(staff, "Prova.")
    assert staff.press("Invia") == []
    assert staff.answers[-1].notice is not None and "Nessun iscritto" in staff.answers[-1].notice


async def test_every_territory_is_one_tick_like_every_topic(desk: Desk) -> None:
    staff = desk.person("4242", "Staff")
    staff.send("/broadcast")
    staff.send("Chiusura estiva dal 10 al 20 agosto.")
    assert "✅ Tutti gli argomenti" in staff.labels
    staff.press("Avanti")
    assert "✅ Tutti i territori" in staff.labels
    staff.press("Tutti i territori")  # off: then one territory
    assert "▫️ Tutti i territori" in staff.labels and "▫️ Pinerolo" in staff.labels
    staff.press("Pinerolo")
    [count] = staff.press("Avanti")[1:]
    assert "Destinatari: 0 iscritti." in count


async def test_a_broadcast_in_the_quiet_hours_says_when_it_will_go(desk: Desk) -> None:
    anna = desk.person("7")
    subscribe(anna, ["Pinerolo"], ["Fondi sanitari e mutue"])
    desk.clock.now = desk.clock.now.replace(hour=5)  # 06:00 in Rome
    staff = desk.person("4242", "Staff")
    write_broadcast(staff, "Nuovo bando per le mutue.")
    [sending] = staff.press("Invia")
    assert "in invio a 1 iscritto. " in sending
    assert "Sono le ore di quiete: l'invio partirà alle 08:00." in sending
