"""The needs survey in conversation: consent, branches, back, skip, side questions, resume."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.app import App
from bot.config import Settings
from bot.storage.models import SurveyResponse
from bot.survey.results import stats
from bot.values.messages import Document, Image
from tests.bot_runner import running_bot, telegram_settings
from tests.desk_chat import Person, make_app
from tests.fake_telegram import FakeTelegram


@pytest.fixture
def app(settings: Settings) -> App:
    return make_app(settings)


def start_survey(person: Person) -> list[str]:
    person.send("/questionario")
    person.press("Accetto")
    return person.press("Inizia")


def response_of(app: App) -> SurveyResponse:
    with app.database.transaction() as session:
        response = session.scalars(select(SurveyResponse)).one()
        session.expunge(response)
        return response


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
    assert "Aggiornato al" in replies[0]
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


def finish(anna: Person) -> None:
    """From the grid on: every need "Poco", the optional questions skipped, then confirm."""
    for _ in range(8):
        anna.press("Poco")
    for _ in range(5):
        if "Conferma e invia" in " ".join(anna.labels):
            break
        anna.press("Salta")
    anna.press("Conferma e invia")


def test_a_retake_keeps_the_confirmed_answers_until_the_new_ones_are_confirmed(
    app: App,
) -> None:
    anna = Person(app.desk)
    start_survey(anna)
    answer_profile(anna, employees=False)
    finish(anna)
    [question] = anna.send("/questionario")
    assert "Hai già risposto" in question
    anna.press("Rispondi di nuovo")
    anna.press("Pinerolo")
    anna.press("Dipendente o collaboratore")
    anna.send("/annulla")
    status, answers = answers_of(app)
    assert status == "completed" and answers["area"] == "val_pellice"
    assert stats(app.survey, [response_of(app)])["responses"]["completed"] == 1
    [offer] = anna.send("/questionario")
    assert "a metà" in offer
    [resumed] = anna.press("Riprendi")
    assert resumed.startswith("Domanda 3 di")
    anna.press("Commercio")
    anna.press("No")
    finish(anna)
    status, answers = answers_of(app)
    assert status == "completed"
    assert answers["area"] == "pinerolo" and answers["ruolo"] == "dipendente"


def test_typed_answers_are_matched_to_the_labels_forgiving_typos(app: App) -> None:
    anna = Person(app.desk)
    start_survey(anna)
    [ruolo] = anna.send("val pelice")  # a typo
    assert ruolo.startswith("Domanda 2 di")
    [again] = anna.send("il capo")  # names no option, and is no question
    assert again.startswith("Non ho riconosciuto la risposta")
    assert "Domanda 2 di" in again and "Titolare, socio, presidente" in anna.labels
    anna.send("titolare")  # the option's id
    anna.send("commercio")
    [grid] = anna.send("no")
    assert "Cura di familiari anziani" in grid
    [second] = anna.send("molto")
    assert "voce 2 di 8" in second
    _status, answers = answers_of(app)
    assert answers["area"] == "val_pellice" and answers["ruolo"] == "titolare"
    assert answers["bisogni.anziani"] == "molto"


def test_typed_answers_in_french_with_accents_and_parts_of_labels(app: App) -> None:
    claire = Person(app.desk, user_id="8", name="Claire", language_code="fr")
    claire.send("/questionario")
    claire.press("J'accepte")
    claire.press("Commencer")
    claire.send("Val Pellice")
    [again] = claire.send("je suis le patron")
    assert "Question 2 sur" in again and "Dirigeant, associé, président" in claire.labels
    claire.send("dirigeant")
    claire.send("commerce")
    claire.send("non")
    for _ in range(8):
        claire.send("assez")
    for _ in range(5):
        if claire.labels and "Peut-être" in claire.labels:
            break
        claire.press("Passer")
    [summary] = claire.send("peut etre")
    assert summary.startswith("Voici vos réponses")
    claire.press("Modifier une réponse")
    long_one = next(label for label in claire.labels if label.startswith("Pour les personnes"))
    assert long_one == "Pour les personnes qui travaillent dans l'entreprise…"
    _status, answers = answers_of(app)
    assert answers["ruolo"] == "titolare" and answers["rete"] == "forse"
    assert answers["bisogni.trasporti"] == "abbastanza"


def test_resume_after_a_side_question_returns_to_the_question_being_changed(app: App) -> None:
    anna = Person(app.desk)
    start_survey(anna)
    anna.press("Pinerolo")
    anna.press("Titolare, socio, presidente")
    [back] = anna.press("Indietro")
    assert back.startswith("Domanda 2 di")
    anna.send("quanto valgono i buoni pasto elettronici?")
    [resumed] = anna.press("Riprendi il questionario")
    assert resumed.startswith("Domanda 2 di")
    anna.press("Socio e dipendente")
    assert answers_of(app)[1]["ruolo"] == "socio_dipendente"


def test_the_summary_is_compact_and_change_a_answer_has_a_way_back(app: App) -> None:
    anna = Person(app.desk)
    start_survey(anna)
    answer_profile(anna)
    anna.press("Da 1 a 5")
    anna.press("Sì, alcuni")
    [grid] = anna.press("Molto")
    assert "Figli: cura e scuola (voce 2 di 8)" in grid
    for _ in range(7):
        anna.press("Poco")
    anna.press("Salta")  # servizi_utili
    anna.press("Sì")
    anna.press("Salute: visite, rimborsi")
    anna.press("Smart working e orari")
    anna.press("Fatto")
    while "✅ Conferma e invia" not in anna.labels:
        [summary] = anna.press("Salta" if "Salta ⏭" in anna.labels else "No")
    assert summary.startswith("Ecco le tue risposte:")
    assert "Se sei legale rappresentante" not in summary  # the hint stays in the question
    assert "Salute: visite, rimborsi · Smart working e orari" in summary
    assert "Poco: Figli: cura e scuola · " in summary
    assert len(summary.splitlines()) < 20
    anna.press("Cambia una risposta")
    assert "Che ruolo hai nell'impresa o nell'ente?" in anna.labels
    [again] = anna.press("Torna al riepilogo")
    assert again.startswith("Ecco le tue risposte:")
    anna.press("Cambia una risposta")
    anna.press("Che ruolo hai")
    anna.send("dove trovo il modulo per i buoni pasto?")
    [resumed] = anna.press("Riprendi il questionario")
    assert "Che ruolo hai" in resumed
    [summary] = anna.press("Socio e dipendente")
    assert "→ Socio e dipendente" in summary


def test_a_deep_link_opens_the_survey(app: App) -> None:
    anna = Person(app.desk)
    replies = anna.send("/start questionario")
    assert "informativa" in replies[0]


async def test_the_survey_on_telegram_in_french(database_url: str) -> None:
    async with FakeTelegram() as tg:
        async with running_bot(telegram_settings(tg, database_url)) as bot:
            claire = tg.user(4001, first_name="Claire", language_code="fr")
            await claire.send("/start questionario")
            await claire.next_message()  # why consent is needed
            notice = await claire.next_message()
            await claire.press(notice.button_labels[0])
            intro = await claire.next_message()
            assert "Questionnaire" in intro.text
            await claire.press("▶️ Commencer")
            first = await claire.next_message()
            assert first.text.startswith("Question 1 sur 13")
            for label in ["Val Germanasca", "Aucun de ces rôles", "Agriculture", "Non"]:
                await claire.press(label)
                await claire.next_message()
            grid = claire.last_message
            assert "➡️" in grid.text
            await claire.press("Très")
            edited = await claire.next_message()
            assert edited.kind == "edit"  # the grid moves to its next item in place
        tg.assert_no_rejections()
    with bot.database.transaction() as session:
        response = session.scalars(select(SurveyResponse)).one()
        assert response.locale == "fr" and response.answers["bisogni.anziani"] == "molto"


def complete_one(person: Person, area: str = "Val Pellice") -> None:
    start_survey(person)
    person.press(area)
    person.press("Titolare, socio, presidente")
    person.press("Commercio")
    person.press("No")
    for _ in range(8):
        person.press("Molto")
    while "✅ Conferma e invia" not in person.labels:
        person.press("Salta")
    person.press("Conferma e invia")


def test_staff_statistics_and_export_in_the_chat(app: App) -> None:
    complete_one(Person(app.desk, user_id="31"))
    complete_one(Person(app.desk, user_id="32"), area="Pinerolo")
    operator, visitor = Person(app.desk, user_id="4242"), Person(app.desk, user_id="33")
    assert "riservata allo staff" in visitor.send("/statistiche")[0]
    assert "riservata allo staff" in visitor.send("/esporta")[0]
    [summary] = operator.send("/statistiche")  # one message, not a dozen images
    assert "Risposte completate: 2" in summary
    assert "📊 Dove si trova la tua attività?" in operator.labels
    operator.press("📊 Dove si trova la tua attività?")
    [chart] = operator.answers[-1].replies
    assert isinstance(chart, Image) and chart.content.startswith(b"\x89PNG")
    [unknown] = operator.send("/statistiche marte")
    assert "Area sconosciuta" in unknown and "Val Pellice" in unknown
    # A name, not the exact id; one response there: it would name a firm.
    [pellice] = operator.send("/statistiche pellice")
    assert "Val Pellice" in pellice and "meno di 3" in pellice
    [typo] = operator.send("/statistiche val pelice")
    assert "Val Pellice" in typo and "meno di 3" in typo
    [refused] = operator.send("/statistiche pinerolo")
    assert "meno di 3" in refused
    exported = operator.send("/esporta")
    assert [e.split("]")[0] for e in exported] == [
        f"[bisogni-welfare-{app.desk.clock():%Y%m%d}.csv",
        f"[bisogni-welfare-{app.desk.clock():%Y%m%d}.xlsx",
    ]
    csv_document = operator.answers[-1].replies[0]
    assert isinstance(csv_document, Document)
    rows = csv_document.content.decode("utf-8-sig").splitlines()
    assert len(rows) == 3 and "Anna" not in csv_document.content.decode("utf-8-sig")
