"""The survey's pure decisions, as tables of cases."""

from __future__ import annotations

import pytest

from bot.survey.logic import (
    Invalid,
    before,
    first_open_item,
    headline,
    option_by_label,
    parse_number,
    pending,
    progress,
    prune,
    reads_as_question,
    scale_by_label,
)
from bot.survey.questionnaire import load_survey

SURVEY = load_survey()
PROFILE = {"area": "pinerolo", "ruolo": "titolare", "settore": "commercio"}
RATED = {f"bisogni.{item.id}": "poco" for item in SURVEY.question("bisogni").items}


@pytest.mark.parametrize(
    ("answers", "skipped", "current", "expected"),
    [
        ({}, (), "area", (1, 13)),
        ({**PROFILE, "ha_dipendenti": "si"}, (), "numero_dipendenti", (5, 13)),
        ({**PROFILE, "ha_dipendenti": "no"}, (), "bisogni", (5, 11)),
        ({**PROFILE, "ha_dipendenti": "no", "welfare_attivo": "no"}, (), "collabora", (8, 10)),
        ({**PROFILE, "ha_dipendenti": "no"}, ("welfare_attivo",), "collabora", (8, 10)),
        ({**PROFILE, "ha_dipendenti": "no", "collabora": "si"}, (), "collaborazioni", (9, 11)),
    ],
)
def test_progress_counts_the_questions_this_respondent_will_see(
    answers: dict[str, object], skipped: tuple[str, ...], current: str, expected: tuple[int, int]
) -> None:
    assert progress(SURVEY, answers, current, skipped) == expected


@pytest.mark.parametrize(
    ("answers", "skipped", "next_id"),
    [
        ({}, set(), "area"),
        (PROFILE, set(), "ha_dipendenti"),
        ({**PROFILE, "ha_dipendenti": "si"}, set(), "numero_dipendenti"),
        ({**PROFILE, "ha_dipendenti": "si"}, {"numero_dipendenti"}, "familiari"),
        ({**PROFILE, "ha_dipendenti": "no"}, set(), "bisogni"),
        ({**PROFILE, "ha_dipendenti": "no", "bisogni.figli": "molto"}, set(), "bisogni"),
        ({**PROFILE, "ha_dipendenti": "no", **RATED}, set(), "servizi_utili"),
    ],
)
def test_pending_is_the_next_question_to_ask(
    answers: dict[str, object], skipped: set[str], next_id: str
) -> None:
    question = pending(SURVEY, answers, skipped)
    assert question is not None and question.id == next_id


def test_changing_a_branch_drops_the_answers_it_hid() -> None:
    answers = {
        **PROFILE,
        "ha_dipendenti": "no",
        "numero_dipendenti": "da_1_a_5",
        "familiari": "tutti",
        "welfare_attivo": "no",
        "welfare_quali": ["salute"],
        "welfare_quali.altro": "x",
    }
    assert prune(SURVEY, answers) == {**PROFILE, "ha_dipendenti": "no", "welfare_attivo": "no"}


@pytest.mark.parametrize(
    ("question", "typed", "locale", "option"),
    [
        ("area", "val pellice", "it", "val_pellice"),
        ("area", "Val Pellice!", "it", "val_pellice"),
        ("area", "2", "it", "val_pellice"),
        ("area", "9", "it", None),
        ("ha_dipendenti", "si", "it", "si"),
        ("ha_dipendenti", "oui", "fr", "si"),
        ("ha_dipendenti", "No", "en", "no"),
        ("settore", "commercio", "it", "commercio"),
        ("settore", "Farming", "en", "agricoltura"),
        ("settore", "quanto valgono i buoni pasto?", "it", None),
        ("area", "val pelice", "it", "val_pellice"),
        ("area", "pellice", "it", "val_pellice"),
        ("ruolo", "dirigeant", "fr", "titolare"),
        ("ruolo", "je suis le patron", "fr", None),
        ("ruolo", "titolare", "fr", "titolare"),
        ("rete", "peut etre", "fr", "forse"),
        ("rete", "PEUT-ÊTRE", "fr", "forse"),
        ("familiari", "si", "it", None),  # "Sì, alcuni" or "Sì, tutti"?
        ("familiari", "yes", "en", None),
        ("familiari", "tutti", "it", "tutti"),
    ],
)
def test_a_typed_option_counts_as_pressed(
    question: str, typed: str, locale: str, option: str | None
) -> None:
    assert option_by_label(SURVEY.question(question), typed, locale) == option


@pytest.mark.parametrize(
    ("typed", "locale", "level"),
    [
        ("molto", "it", "molto"),
        ("assez", "fr", "abbastanza"),
        ("Not at all", "en", "per_niente"),
        ("pco", "it", "poco"),
        ("boh", "it", None),
    ],
)
def test_a_typed_grid_value_counts_as_pressed(typed: str, locale: str, level: str | None) -> None:
    assert scale_by_label(SURVEY.question("bisogni"), typed, locale) == level


@pytest.mark.parametrize(
    ("typed", "question"),
    [
        ("quanto valgono i buoni pasto?", True),
        ("come funziona la rete", True),
        ("comment adhérer à la mutuelle", True),
        ("je suis le patron", False),
        ("il capo", False),
        ("come", False),
    ],
)
def test_typed_text_reads_as_a_side_question(typed: str, question: bool) -> None:
    assert reads_as_question(typed) is question


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("Che ruolo hai? Se sei legale rappresentante, scegli il primo.", "Che ruolo hai?"),
        ("L'impresa ha dipendenti?", "L'impresa ha dipendenti?"),
        ("Scrivi qui", "Scrivi qui"),
    ],
)
def test_a_question_s_headline_leaves_out_its_hints(text: str, title: str) -> None:
    assert headline(text) == title


@pytest.mark.parametrize(
    ("typed", "expected"), [("3", 3), (" 12 ", 12), ("1.200", 1200), ("tre", Invalid("number"))]
)
def test_numbers_are_parsed_or_refused(typed: str, expected: object) -> None:
    question = SURVEY.questions[0].model_copy(update={"type": "number"})
    assert parse_number(question, typed) == expected


def test_a_half_rated_grid_resumes_at_its_first_open_item() -> None:
    grid = SURVEY.question("bisogni")
    answers = {**PROFILE, "ha_dipendenti": "no", "bisogni.anziani": "molto"}
    assert first_open_item(grid, answers) == 1
    next_question = pending(SURVEY, answers, set())
    assert next_question is not None and next_question.id == "bisogni"
    assert before(SURVEY, answers, "bisogni") == ["area", "ruolo", "settore", "ha_dipendenti"]
