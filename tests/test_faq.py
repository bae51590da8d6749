"""The FAQ desk in conversation: answers with the law, "Intendevi...?", honest "non lo so"."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.app import App
from bot.config import Settings
from bot.faq.desk import FIRST_MESSAGE_LIMIT
from bot.storage.models import FaqQuestion, FaqVote
from tests.bot_runner import running_bot, telegram_settings
from tests.desk_chat import Person, make_app
from tests.fake_telegram import FakeTelegram


@pytest.fixture
def app(settings: Settings) -> App:
    return make_app(settings)


def test_a_question_in_own_words_gets_the_answer_with_the_law(app: App) -> None:
    anna = Person(app.desk)
    [answer] = anna.send("posso dare buoni benzina ai ragazzi senza tasse?")
    assert answer.startswith("Buoni benzina") or "carburante" in answer.lower()
    assert "Aggiornato al" in answer and "non consulenza" in answer
    assert anna.labels == ["📖 Più dettagli", "📞 Parla con una persona", "👍", "👎"]
    [details] = anna.press("Più dettagli")
    assert "Riferimenti:" in details and "L. 207/2024" in details


def test_meal_vouchers_quote_the_2026_figure_in_the_users_format(app: App) -> None:
    anna = Person(app.desk)
    [answer] = anna.send("fino a quanto sono esenti i buoni pasto elettronici?")
    assert "10 € al giorno" in answer
    john = Person(app.desk, user_id="8", language_code="en")
    [english] = john.send("how much are electronic meal vouchers tax free")
    assert "€10" in english


def test_figures_ending_in_2027_warn_about_the_next_budget_law(app: App) -> None:
    [answer] = Person(app.desk).send("qual è la soglia dei fringe benefit per chi ha figli?")
    assert "1.000 €" in answer and "2.000 €" in answer
    assert answer.count("31 dicembre 2027") == 1 and "legge di bilancio" in answer
    assert "Valido:" not in answer  # the validity is said once


def test_more_details_and_related_topics(app: App) -> None:
    anna = Person(app.desk)
    anna.send("i buoni pasto elettronici quanto valgono")
    [details] = anna.press("Più dettagli")
    assert "Buoni pasto" in details and "Riferimenti:" in details
    related = [label for label in anna.labels if label.startswith("➡️")]
    assert related
    [other] = anna.press(related[0])
    assert "Aggiornato al" in other


@pytest.mark.parametrize(
    "question",
    [
        "che tempo fa domani a pinerolo?",
        "chi ha vinto la partita della juve",
        "pizza margherita",
        "devo licenziare un dipendente, come si fa?",  # work, but not welfare
        "how many days of paid leave does a cook get?",
    ],
)
def test_out_of_scope_gets_an_honest_i_dont_know(app: App, question: str) -> None:
    anna = Person(app.desk)
    [reply] = anna.send(question)
    assert reply.startswith("Non lo so")
    assert "📞 Fissa una richiamata" in anna.labels
    assert "Riferimenti" not in reply


def test_a_vague_question_gets_intendevi(app: App) -> None:
    anna = Person(app.desk)
    [reply] = anna.send("welfare")
    assert reply == "Intendevi...?" or "Aggiornato al" in reply
    if reply == "Intendevi...?":
        assert 2 <= len(anna.labels) <= 4 and anna.labels[-1] == "Nessuna di queste"
        [answer] = anna.press(anna.labels[0])
        assert "Aggiornato al" in answer


def test_the_category_menu_lets_people_browse(app: App) -> None:
    anna = Person(app.desk)
    anna.send("/start")
    [categories] = anna.press("Domande frequenti")
    assert "Scegli un argomento" in categories
    first_category = anna.labels[0]
    anna.press(first_category)
    topics = [label for label in anna.labels if not label.startswith("⬅️")]
    [answer] = anna.press(topics[0])
    assert "Aggiornato al" in answer


def test_french_and_english_questions_get_answers_in_their_language(app: App) -> None:
    pierre = Person(app.desk, user_id="21", language_code="fr")
    [french] = pierre.send("je peux payer les factures de gaz de mes salariés ?")
    assert "Mis à jour le" in french
    assert "Références" in pierre.press("Plus de détails")[0]
    jane = Person(app.desk, user_id="22", language_code="en")
    [english] = jane.send("can I pay for my employees' bus passes?")
    assert "Updated on" in english
    assert "References:" in jane.press("More details")[0]


def test_votes_are_stored_once_per_user_and_topic(app: App) -> None:
    anna = Person(app.desk)
    anna.send("buoni pasto elettronici")
    anna.press("👍")
    assert anna.answers[-1].notice == "Grazie del riscontro!"
    replies = anna.press("👎")
    assert "richiami" in replies[0]
    with app.database.transaction() as session:
        votes = session.scalars(select(FaqVote)).all()
        assert [(v.topic_id, v.vote) for v in votes] == [("buoni-pasto", -1)]


def test_questions_are_logged_for_the_staff_report(app: App) -> None:
    anna, operator = Person(app.desk), Person(app.desk, user_id="4242")
    for _ in range(2):
        anna.send("che tempo fa domani a pinerolo?")
    anna.send("buoni pasto elettronici")
    report = operator.send("/faq_report 7")
    assert report[1].startswith("2× «che tempo fa domani a pinerolo?»")
    with app.database.transaction() as session:
        outcomes = session.scalars(select(FaqQuestion.outcome)).all()
    assert sorted(outcomes) == ["answer", "none", "none"]


def test_staff_reload_and_non_staff_refusal(app: App) -> None:
    visitor, operator = Person(app.desk, user_id="5"), Person(app.desk, user_id="4242")
    assert "riservata allo staff" in visitor.send("/faq_reload")[0]
    assert "riservata allo staff" in visitor.send("/faq_report")[0]
    assert operator.send("/faq_reload")[0].startswith("Ricaricato:")
    assert "/faq_report" in operator.send("/staff")[0]


async def test_asking_on_telegram(database_url: str) -> None:
    async with FakeTelegram() as tg:
        async with running_bot(telegram_settings(tg, database_url)):
            luca = tg.user(3001, first_name="Luca", language_code="it")
            await luca.send("posso pagare le bollette della luce ai miei dipendenti?")
            answer = await luca.next_message()
            assert "Aggiornato al" in answer.text.replace("\xa0", " ")
            assert "📖 Più dettagli" in answer.button_labels
            await luca.press("📖 Più dettagli")
            details = await luca.next_message()
            assert details.kind == "message" and "Riferimenti:" in details.text
            assert "<blockquote expandable>Riferimenti:" in (details.html or "")
            await luca.press("👍")
            await luca.expect_silence(0.3)
            assert luca.answered_callbacks[-1].text == "Grazie del riscontro!"
        tg.assert_no_rejections()


@pytest.mark.parametrize("lang", ["it", "en", "fr"])
def test_every_first_answer_fits_a_phone_screen(app: App, lang: str) -> None:
    """Every topic, browsed from the menu: short, four buttons, no yes or no to open."""
    owner = Person(app.desk, user_id=f"3{len(lang)}{lang}", language_code=lang)
    owner.send("/faq")
    seen = 0
    for category in list(owner.labels[:-1]):
        owner.press(category)
        for topic in [label for label in owner.labels if not label.startswith("⬅️")]:
            [answer] = owner.press(topic)
            first_line = answer.split("\n")[1]
            assert len(answer) <= FIRST_MESSAGE_LIMIT, (topic, len(answer))
            assert len(owner.labels) == 4, topic
            assert first_line.split()[0].strip(".:,") not in {"Sì", "No", "Yes", "Oui", "Non"}
            seen += 1
            owner.press(category)
    assert seen == len(app.library.current.kb.topics)
