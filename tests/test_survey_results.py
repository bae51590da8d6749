"""Survey results for staff: stats on generated data, export and import, charts, the report,
and the `survey` and `link` commands."""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from bot.storage.db import Database
from bot.storage.models import SurveyResponse
from bot.survey import cli as survey_cli
from bot.survey.questionnaire import Question, Survey, load_survey
from bot.survey.report import write_report
from bot.survey.results import chart_png, stats, summary_text
from bot.survey.sheets import (
    CODES_SHEET,
    ImportRejected,
    columns,
    import_csv,
    load_responses,
    write_csv,
    write_xlsx,
)
from bot.values.i18n import DEFAULT_ZONE
from tests.settings import make_settings

PNG = b"\x89PNG\r\n\x1a\n"
SURVEY = load_survey()
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


# Generated data --------------------------------------------------------------------------------


def asked(question: Question, answers: dict[str, Any]) -> bool:
    condition = question.when
    return condition is None or answers.get(condition.question) in condition.in_


def random_answers(survey: Survey, rnd: random.Random, complete: bool) -> dict[str, Any]:
    """Valid answers: required questions always, optional ones skipped now and then; a partial
    response stops somewhere along the way."""
    answers: dict[str, Any] = {}
    stop = len(survey.questions) if complete else rnd.randrange(1, len(survey.questions))
    for question in survey.questions[:stop]:
        if not asked(question, answers) or (not question.required and rnd.random() < 0.2):
            continue
        if question.type == "grid":
            for item in question.items:
                if rnd.random() < 0.9:
                    answers[f"{question.id}.{item.id}"] = rnd.choice(question.scale).id
        elif question.type == "multiple":
            chosen = rnd.sample(question.option_ids(), rnd.randint(1, 3))
            answers[question.id] = [o for o in question.option_ids() if o in chosen]
            if "altro" in chosen:
                answers[f"{question.id}.altro"] = f"altro {rnd.randrange(1000)}, «sì»; ok"
        elif question.type == "text":
            answers[question.id] = rnd.choice(["Doposcuola", "Buoni spesa; mensa", "Ok, grazie"])
        elif question.type == "number":
            answers[question.id] = rnd.randint(question.min or 0, question.max or 100)
        else:
            answers[question.id] = rnd.choice(question.option_ids())
    return answers


def fill(database: Database, count: int = 200, partial: int = 30, seed: int = 7) -> None:
    rnd = random.Random(seed)
    with database.transaction() as session:
        for index in range(count + partial):
            complete = index < count
            moment = START + timedelta(minutes=7 * index)
            session.add(
                SurveyResponse(
                    public_id=f"r{index:05d}",
                    user_id=None,
                    survey_id=SURVEY.id,
                    version=SURVEY.version,
                    locale=rnd.choice(["it", "en", "fr"]),
                    channel=rnd.choice(["telegram", "console"]),
                    status="completed" if complete else "partial",
                    answers=random_answers(SURVEY, rnd, complete),
                    started_at=moment,
                    updated_at=moment,
                    completed_at=moment if complete else None,
                )
            )


def tally(responses: list[SurveyResponse]) -> dict[str, Counter[str]]:
    """An independent count: every (key, option) pair seen, straight from the stored answers."""
    counts: dict[str, Counter[str]] = {}
    for response in responses:
        for key, value in response.answers.items():
            values = value if isinstance(value, list) else [value]
            counts.setdefault(key, Counter()).update(str(v) for v in values)
    return counts


def new_database(path: Path) -> Database:
    database = Database(f"sqlite:///{path}")
    database.upgrade()
    return database


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    database = new_database(tmp_path / "t.db")
    fill(database)
    yield database
    database.dispose()


@pytest.fixture
def empty(tmp_path: Path) -> Iterator[Database]:
    database = new_database(tmp_path / "empty.db")
    yield database
    database.dispose()


def count_rows(database: Database) -> int:
    with database.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(SurveyResponse)) or 0)


# Stats -----------------------------------------------------------------------------------------


