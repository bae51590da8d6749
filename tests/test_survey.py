"""The needs survey in conversation: consent, branches, back, skip, side questions, resume."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.app import App
from bot.config import Settings
from bot.models import SurveyResponse
from tests.desk_chat import Person, make_app


@pytest.fixture
def app(settings: Settings) -> App:
    return make_app(settings)


def start_survey(person: Person) -> list[str]:
    person.send("/questionario")
    person.press("Accetto")
    return person.press("Inizia")


def answers_of(app: App) -> tuple[str, dict[str, object]]:
    with app.database.transaction() as session:
        response = session.scalars(select(SurveyResponse)).one()
        return response.status, dict(response.answers)


def answer_profile(anna: Person, employees: bool = True) -> None:
    anna.press("Val Pellice")
    anna.press("Titolare, socio, presidente")
    anna.press("Commercio")
    anna.press("Sì" if employees else "No")


def test_consent_comes_first_then_one_question_at_a_time(app: App) -> None:
    anna = Person(app.desk)
    anna.send("/questionario")
    assert "✅ Accetto" in anna.labels
    [first] = anna.press("Accetto")
    assert "Questionario sui bisogni" in first
    [question] = anna.press("Inizia")
    assert question.startswith("Domanda 1 di 13")
    assert "Val Pellice" in anna.labels
    assert "Salta ⏭" not in anna.labels  # `area` is required


def test_a_whole_run_with_branches_grid_multiple_and_summary(app: App) -> None:
    anna = Person(app.desk)
    start_survey(anna)
    answer_profile(anna)
    [question] = anna.press("Da 1 a 5")
    assert question.startswith("Domanda 6 di 13")  # the longest path: employees
    anna.press("Sì, alcuni")
    for scale in ["Molto", "Abbastanza", "Poco", "Per niente", "Poco", "Molto", "Molto"]:
        anna.press(scale)
    [text_question] = anna.press("Abbastanza")
    assert "Scrivi la risposta" in text_question
    anna.send("un doposcuola in valle e aiuto per i nonni")
    anna.press("Sì")
    anna.press("Salute: visite, rimborsi")
    anna.press("Altro")
    [other] = anna.press("Fatto")
    assert "Quali altri servizi" in other
    anna.send("palestra convenzionata")
    anna.press("No")  # collabora
    anna.press("Molto")  # interesse_collaborare
    [summary] = anna.press("Forse")  # rete
    assert summary.startswith("Ecco le tue risposte:")
    assert "Val Pellice" in summary and "palestra convenzionata" in summary
    [thanks] = anna.press("Conferma e invia")
    assert "richiami" in thanks  # rete = forse: a callback is offered
    status, answers = answers_of(app)
    assert status == "completed"
    assert answers["area"] == "val_pellice"
    assert answers["bisogni.anziani"] == "molto" and answers["bisogni.trasporti"] == "abbastanza"
    assert answers["welfare_quali"] == ["salute", "altro"]
    assert answers["welfare_quali.altro"] == "palestra convenzionata"
    assert "collaborazioni" not in answers


def test_no_employees_hides_the_employee_questions(app: App) -> None:
    anna = Person(app.desk)
    start_survey(anna)
    anna.press("Val Chisone")
    anna.press("Nessuno di questi")
    anna.press("Artigianato")
    [question] = anna.press("No")
    assert question.startswith("Domanda 5 di 11")  # no employees: two fewer
    assert "bisogni" in question.lower() or "contano" in question


def test_back_changes_the_previous_answer(app: App) -> None:
    anna = Person(app.desk)
    start_survey(anna)
    anna.press("Pinerolo")
    [again] = anna.press("Indietro")
    assert again.startswith("Domanda 1 di")
    assert "✓ Pinerolo" in anna.labels
    anna.press("Val Germanasca")
    assert answers_of(app)[1]["area"] == "val_germanasca"


def test_skip_only_on_optional_questions_and_typed_labels_count(app: App) -> None:
    anna = Person(app.desk)
    start_survey(anna)
    anna.send("val pellice")  # typed instead of pressed
    anna.send("2")  # the second option, by number
    anna.press("Servizi")
    anna.press("Sì")
    [skipped_to] = anna.press("Salta")
    assert skipped_to.startswith("Domanda 6 di")
    _status, answers = answers_of(app)
    assert answers["ruolo"] == "dipendente" and "numero_dipendenti" not in answers


def test_a_side_question_is_answered_and_the_survey_offered_again(app: App) -> None:
    anna = Person(app.desk)
    start_survey(anna)
    replies = anna.send("quanto valgono i buoni pasto elettronici?")
    assert "Riferimenti:" in replies[0]
    assert "▶️ Riprendi il questionario" in anna.labels
    [back] = anna.press("Riprendi il questionario")
    assert back.startswith("Domanda 1 di")


def test_invalid_text_is_re_asked_clearly(app: App) -> None:
    anna = Person(app.desk)
    start_survey(anna)
    answer_profile(anna, employees=False)
    for _ in range(8):
        anna.press("Poco")
    [re_ask] = anna.send("    ")
    assert "vuoto" in re_ask or "Non ho capito" in re_ask or "Domanda" in re_ask


def test_cancel_keeps_partial_answers_and_resume_continues(app: App) -> None:
    anna = Person(app.desk)
    start_survey(anna)
    anna.press("Pinerolo")
    [cancelled] = anna.send("/annulla")
    assert "messo da parte" in cancelled
    assert answers_of(app) == ("partial", {"area": "pinerolo"})
    [offer] = anna.send("/questionario")
    assert "a metà" in offer
    [resumed] = anna.press("Riprendi")
    assert resumed.startswith("Domanda 2 di")


def test_stale_survey_buttons_are_refused(app: App) -> None:
    anna = Person(app.desk)
    start_survey(anna)
    anna.press("Pinerolo")
    [stale] = anna.press("Val Pellice")  # the first question's button, pressed again
    assert "non è più valido" in stale


def test_answering_again_replaces_only_after_confirmation(app: App) -> None:
    anna = Person(app.desk)
    start_survey(anna)
    answer_profile(anna, employees=False)
    for _ in range(8):
        anna.press("Poco")
    for _ in range(5):
        if "Conferma e invia" in " ".join(anna.labels):
            break
        anna.press("Salta")
    anna.press("Conferma e invia")
    [question] = anna.send("/questionario")
    assert "Hai già risposto" in question
    assert answers_of(app)[0] == "completed"
    anna.press("Rispondi di nuovo")
    assert answers_of(app) == ("partial", {})


def test_a_deep_link_opens_the_survey(app: App) -> None:
    anna = Person(app.desk)
    replies = anna.send("/start questionario")
    assert "informativa" in replies[0]
