"""The knowledge base in faq/: the real files pass the checks; broken ones are explained."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
import yaml

from bot.faq.desk import answer_text, first_message_problems
from bot.faq.knowledge import KnowledgeError, load
from bot.faq.library import Library
from bot.paths import FAQ_DIR
from bot.values.i18n import use_locale

REQUIRED = (
    "welfare-aziendale", "welfare-territoriale", "micro-imprese", "fringe-benefit",
    "bollette-affitto-mutuo", "buoni-pasto", "buoni-acquisto-carburante", "premio-di-risultato",
    "assistenza-sanitaria", "previdenza-complementare", "istruzione-figli", "assistenza-familiari",
    "trasporto-pubblico", "utilita-sociale", "regolamento-accordo", "deducibilita",
    "contributi-previdenziali", "voucher-piattaforma", "mutuo-soccorso", "smart-working",
    "come-iniziare", "contatti-sportello",
)  # fmt: skip


def test_the_real_knowledge_base_passes_every_check() -> None:
    kb = load()
    assert set(REQUIRED) <= set(kb.topics)
    assert kb.warnings == ()


def test_no_figure_is_of_low_confidence_and_2026_figures_are_current() -> None:
    kb = load()
    meal = kb.topics["buoni-pasto"]
    current = {f.id: f.value for f in meal.figures if f.current(date(2026, 6, 1))}
    assert 10 in current.values()  # electronic meal vouchers: €10 from 1 January 2026
    fringe = kb.topics["fringe-benefit"]
    assert {1000, 2000} <= {f.value for f in fringe.figures if f.current(date(2026, 6, 1))}


@pytest.fixture
def faq_copy(tmp_path: Path) -> Path:
    shutil.copytree(FAQ_DIR, tmp_path / "faq")
    return tmp_path / "faq"


def edit_topic(folder: Path, topic_id: str, change: dict[str, object]) -> None:
    path = folder / "topics" / f"{topic_id}.yaml"
    data = yaml.safe_load(path.read_text())
    data.update(change)
    path.write_text(yaml.safe_dump(data, allow_unicode=True))


def problems_after(folder: Path) -> list[str]:
    with pytest.raises(KnowledgeError) as raised:
        load(folder)
    return raised.value.problems


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"title": {"it": "Buoni pasto", "en": "Meal vouchers"}}, "title.fr: Field required"),
        ({"related": ["non-esiste"]}, "related: unknown topic 'non-esiste'"),
        ({"references": []}, "references: at least one legal reference is required"),
        ({"answer": {"it": "{nessuna}", "en": "x", "fr": "x"}}, "unknown figure ['nessuna']"),
        ({"category": "altro-ancora"}, "unknown category 'altro-ancora'"),
        ({"reviewd": "2026-01-01"}, "reviewd: Extra inputs are not permitted"),
        ({"short": {"it": "x" * 30, "en": "x", "fr": "x"}}, "short.it: over 20 characters"),
        (
            {"answer": {"it": "Sì. Dal 2026...", "en": "x", "fr": "x"}},
            "answer.it: opens with a yes",
        ),
    ],
)
def test_a_broken_topic_is_refused_with_the_reason(
    faq_copy: Path, change: dict[str, object], expected: str
) -> None:
    edit_topic(faq_copy, "buoni-pasto", change)
    assert any(expected in problem for problem in problems_after(faq_copy)), expected


def test_invalid_yaml_is_reported_by_file(faq_copy: Path) -> None:
    (faq_copy / "topics" / "buoni-pasto.yaml").write_text("id: [unclosed\n")
    assert any(p.startswith("buoni-pasto.yaml: not valid YAML") for p in problems_after(faq_copy))


def test_out_of_scope_examples_are_checked_and_may_be_left_out(faq_copy: Path) -> None:
    (faq_copy / "out_of_scope.yaml").write_text("it: [come assumo]\nde: [wie stelle ich ein]\n")
    assert "out_of_scope.yaml: de: Extra inputs are not permitted" in problems_after(faq_copy)
    (faq_copy / "out_of_scope.yaml").unlink()
    assert load(faq_copy).out_of_scope.all() == set()


def test_an_old_review_date_is_a_warning_not_an_error(faq_copy: Path) -> None:
    edit_topic(faq_copy, "buoni-pasto", {"reviewed": "2025-01-10"})
    kb = load(faq_copy, today=date(2026, 11, 22))
    assert kb.warnings == ("buoni-pasto.yaml: reviewed on 2025-01-10, more than 12 months ago",)


def test_a_broken_reload_keeps_the_old_content(faq_copy: Path) -> None:
    library = Library(faq_copy)
    before = library.current
    (faq_copy / "topics" / "buoni-pasto.yaml").write_text("id: [unclosed\n")
    with pytest.raises(KnowledgeError):
        library.reload()
    assert library.current is before
    shutil.copy(FAQ_DIR / "topics" / "buoni-pasto.yaml", faq_copy / "topics")
    assert library.reload() is not before


def test_a_first_message_over_the_limit_fails_the_check(faq_copy: Path) -> None:
    long = "Una risposta troppo lunga per lo schermo di un telefono. " * 10
    edit_topic(faq_copy, "buoni-pasto", {"answer": {"it": long, "en": "x", "fr": "x"}})
    [problem] = first_message_problems(load(faq_copy), date(2026, 6, 1))
    assert problem.startswith("buoni-pasto.yaml: answer.it: the first message is")


def test_staff_contacts_are_shown_only_when_filled_in(faq_copy: Path) -> None:
    topic_id, today = "contatti-sportello", date(2026, 6, 1)
    empty = load(faq_copy)
    with use_locale("it"):
        without = answer_text(empty.topics[topic_id], today, empty.contacts)
        assert without == answer_text(empty.topics[topic_id], today)
    (faq_copy / "contacts.yaml").write_text(
        'phone: "+39 0121 000000"\nhours: {it: "lun-ven 9-12", en: "Mon-Fri 9-12", fr: "9h-12h"}\n'
    )
    filled = load(faq_copy)
    with use_locale("en"):
        shown = answer_text(filled.topics[topic_id], today, filled.contacts).plain
    assert "📞 +39 0121 000000" in shown and "🕘 Mon-Fri 9-12" in shown and "📍" not in shown
