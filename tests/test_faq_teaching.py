"""Staff teach the FAQ from the chat: /faq_report groups what it missed, one tap teaches it."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from bot.app import App
from bot.config import Settings
from bot.faq.cli import export_variants
from bot.faq.guard import dev_questions, silenced, stolen
from bot.faq.knowledge import OUTSIDE, Taught
from bot.faq.library import Library
from bot.faq.teaching import Asked, group_questions
from bot.paths import FAQ_DIR
from bot.storage.models import FaqGap, FaqQuestion, FaqVariant
from bot.values.messages import Kind
from tests.desk_chat import Person, make_app

UNANSWERED = "una bottiglia di vino a ogni dipendente"  # no topic answers it yet


@pytest.fixture
def app(settings: Settings) -> App:
    return make_app(settings)


def test_staff_turn_an_unanswered_question_into_a_variant_and_it_is_answered(app: App) -> None:
    anna, luca, operator = (Person(app.desk, user_id=u) for u in ("7", "8", "4242"))
    assert anna.send(UNANSWERED)[0].startswith("Non lo so")
    luca.send("una bottiglia di vino a ogni dipendente!")
    header, group, *_others = operator.send("/faq_report 7")
    assert "Domande senza risposta o con 👎" in header
    assert group.startswith(f"2× «{UNANSWERED}» (it)")
    assert "🆕 Nuovo argomento" in operator.labels
    [done] = operator.press("➕ Fringe benefit")
    assert done.startswith("✅ Aggiunta a «Fringe benefit: la soglia 2026»")
    [answer] = Person(app.desk, user_id="9").send(UNANSWERED)
    assert answer.startswith("Fringe benefit: la soglia 2026")
    with app.database.transaction() as session:
        [variant] = session.scalars(select(FaqVariant)).all()
        assert (variant.topic_id, variant.locale, variant.exported_at) == (
            "fringe-benefit",
            "it",
            None,
        )
    assert UNANSWERED not in " ".join(operator.send("/faq_report 7"))  # taught: not shown again


def test_a_taught_variant_is_live_in_another_process_after_a_restart(app: App) -> None:
    with app.database.transaction() as session:
        session.add(FaqVariant(topic_id="fringe-benefit", locale="it", text=UNANSWERED))
    [answer] = Person(app.desk).send(UNANSWERED)  # this app never saw the tap
    assert answer.startswith("Fringe benefit: la soglia 2026")


def test_a_new_topic_is_recorded_as_a_gap(app: App) -> None:
    Person(app.desk).send("apparecchio per i denti del dipendente")
    operator = Person(app.desk, user_id="4242")
    operator.send("/faq_report")
    [recorded] = operator.press("🆕 Nuovo argomento")
    assert recorded.startswith("🆕 Segnata come argomento da scrivere")
    with app.database.transaction() as session:
        [gap] = session.scalars(select(FaqGap)).all()
        assert (gap.text, gap.asked) == ("apparecchio per i denti del dipendente", 1)


def test_staff_mark_a_wrongly_answered_question_as_out_of_scope(app: App, tmp_path: Path) -> None:
    anna = Person(app.desk, user_id="7")
    anna.send("/privacy")
    anna.press("Accetto")  # a 👎 counts only with who gave it
    [wrong] = anna.send("quanto costa il commercialista")
    assert "Aggiornato al" in wrong  # answered with a topic that does not fit...
    anna.press("👎")  # ...and its asker says so
    operator = Person(app.desk, user_id="4242")
    operator.send("/faq_report")
    [marked] = operator.press("🚫 Fuori tema")
    assert marked.startswith("🚫 Segnata come fuori tema")
    [now] = Person(app.desk, user_id="9").send("quanto costa il commercialista?")
    assert now.startswith("Non lo so")
    faq = tmp_path / "faq"
    shutil.copytree(FAQ_DIR, faq)
    export_variants(app.database, faq, datetime.now(UTC))
    examples = yaml.safe_load((faq / "out_of_scope.yaml").read_text(encoding="utf-8"))
    assert examples["it"][-1] == "quanto costa il commercialista"


def test_an_example_that_would_silence_answered_questions_is_refused() -> None:
    library = Library()
    greedy = Taught(OUTSIDE, "it", "abbonamento del bus pagato ai dipendenti")
    lost = silenced(library.current.matcher, library.trial(greedy), dev_questions())
    assert lost and {q.expected for q in lost} == {"trasporto-pubblico"}
    honest = Taught(OUTSIDE, "it", "quanto costa il commercialista")
    assert silenced(library.current.matcher, library.trial(honest), dev_questions()) == []


def test_a_variant_that_would_take_other_topics_questions_is_refused() -> None:
    library = Library()
    greedy = Taught("trasporto-pubblico", "it", "cos'e sto welfare aziendale")
    taken = stolen(library.current.matcher, library.trial(greedy), greedy.topic_id, dev_questions())
    assert taken and {q.expected for q in taken} == {"welfare-aziendale"}
    honest = Taught("fringe-benefit", "it", UNANSWERED)
    assert (
        stolen(library.current.matcher, library.trial(honest), "fringe-benefit", dev_questions())
        == []
    )


def test_only_staff_can_press_the_teaching_buttons(app: App) -> None:
    Person(app.desk).send(UNANSWERED)
    operator = Person(app.desk, user_id="4242")
    operator.send("/faq_report")
    visitor = Person(app.desk, user_id="5")
    payload = operator.button("➕ Fringe benefit").payload
    [refused] = visitor.do(visitor.inbound(Kind.BUTTON, payload=payload))
    assert "riservata allo staff" in refused
    with app.database.transaction() as session:
        assert session.scalars(select(FaqVariant)).all() == []


@pytest.mark.parametrize(
    ("questions", "groups"),
    [
        (["buoni pasto 2026", "i buoni pasto nel 2026?", "meteo domani"], [2, 1]),
        (["caffè offerto", "caffe offerto", "caffe' offerto!"], [3]),
        (["asilo nido", "fondo pensione"], [1, 1]),
        ([], []),
    ],
)
def test_similar_questions_are_grouped_largest_first(
    questions: list[str], groups: list[int]
) -> None:
    asked = [Asked(index, text, "it") for index, text in enumerate(questions)]
    assert [group.count for group in group_questions(asked)] == groups


def test_export_writes_the_variants_into_the_topic_files_once(app: App, tmp_path: Path) -> None:
    folder = tmp_path / "faq"
    shutil.copytree(FAQ_DIR, folder)
    with app.database.transaction() as session:
        session.add(FaqVariant(topic_id="fringe-benefit", locale="it", text=UNANSWERED))
        session.add(FaqGap(locale="it", text="occhiali da vista", asked=3))
    now = datetime(2026, 12, 6, tzinfo=UTC)
    lines = export_variants(app.database, folder, now)
    assert lines[0] == "faq: 1 variant(s) exported"
    assert "new topic wanted (it, 3x): occhiali da vista" in lines
    written = yaml.safe_load((folder / "topics" / "fringe-benefit.yaml").read_text())
    assert written["questions"]["it"][-1] == UNANSWERED
    assert export_variants(app.database, folder, now)[0] == "faq: 0 variant(s) exported"


def test_questions_before_consent_are_kept_without_the_user(app: App) -> None:
    anna = Person(app.desk)
    anna.send("buoni pasto elettronici")
    anna.send("/privacy")
    anna.press("Accetto")
    anna.send("fondo pensione dei dipendenti")
    with app.database.transaction() as session:
        asked = session.scalars(select(FaqQuestion).order_by(FaqQuestion.id)).all()
        assert [q.text for q in asked] == [
            "buoni pasto elettronici",
            "fondo pensione dei dipendenti",
        ]
        assert asked[0].user_id is None and asked[1].user_id is not None


def test_staff_are_told_when_a_variant_would_take_other_topics_questions(app: App) -> None:
    greedy = "cos'e sto welfare aziendale"
    with app.database.transaction() as session:
        question = FaqQuestion(text=greedy, locale="it", outcome="none", score=0.4)
        session.add(question)
        session.flush()
        question_id = question.id
    operator = Person(app.desk, user_id="4242")
    payload = app.desk.signer.pack("faq_teach", question_id, "trasporto-pubblico")
    [refused] = operator.do(operator.inbound(Kind.BUTTON, payload=payload))
    assert refused.startswith("Non l'ho aggiunta: farebbe rispondere «Abbonamenti a bus e treni»")
    with app.database.transaction() as session:
        assert session.scalars(select(FaqVariant)).all() == []
