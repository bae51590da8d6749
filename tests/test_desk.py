"""The core, spoken to directly: routing, bad input, staff, errors, re-deliveries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.app import App
from bot.config import Settings
from bot.core.desk import Desk
from bot.core.turn import Command, Feature, Turn
from bot.storage.models import OutboxMessage, User
from bot.values.messages import Answer, Kind
from tests.desk_chat import Person, make_app
from tests.settings import make_settings


@pytest.fixture
def app(settings: Settings) -> App:
    return make_app(settings)


def test_start_greets_by_name_and_shows_the_menu(app: App) -> None:
    anna = Person(app.desk, name="Anna Rossi")
    replies = anna.send("/start")
    assert replies[0].startswith("Ciao Anna!")
    assert "Società Mutua Piemonte" in replies[0]
    assert anna.labels == [
        "❓ Domande frequenti",
        "📝 Questionario",
        "🙋 Parla con una persona",
        "📞 Fissa una richiamata",
        "🗓 Le mie richiamate",
        "📅 Eventi e seminari",
        "🌐 Lingua",
    ]


@pytest.mark.parametrize("greeting", ["ciao", "Buongiorno!", "HELLO", "bonjour", "menù", "menu"])
def test_greetings_open_the_menu(app: App, greeting: str) -> None:
    anna = Person(app.desk)
    anna.send(greeting)
    assert "🌐 Lingua" in anna.labels


@pytest.mark.parametrize("command", ["/aiuto", "/help", "/menu", "/MENU"])
def test_help_and_menu_always_work(app: App, command: str) -> None:
    anna = Person(app.desk)
    replies = anna.send(command)
    assert replies and "🌐 Lingua" in anna.labels


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        (Kind.MEDIA, "leggo solo messaggi di testo"),
        (Kind.LOCATION, "non uso la posizione"),
        (Kind.EDITED, "modificato un messaggio"),
        (Kind.CONTACT, "non mi serve un contatto"),
    ],
)
def test_what_the_desk_cannot_read_gets_a_friendly_answer(
    app: App, kind: Kind, expected: str
) -> None:
    anna = Person(app.desk)
    replies = anna.do(anna.inbound(kind, text="x"))
    assert expected in replies[0]
    assert "🌐 Lingua" in anna.labels


@pytest.mark.parametrize(
    "text",
    ["   ", "😀😀😀", "<b>ciao</b> & <i>", "x" * 5000, "\u202eolleh", "*_`[link](x)`_*"],
)
def test_any_text_gets_an_answer(app: App, text: str) -> None:
    anna = Person(app.desk)
    replies = anna.send(text)
    assert replies and replies[0].strip()


def test_an_unknown_command_is_explained(app: App) -> None:
    replies = Person(app.desk).send("/pizza")
    assert "Non conosco questo comando" in replies[0]


@pytest.mark.parametrize("data", ["", "lang:fr", "menu~XXXXXXXX", "💥" * 10])
def test_forged_button_data_is_refused_kindly(app: App, data: str) -> None:
    anna = Person(app.desk)
    replies = anna.do(anna.inbound(Kind.BUTTON, payload=data))
    assert "non è più valido" in replies[0]


def test_a_button_for_an_unknown_action_is_stale(app: App) -> None:
    anna = Person(app.desk)
    replies = anna.do(anna.inbound(Kind.BUTTON, payload=app.desk.signer.pack("gone")))
    assert "non è più valido" in replies[0]


def test_a_redelivered_event_is_handled_once(app: App) -> None:
    anna = Person(app.desk)
    first = anna.inbound(Kind.COMMAND, text="/start", command="start")
    assert app.desk.handle(first).replies
    assert app.desk.handle(first) == Answer()


def test_staff_commands_refuse_everyone_else(app: App) -> None:
    visitor = Person(app.desk, user_id="99")
    replies = visitor.send("/staff")
    assert "riservata allo staff" in replies[0]


def test_staff_see_their_commands(app: App) -> None:
    operator = Person(app.desk, user_id="4242")
    replies = operator.send("/staff")
    assert "/staff" in replies[0]


def test_the_staff_group_hears_staff_commands_only(settings: Settings) -> None:
    app = make_app(make_settings(settings.database_url, staff_chat_id=-100))
    operator = Person(app.desk, user_id="4242")
    in_group = operator.inbound(Kind.COMMAND, text="/staff", command="staff")
    group = in_group.__class__(**{**in_group.__dict__, "chat_id": "-100", "in_group": True})
    assert "/staff" in operator.do(group)[0]
    chatter = operator.inbound(Kind.TEXT, text="ciao a tutti")
    chatter = chatter.__class__(**{**chatter.__dict__, "chat_id": "-100", "in_group": True})
    assert operator.do(chatter) == []


def test_language_follows_telegram_until_chosen(app: App) -> None:
    pierre = Person(app.desk, user_id="11", language_code="fr-CH")
    assert "Bonjour" in pierre.send("/start")[0] or pierre.send("/start")
    with app.database.transaction() as session:
        assert session.scalars(select(User.locale)).one() == "fr"


def failing_feature() -> Feature:
    def explode(turn: Turn) -> Answer:
        raise RuntimeError("database on fire")

    return Feature("boom", commands={"boom": Command(explode)})


def test_an_error_gets_an_apology_and_one_staff_alert_a_minute(settings: Settings) -> None:
    app = make_app(settings)
    desk = Desk(
        settings,
        app.database,
        app.desk.signer,
        (*app.desk.features, failing_feature()),
    )
    anna = Person(desk)
    now = desk.clock()
    for minute in (0, 0, 0, 2):
        desk.clock = lambda minute=minute: now + timedelta(minutes=minute)  # type: ignore[misc]
        replies = anna.send("/boom")
        assert "qualcosa è andato storto" in replies[0]
    with app.database.transaction() as session:
        alerts = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        assert [row.chat_id for row in alerts] == ["4242", "4242"]
        assert "RuntimeError" in str(alerts[0].body)
        assert "+2 simili" in str(alerts[1].body)
        # the failed turn left nothing half-done
        assert session.scalar(select(func.count()).select_from(User)) == 0


def test_each_language_has_its_own_command_names(app: App) -> None:
    john = Person(app.desk, user_id="11", name="John", language_code="en")
    [help_text] = john.send("/help")
    assert "/cancel" in help_text and "/mydata" in help_text
    assert "/annulla" not in help_text and "/miei_dati" not in help_text
    john.send("/survey")
    john.press("I agree")
    john.press("Start")
    [left] = john.send("/cancel")
    assert "kept the answers" in left  # the survey was left
    claire = Person(app.desk, user_id="12", name="Claire", language_code="fr")
    [aide] = claire.send("/aide")
    assert "/annuler" in aide and "/mesdonnees" in aide and "/effacer" in aide
    claire.send("/questionnaire")
    assert "J'accepte" in " ".join(claire.labels)
    anna = Person(app.desk)
    [menu] = anna.send("/cancel")  # an Italian who types the English name is understood
    assert "Non conosco questo comando" not in menu


def test_the_command_menu_lists_each_languages_names() -> None:
    from bot.core.menu import command_menu

    english = dict(command_menu("en"))
    french = dict(command_menu("fr"))
    assert "mydata" in english and "erase" in english and "miei_dati" not in english
    assert "mesdonnees" in french and "aide" in french and "aiuto" not in french
    assert english["help"] == "How Sportello works"
