"""Odd input never crashes a turn, and errors never put what users wrote in the log."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from bot.config import Settings
from bot.storage.db import Database
from bot.storage.models import Alert, FaqQuestion, User
from bot.storage.sql_errors import HideStatementValues, quiet_message
from bot.values.cleaning import clean
from bot.values.messages import Kind
from tests.desk_chat import Person, make_app


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("ciao\x00mondo", "ciaomondo"),
        ("riga\r\nnuova", "riga\nnuova"),
        ("tab\tok", "tab\tok"),
        ("\x1b[31mrosso\x07", "[31mrosso"),
        ("\x85\x9fC1", "C1"),
        ("rotto\ud800", "rotto"),
        ("مرحبا \u202eRTL", "مرحبا \u202eRTL"),  # right-to-left text is text
    ],
)
def test_control_characters_are_stripped(typed: str, stored: str) -> None:
    assert clean(typed) == stored


def test_a_nul_in_a_question_gets_an_answer_and_no_alert(settings: Settings) -> None:
    app = make_app(settings)
    anna = Person(app.desk, name="Anna\x00 Rossi")
    replies = anna.send("Cos'è il welfare\x00 aziendale?\x00")
    assert replies and "qualcosa è andato storto" not in replies[0]
    [pressed] = anna.do(anna.inbound(Kind.BUTTON, payload="lang:fr~é\x00"))
    assert "non è più valido" in pressed
    with app.database.transaction() as session:
        assert session.scalars(select(FaqQuestion.text)).all() == ["Cos'è il welfare aziendale?"]
        assert session.scalars(select(User.name)).all() == ["Anna Rossi"]
        assert session.scalars(select(Alert)).all() == []


def test_a_failing_statement_never_logs_what_users_wrote(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """Neither the parameters nor the driver's "Failing row contains (...)" reach the log."""
    database = Database(settings.database_url)
    database.upgrade()
    caplog.handler.addFilter(HideStatementValues())
    secret = "il mio numero è 333 765 4321"
    # created_at may not be NULL: the database refuses the row
    insert = "INSERT INTO users (channel, external_id, chat_id, name, locale, created_at) "
    with pytest.raises(IntegrityError) as raised, database.engine.begin() as connection:
        connection.execute(
            text(insert + "VALUES ('x', 'y', 'z', :name, 'it', NULL)"), {"name": secret}
        )
    logging.getLogger("test").error("failed", exc_info=raised.value)
    assert "INSERT INTO users" in caplog.text and "IntegrityError" in caplog.text
    assert "765 4321" not in caplog.text
    assert "765 4321" not in quiet_message(raised.value)
    database.dispose()