def test_stats_match_an_independent_count(database: Database) -> None:
    responses = load_responses(database, SURVEY)
    completed = [r for r in responses if r.status == "completed"]
    expected = tally(completed)
    results = stats(SURVEY, responses)

    assert results["survey"] == SURVEY.id and results["version"] == SURVEY.version
    assert results["responses"] == {"completed": 200, "partial": 30}
    for question in SURVEY.questions:
        entry = results["questions"][question.id]
        if question.type == "grid":
            for item in question.items:
                key = f"{question.id}.{item.id}"
                counts = entry["items"][item.id]["counts"]
                assert list(counts) == [s.id for s in question.scale]
                assert counts == {s.id: expected.get(key, Counter())[s.id] for s in question.scale}
                answered = sum(1 for r in completed if key in r.answers)
                assert entry["items"][item.id]["answered"] == answered
        elif question.type == "text":
            assert entry["texts"] == [
                r.answers[question.id] for r in completed if question.id in r.answers
            ]
        else:
            assert list(entry["counts"]) == list(question.option_ids())
            want = expected.get(question.id, Counter())
            assert entry["counts"] == {o: want[o] for o in question.option_ids()}
        if question.type != "grid":
            assert entry["answered"] == sum(1 for r in completed if question.id in r.answers)


def test_each_question_counts_only_those_who_answered_it(database: Database) -> None:
    questions = stats(SURVEY, load_responses(database, SURVEY))["questions"]
    assert questions["area"]["answered"] == 200  # required
    assert questions["numero_dipendenti"]["answered"] < questions["ha_dipendenti"]["answered"]
    assert sum(questions["ruolo"]["counts"].values()) == 200
    quali = questions["welfare_quali"]
    assert quali["answered"] <= questions["welfare_attivo"]["counts"]["si"]
    assert sum(quali["counts"].values()) >= quali["answered"]  # several options each
    assert len(quali["other"]) == quali["counts"]["altro"]


def test_every_option_is_listed_with_zero_when_nobody_chose_it(empty: Database) -> None:
    results = stats(SURVEY, [])
    assert results["responses"] == {"completed": 0, "partial": 0}
    ruolo = results["questions"]["ruolo"]
    assert ruolo == {
        "answered": 0,
        "counts": dict.fromkeys(SURVEY.question("ruolo").option_ids(), 0),
    }
    assert results["questions"]["bisogni"]["items"]["anziani"]["counts"]["molto"] == 0
    assert results["questions"]["servizi_utili"] == {"answered": 0, "texts": []}


def test_area_filter(database: Database) -> None:
    responses = load_responses(database, SURVEY)
    results = stats(SURVEY, responses, area="val_pellice")
    in_area = [r for r in responses if r.answers.get("area") == "val_pellice"]
    completed = [r for r in in_area if r.status == "completed"]
    assert results["responses"]["completed"] == len(completed) > 0
    assert results["questions"]["area"]["counts"]["val_pellice"] == len(completed)
    assert sum(results["questions"]["area"]["counts"].values()) == len(completed)
    assert results["questions"]["settore"]["counts"] == {
        o: sum(1 for r in completed if r.answers["settore"] == o)
        for o in SURVEY.question("settore").option_ids()
    }


def test_partial_responses_count_only_when_asked(database: Database) -> None:
    responses = load_responses(database, SURVEY)
    only_completed = stats(SURVEY, responses)["questions"]["area"]["answered"]
    with_partial = stats(SURVEY, responses, include_partial=True)["questions"]["area"]["answered"]
    assert only_completed == 200
    assert with_partial == 200 + sum(
        1 for r in responses if r.status == "partial" and "area" in r.answers
    )


def test_summary_text_names_the_top_answers(database: Database) -> None:
    results = stats(SURVEY, load_responses(database, SURVEY), area="pinerolo")
    text = summary_text(SURVEY, results, "it")
    assert "Pinerolo" in text and "(N = " in text
    assert f"completate: {results['responses']['completed']}" in text


