"""Export and erasure walk one registry, and no table holding user data escapes it."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select

from bot.config import Settings
from bot.delivery import outbox
from bot.delivery.scheduler import Housekeeping
from bot.storage import personal_data
from bot.storage.models import Base, User
from bot.values.markup import text
from bot.values.messages import Address, Delivery, Reply
from tests.desk_chat import Person, make_app


def references_to_users() -> set[tuple[str, str]]:
    """Every column of the schema that points at users.id, as (table, column)."""
    return {
        (table.name, column.name)
        for table in Base.metadata.sorted_tables
        for column in table.columns
        if any(fk.column.table.name == "users" for fk in column.foreign_keys)
    }


def test_every_table_is_either_registered_or_declared_not_personal() -> None:
    registered = {entry.name for entry in personal_data.tables()}
    for table in Base.metadata.tables:
        assert table in registered or table in personal_data.NOT_PERSONAL, (
            f"table {table} holds data: register it in bot/personal_data.py or say why not"
        )
    walked = {(entry.name, entry.user_column) for entry in personal_data.tables()}
    assert references_to_users() <= walked


def used_desk(settings: Settings) -> tuple[Person, Person]:
    """Two people who used everything: consent, language, a pending message."""
    app = make_app(settings)
    anna, bruno = Person(app.desk, "7"), Person(app.desk, "8", name="Bruno")
    for person in (anna, bruno):
        person.send("/start")
        person.press("Questionario")
        person.press("Accetto")
        person.send("/lingua")
        person.press("English")
    with app.database.transaction() as session:
        for chat in ("7", "8"):
            delivery = Delivery(Address("telegram", chat), Reply(text("promemoria")))
            outbox.enqueue(session, delivery, app.desk.clock())
    return anna, bruno


def rows_of(settings: Settings, user_id: int) -> dict[str, int]:
    from bot.storage.db import Database

    database = Database(settings.database_url)
    counts: dict[str, int] = {}
    with database.engine.connect() as connection:
        for table, column in {*references_to_users(), ("users", "id")}:
            found = Base.metadata.tables[table]
            rows = connection.execute(select(found).where(found.c[column] == user_id)).all()
            counts[table] = counts.get(table, 0) + len(rows)
    database.dispose()
    return counts


def user_id_of(settings: Settings, external_id: str) -> int:
    from bot.storage.db import Database

    database = Database(settings.database_url)
    with database.transaction() as session:
        found = session.scalars(select(User.id).where(User.external_id == external_id)).one()
    database.dispose()
    return found


def test_my_data_sends_everything_stored_about_me(settings: Settings) -> None:
    anna, _bruno = used_desk(settings)
    anna.send("/miei_dati")
    document = anna.last
    data = json.loads(document.content)  # type: ignore[union-attr]
    assert document.filename == "sportello-miei-dati.json"  # type: ignore[union-attr]
    tables = data["tables"]
    assert set(tables) == {entry.label for entry in personal_data.tables()}
    assert tables["users"][0]["name"] == "Anna Rossi"
    assert tables["users"][0]["locale"] == "en"
    assert len(tables["consents"]) == 1
    assert len(tables["outbox"]) == 1
    assert "Bruno" not in document.content.decode()  # type: ignore[union-attr]


def test_erasure_leaves_no_row_that_refers_to_me(settings: Settings) -> None:
    anna, _bruno = used_desk(settings)
    anna_id, bruno_id = user_id_of(settings, "7"), user_id_of(settings, "8")
    assert all(rows_of(settings, anna_id)[t] >= 1 for t in ("users", "consents", "outbox"))
    anna.send("/cancella")
    replies = anna.press("Yes, delete everything")
    assert "deleted" in replies[0].lower()
    assert set(rows_of(settings, anna_id).values()) == {0}
    assert rows_of(settings, bruno_id)["consents"] == 1  # only Anna's data went


def test_a_second_tap_on_erase_does_not_erase_again(settings: Settings) -> None:
    anna, _bruno = used_desk(settings)
    anna.send("/cancella")
    anna.press("Yes, delete everything")
    again = anna.press("Yes, delete everything")  # the same old button; Anna is new now
    assert "non è più valido" in again[0]


def test_withdrawing_consent_keeps_proof_of_it(settings: Settings) -> None:
    anna, _bruno = used_desk(settings)
    anna.send("/privacy")
    anna.press("Withdraw")
    anna.press("Yes, withdraw my consent")
    anna.send("/miei_dati")
    consents = json.loads(anna.last.content)["tables"]["consents"]  # type: ignore[union-attr]
    assert consents[0]["withdrawn_at"] is not None


def test_withdrawing_consent_asks_first_and_says_what_goes(settings: Settings) -> None:
    anna, _bruno = used_desk(settings)
    anna.send("/privacy")
    [question] = anna.press("Withdraw")
    for what in ("questionnaire", "phone number", "subscription", "event invitations"):
        assert what in question
    assert anna.labels == ["Yes, withdraw my consent", "Cancel"]
    [kept] = anna.press("Cancel")
    assert "your consent stays as it was" in kept
    anna.send("/miei_dati")
    consents = json.loads(anna.last.content)["tables"]["consents"]  # type: ignore[union-attr]
    assert consents[0]["withdrawn_at"] is None


async def test_retention_erases_users_inactive_for_too_long(settings: Settings) -> None:
    app = make_app(settings)
    anna, bruno = Person(app.desk, "7"), Person(app.desk, "8")
    anna.send("ciao")
    bruno.send("ciao")
    later = app.desk.clock() + timedelta(days=2 * 365 + 40)
    app.desk.clock = lambda: later - timedelta(days=1)
    bruno.send("ci sono ancora")
    housekeeping = Housekeeping(app.database, settings.retention_months, lambda: later)
    assert await housekeeping.erase_inactive() == 1
    assert rows_of(settings, user_id_of(settings, "8"))["users"] == 1
    with app.database.transaction() as session:
        assert session.scalars(select(User.external_id)).all() == ["8"]