# Export and import -----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_export_then_import_gives_the_same_stats(
    database: Database, empty: Database, tmp_path: Path, kind: str
) -> None:
    out = tmp_path / f"export.{kind}"
    responses = load_responses(database, SURVEY)
    (write_xlsx if kind == "xlsx" else write_csv)(SURVEY, responses, out)
    if kind == "xlsx":
        sheet = load_workbook(out, read_only=True)[CODES_SHEET]
        rows = list(sheet.iter_rows(values_only=True))
        assert list(rows[0]) == columns(SURVEY) and len(rows) == 231

    result = import_csv(out, SURVEY, empty)

    assert result.imported == 230 and not result.skipped
    again = load_responses(empty, SURVEY)
    for partial in (False, True):
        assert stats(SURVEY, again, include_partial=partial) == stats(
            SURVEY, responses, include_partial=partial
        )
    assert [r.public_id for r in again] == [r.public_id for r in responses]
    assert all(r.user_id is None for r in again)


def test_export_columns_and_cells(database: Database, tmp_path: Path) -> None:
    out = tmp_path / "export.csv"
    write_csv(SURVEY, load_responses(database, SURVEY), out)
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")  # Excel reads the accents
    with out.open(encoding="utf-8-sig", newline="") as stream:
        rows = list(csv.DictReader(stream))
    header = list(rows[0])
    assert header[:6] == ["response_id", "completed_at", "channel", "version", "locale", "status"]
    assert header[6:10] == ["area", "ruolo", "settore", "ha_dipendenti"]
    assert "bisogni.anziani" in header and "welfare_quali.altro" in header
    assert header.index("bisogni.trasporti") < header.index("servizi_utili")
    multi = next(r for r in rows if ";" in r["welfare_quali"])
    assert set(multi["welfare_quali"].split(";")) <= set(
        SURVEY.question("welfare_quali").option_ids()
    )
    assert datetime.fromisoformat(rows[0]["completed_at"]) == START
    assert "telegram" in {r["channel"] for r in rows}


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_with_no_responses_the_export_is_the_header(tmp_path: Path, kind: str) -> None:
    out = tmp_path / f"template.{kind}"
    (write_xlsx if kind == "xlsx" else write_csv)(SURVEY, [], out)
    if kind == "csv":
        lines = out.read_text(encoding="utf-8-sig").splitlines()
        assert lines == [",".join(columns(SURVEY))]
    else:
        for sheet in load_workbook(out).worksheets:
            assert list(sheet.iter_rows(values_only=True)) == [tuple(columns(SURVEY))]


def write_rows(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.DictWriter(stream, columns(SURVEY))
        writer.writeheader()
        writer.writerows(rows)
    return path


GOOD = {"area": "pinerolo", "ruolo": "titolare", "settore": "servizi", "ha_dipendenti": "no"}


def test_import_fills_in_empty_metadata(empty: Database, tmp_path: Path) -> None:
    path = write_rows(tmp_path / "paper.csv", [GOOD, {**GOOD, "area": "fuori", "rete": "forse"}])
    assert import_csv(path, SURVEY, empty).imported == 2
    first, second = load_responses(empty, SURVEY)
    assert (first.channel, first.version, first.locale, first.status) == (
        "import",
        SURVEY.version,
        "it",
        "completed",
    )
    assert re.fullmatch(r"[0-9a-f]{32}", first.public_id) and first.public_id != second.public_id
    assert first.completed_at is not None and first.user_id is None
    assert first.answers == GOOD and second.answers["rete"] == "forse"


BAD_ROWS = [
    ({"area": "torino"}, "area: 'torino' is not one of"),
    ({"ruolo": ""}, "ruolo: required, but empty"),
    ({"numero_dipendenti": "da_1_a_5"}, "only asked when ha_dipendenti is si"),
    ({"welfare_attivo": "si", "welfare_quali": "salute;nulla"}, "'nulla' is not one of"),
    ({"welfare_attivo": "si", "welfare_quali": "salute", "welfare_quali.altro": "x"}, "altro"),
    ({"bisogni.anziani": "tanto"}, "bisogni.anziani: 'tanto'"),
    ({"collabora": "no", "collaborazioni": "con il comune"}, "collabora is si"),
    ({"locale": "de"}, "locale"),
    ({"version": "9"}, "version"),
    ({"completed_at": "ieri"}, "completed_at"),
    ({"status": "done"}, "status"),
    ({"response_id": "a b"}, "response_id"),
]


@pytest.mark.parametrize(("change", "reason"), BAD_ROWS)
def test_one_bad_row_rejects_the_import(
    empty: Database, tmp_path: Path, change: dict[str, str], reason: str
) -> None:
    path = write_rows(tmp_path / "in.csv", [GOOD, GOOD, {**GOOD, **change}, GOOD])
    with pytest.raises(ImportRejected) as rejected:
        import_csv(path, SURVEY, empty)
    [error] = rejected.value.errors
    assert error.line == 4 and reason in error.reason, error
    assert count_rows(empty) == 0


def test_skip_invalid_imports_the_good_rows(empty: Database, tmp_path: Path) -> None:
    rows = [
        GOOD,
        {**GOOD, "area": "torino"},
        {
            **GOOD,
            "welfare_attivo": "si",
            "welfare_quali": "salute;altro",
            "welfare_quali.altro": "Palestra",
        },
    ]
    path = write_rows(tmp_path / "in.csv", rows)
    result = import_csv(path, SURVEY, empty, skip_invalid=True)
    assert result.imported == 2 and [e.line for e in result.skipped] == [3]
    assert load_responses(empty, SURVEY)[1].answers["welfare_quali.altro"] == "Palestra"


def test_a_second_import_of_the_same_export_is_refused(database: Database, tmp_path: Path) -> None:
    out = tmp_path / "again.csv"
    write_csv(SURVEY, load_responses(database, SURVEY), out)
    with pytest.raises(ImportRejected) as rejected:
        import_csv(out, SURVEY, database)
    assert "already in the database" in rejected.value.errors[0].reason
    assert count_rows(database) == 230


def test_unknown_column_rejects_the_file(empty: Database, tmp_path: Path) -> None:
    path = tmp_path / "typo.csv"
    path.write_text(
        "area,ruolo,settore,ha_dipendenti,bisogni.anziano\npinerolo,titolare,servizi,no,molto\n"
    )
    with pytest.raises(ImportRejected, match=r"line 1: unknown columns: bisogni.anziano"):
        import_csv(path, SURVEY, empty)


def test_semicolon_csv_and_multiline_text_keep_line_numbers(
    empty: Database, tmp_path: Path
) -> None:
    path = tmp_path / "excel.csv"
    path.write_text(
        "area;ruolo;settore;ha_dipendenti;servizi_utili\n"
        'pinerolo;titolare;servizi;no;"due\nrighe"\n'
        "pinerolo;capo;servizi;no;\n",
        encoding="utf-8",
    )
    with pytest.raises(ImportRejected, match=r"line 4: ruolo: 'capo'"):
        import_csv(path, SURVEY, empty)


def test_formulas_typed_by_users_stay_text(empty: Database, tmp_path: Path) -> None:
    evil = '=HYPERLINK("http://x","clic")'
    path = write_rows(tmp_path / "in.csv", [{**GOOD, "servizi_utili": "'" + evil}])
    import_csv(path, SURVEY, empty)
    responses = load_responses(empty, SURVEY)
    assert responses[0].answers["servizi_utili"] == evil
    stream = io.StringIO()
    write_csv(SURVEY, responses, stream)
    assert "'=HYPERLINK" in stream.getvalue()
    out = tmp_path / "out.xlsx"
    write_xlsx(SURVEY, responses, out)
    for sheet in load_workbook(out).worksheets:
        cell = sheet.cell(row=2, column=columns(SURVEY).index("servizi_utili") + 1)
        assert cell.value == evil and cell.data_type == "s"


def test_the_xlsx_reads_as_labels_and_rome_dates(database: Database, tmp_path: Path) -> None:
    out = tmp_path / "export.xlsx"
    responses = load_responses(database, SURVEY)
    write_xlsx(SURVEY, responses, out, "fr")
    workbook = load_workbook(out)
    assert workbook.sheetnames == ["risposte", CODES_SHEET]  # labels first, codes for imports
    readable = [dict(zip(columns(SURVEY), row, strict=True))
                for row in workbook["risposte"].iter_rows(min_row=2, values_only=True)]  # fmt: skip
    labels = {o.label.get("fr") for o in SURVEY.question("area").options}
    assert {row["area"] for row in readable} <= labels
    assert "val_pellice" not in {row["area"] for row in readable}
    first = readable[0]["completed_at"]
    assert isinstance(first, datetime)  # a real date, which sorts and filters
    assert first == START.astimezone(DEFAULT_ZONE).replace(tzinfo=None)  # Rome, not UTC
    many = next(row["welfare_quali"] for row in readable if "; " in (row["welfare_quali"] or ""))
    assert all(part in {o.label.get("fr") for o in SURVEY.question("welfare_quali").options}
               for part in many.split("; "))  # fmt: skip


# Charts and report -----------------------------------------------------------------------------


@pytest.mark.parametrize("question", ["ruolo", "ha_dipendenti", "bisogni", "welfare_quali"])
def test_chart_is_a_png(database: Database, question: str) -> None:
    results = stats(SURVEY, load_responses(database, SURVEY))
    image = chart_png(SURVEY, results["questions"][question], question, "fr")
    assert image.startswith(PNG) and len(image) > 5000


def test_free_text_has_no_chart() -> None:
    with pytest.raises(ValueError, match="free-text"):
        chart_png(SURVEY, stats(SURVEY, [])["questions"]["servizi_utili"], "servizi_utili")


def test_report_is_one_offline_folder(database: Database, tmp_path: Path) -> None:
    with database.transaction() as session:
        response = session.scalars(
            select(SurveyResponse).where(SurveyResponse.public_id == "r00000")
        ).one()
        response.answers = {
            **response.answers,
            "bisogni.figli": "molto",
            "servizi_utili": "<script>alert('x')</script> doposcuola",
        }
    index = write_report(SURVEY, load_responses(database, SURVEY), tmp_path / "report")

    page = index.read_text(encoding="utf-8")
    images = re.findall(r'<img src="([^"]+)"', page)
    assert len(images) == sum(q.type != "text" for q in SURVEY.questions)  # 12 of 14
    assert all((index.parent / image).read_bytes().startswith(PNG) for image in images)
    assert "<script>" not in page and "&lt;script&gt;alert(" in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)  # nothing from the network
    needs = page[page.index('id="per-bisogno"') :]
    figli = needs[needs.index("Figli: cura e scuola") :]
    assert "&lt;script&gt;" in figli.split("<h3>")[0]
    assert 'id="per-area"' in page and "Val Pellice" in page


def test_tables_by_area_hide_counts_that_could_name_a_firm(tmp_path: Path) -> None:
    database = new_database(tmp_path / "small.db")
    fill(database, count=40, partial=0)
    index = write_report(SURVEY, load_responses(database, SURVEY), tmp_path / "r", small=3)
    by_area = index.read_text(encoding="utf-8").split('id="per-area"')[1]
    cells = re.findall(r'<td class="n">([^<]*)</td>', by_area)
    assert "&lt; 3" in cells and "i conteggi sotto 3 sono nascosti" in by_area
    assert not {"1", "2"} & set(cells)  # a 1 or a 2 never shows
    database.dispose()


@dataclass
class Answered:
    survey_id: str
    status: str
    answers: dict[str, Any]


def test_summary_by_area_hides_small_counts() -> None:
    responses = [
        Answered(SURVEY.id, "completed", {"area": "pinerolo", "ruolo": "titolare"}),
        *[Answered(SURVEY.id, "completed", {"area": "pinerolo", "ruolo": "dipendente"})] * 4,
    ]
    results = stats(SURVEY, responses, area="pinerolo")
    text = summary_text(SURVEY, results, "it", small=3)
    assert "i conteggi sotto 3 sono nascosti" in text
    assert "< 3" in text and "20%" not in text


# Commands --------------------------------------------------------------------------------------


def command(*argv: str) -> argparse.Namespace:
    root = argparse.ArgumentParser(prog="sportello")
    survey_cli.add_parser(root.add_subparsers(dest="command", required=True))
    return root.parse_args(argv)


def test_cli_check_stats_export_import_report(
    database: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = make_settings(database.url)
    assert survey_cli.run(command("survey", "check"), settings) == 0
    assert capsys.readouterr().out.startswith(f"survey: ok, {SURVEY.id} version")
    assert survey_cli.run(command("survey", "stats", "--json", "--area", "pinerolo"), settings) == 0
    results = json.loads(capsys.readouterr().out)
    assert results["questions"]["area"]["counts"]["val_pellice"] == 0
    assert survey_cli.run(command("survey", "stats", "--area", "torino"), settings) == 1

    out = tmp_path / "x" / "export.xlsx"
    assert survey_cli.run(command("survey", "export", "--out", str(out)), settings) == 0
    assert out.read_bytes().startswith(b"PK")
    other = make_settings(f"sqlite:///{tmp_path / 'other.db'}")  # migrated by the command
    assert survey_cli.run(command("survey", "import", str(out)), other) == 0
    assert "200 responses imported" in capsys.readouterr().out

    bad = write_rows(tmp_path / "bad.csv", [GOOD, {**GOOD, "settore": "pesca"}])
    assert survey_cli.run(command("survey", "import", str(bad)), other) == 1
    assert "bad.csv: line 3: settore" in capsys.readouterr().err
    assert survey_cli.run(command("survey", "import", str(bad), "--skip-invalid"), other) == 0

    folder = tmp_path / "report"
    assert survey_cli.run(command("survey", "report", "--out", str(folder)), settings) == 0
    assert (folder / "index.html").exists() and (folder / "bisogni.png").exists()


def test_cli_check_reports_a_broken_survey(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "survey.yaml"
    broken.write_text("id: x\nversion: 0\n", encoding="utf-8")
    settings = make_settings(f"sqlite:///{tmp_path / 'unused.db'}")
    assert survey_cli.run(command("survey", "--file", str(broken), "check"), settings) == 1
    assert "version" in capsys.readouterr().err


def test_link_prints_the_deep_link_and_writes_a_qr_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings(f"sqlite:///{tmp_path / 'unused.db'}")
    monkeypatch.delenv("TELEGRAM_BOT_USERNAME", raising=False)
    qr = tmp_path / "poster" / "qr.png"
    assert survey_cli.run(command("link", "questionario", "--qr", str(qr)), settings) == 0
    assert capsys.readouterr().out.startswith("https://t.me/SportelloSMPBot?start=questionario\n")
    assert qr.read_bytes().startswith(PNG)
    monkeypatch.setenv("TELEGRAM_BOT_USERNAME", "@AltroBot")
    assert survey_cli.run(command("link", "eventi"), settings) == 0
    assert capsys.readouterr().out == "https://t.me/AltroBot?start=eventi\n"
    assert survey_cli.run(command("link", "faq", "--bot", "x y"), settings) == 2
    with pytest.raises(SystemExit):
        command("link", "nessuno")


def test_the_report_says_each_title_and_n_once(database: Database, tmp_path: Path) -> None:
    responses = load_responses(database, SURVEY)
    index = write_report(SURVEY, responses, tmp_path / "report")
    page = index.read_text(encoding="utf-8")
    entry = stats(SURVEY, responses)["questions"]["ruolo"]
    untitled = chart_png(SURVEY, entry, "ruolo", "it", titled=False)
    assert (index.parent / "ruolo.png").read_bytes() == untitled  # the heading says it
    assert untitled != chart_png(SURVEY, entry, "ruolo", "it")
    nav = page[page.index("<nav>") : page.index("</nav>")]
    assert "Che ruolo hai nell'impresa o nell'ente?</a>" in nav.replace("&#x27;", "'")
    assert "Se sei legale rappresentante" not in nav  # the hint stays in the section
    assert "nav li { break-inside: avoid;" in page  # an entry is never split across columns
    assert "N = " in page and "più risposte possibili" in page
