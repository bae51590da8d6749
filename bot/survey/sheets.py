"""Survey responses in and out: the CSV/XLSX export (one row per response) and its import."""

from __future__ import annotations

import csv
import io
import re
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Select, select

from bot.config import SUPPORTED_LOCALES
from bot.storage.db import Database
from bot.storage.models import SurveyResponse
from bot.survey.logic import keys_of as columns_of
from bot.survey.logic import shown
from bot.survey.questionnaire import Question, Survey
from bot.survey.results import OTHER, option_label
from bot.values import spreadsheet
from bot.values.i18n import DEFAULT_ZONE
from bot.values.spreadsheet import fill_sheet, unguard

METADATA = ("response_id", "completed_at", "channel", "version", "locale", "status")
SEPARATOR = ";"  # between the option ids of a multiple-choice cell
LABEL_SEPARATOR = "; "  # between the labels of a multiple-choice cell (labels hold commas)
LABELS_SHEET = "risposte"  # the workbook's first sheet: the answers as people read them
CODES_SHEET = "codici"  # its second: the same rows coded, as the CSV (what an import reads)
STATUSES = ("completed", "partial")
PUBLIC_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
CHANNEL = re.compile(r"^[a-z0-9_]{1,16}$")


def columns(survey: Survey) -> list[str]:
    """The export's header: the metadata, then one column per answer key, in survey order."""
    return [*METADATA, *(key for q in survey.questions for key in columns_of(q))]


def responses_query(survey: Survey, include_partial: bool = True) -> Select[SurveyResponse]:
    """Every response to `survey` (all versions), oldest completion first."""
    statuses = STATUSES if include_partial else ("completed",)
    return (
        select(SurveyResponse)
        .where(SurveyResponse.survey_id == survey.id, SurveyResponse.status.in_(statuses))
        .order_by(
            SurveyResponse.completed_at.is_(None),
            SurveyResponse.completed_at,
            SurveyResponse.id,
        )
    )


def load_responses(
    database: Database, survey: Survey, include_partial: bool = True
) -> list[SurveyResponse]:
    with database.transaction() as session:
        return list(session.scalars(responses_query(survey, include_partial)))


def export_rows(survey: Survey, responses: Iterable[SurveyResponse]) -> list[list[str]]:
    """The header row, then one row of strings per response."""
    keys = columns(survey)[len(METADATA) :]
    rows = [columns(survey)]
    for response in responses:
        metadata = [
            response.public_id,
            iso(response.completed_at),
            response.channel,
            str(response.version),
            response.locale,
            response.status,
        ]
        rows.append(metadata + [cell(response.answers.get(key)) for key in keys])
    return rows


def iso(moment: datetime | None) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds") if moment else ""


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return SEPARATOR.join(str(v) for v in value)
    return str(value)


def write_csv(survey: Survey, responses: Iterable[SurveyResponse], target: Path | IO[str]) -> None:
    """Writes the export as CSV; a path gets a UTF-8 BOM so that Excel reads the accents."""
    spreadsheet.write_csv(export_rows(survey, responses), target)


def csv_bytes(survey: Survey, responses: Iterable[SurveyResponse]) -> bytes:
    """The CSV export as a document to send (UTF-8 with BOM)."""
    return spreadsheet.csv_bytes(export_rows(survey, responses))


def write_xlsx(
    survey: Survey,
    responses: Iterable[SurveyResponse],
    target: Path | IO[bytes],
    locale: str = "it",
) -> None:
    """Writes the export as an Excel workbook: first the answers as people read them (labels
    in `locale`, dates as dates in Rome time), then the same rows coded as the CSV, which is
    the sheet an import reads. Bold frozen headers; text is never a formula."""
    from openpyxl import Workbook

    every = list(responses)
    workbook = Workbook()
    readable = workbook.worksheets[0]
    readable.title = LABELS_SHEET
    fill_sheet(readable, labelled_rows(survey, every, locale))
    fill_sheet(workbook.create_sheet(CODES_SHEET), export_rows(survey, every))
    workbook.save(target)


def labelled_rows(
    survey: Survey, responses: Iterable[SurveyResponse], locale: str
) -> list[list[Any]]:
    """The header row, then one row per response as people read it."""
    header = columns(survey)
    question_of = {key: q for q in survey.questions for key in columns_of(q)}
    rows: list[list[Any]] = [header]
    for response in responses:
        completed = response.completed_at
        metadata: list[Any] = [
            response.public_id,
            completed.astimezone(DEFAULT_ZONE).replace(tzinfo=None) if completed else "",
            response.channel,
            str(response.version),
            response.locale,
            response.status,
        ]
        answers = [
            label_cell(question_of[key], key, response.answers.get(key), locale)
            for key in header[len(METADATA) :]
        ]
        rows.append(metadata + answers)
    return rows


def label_cell(question: Question, key: str, value: Any, locale: str) -> str:
    """An answer as its label(s); free text and numbers as they are."""
    if value is None:
        return ""
    if key.endswith("." + OTHER) or question.type in ("text", "number"):
        return str(value)
    if isinstance(value, list | tuple):
        return LABEL_SEPARATOR.join(option_label(question, str(v), locale) for v in value)
    return option_label(question, str(value), locale)


def xlsx_bytes(survey: Survey, responses: Iterable[SurveyResponse], locale: str = "it") -> bytes:
    buffer = io.BytesIO()
    write_xlsx(survey, responses, buffer, locale)
    return buffer.getvalue()


# Reading a file -------------------------------------------------------------------------------


def read_csv(path: Path) -> Iterator[tuple[int, list[str]]]:
    """(line number, cells) for every record; ';'-separated files (Excel in Italian) too."""
    with path.open(encoding="utf-8-sig", newline="") as stream:
        first = stream.readline()
        delimiter = ";" if first.count(";") > first.count(",") else ","
        stream.seek(0)
        reader = csv.reader(stream, delimiter=delimiter)
        line = 1
        for cells in reader:
            yield line, [unguard(text) for text in cells]
            line = reader.line_num + 1


def read_xlsx(path: Path) -> Iterator[tuple[int, list[str]]]:
    """(row number, cells as text) for every row of the first sheet."""
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True, data_only=True)
    names = workbook.sheetnames
    sheet = workbook[CODES_SHEET] if CODES_SHEET in names else workbook.worksheets[0]
    try:
        for number, values in enumerate(sheet.iter_rows(values_only=True), 1):
            yield number, ["" if v is None else xlsx_text(v) for v in values]
    finally:
        workbook.close()


def xlsx_text(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def read_rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    return read_xlsx(path) if path.suffix.lower() == ".xlsx" else read_csv(path)


# Import ---------------------------------------------------------------------------------------


class RowError(ValueError):
    """A row (or the header, line 1) that does not fit the survey."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"line {line}: {reason}")
        self.line = line
        self.reason = reason


class ImportRejected(Exception):
    """Nothing was imported; `errors` says which lines are wrong and why."""

    def __init__(self, errors: Sequence[RowError]) -> None:
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = list(errors)


@dataclass
class ImportResult:
    imported: int = 0
    skipped: list[RowError] = field(default_factory=list)


@dataclass(frozen=True)
class Row:
    """One validated row, ready to store."""

    public_id: str
    completed_at: datetime | None
    channel: str
    version: int
    locale: str
    status: str
    answers: dict[str, Any]


def import_csv(
    path: Path, survey: Survey, database: Database, skip_invalid: bool = False
) -> ImportResult:
    """Imports a CSV (or .xlsx) in the export's columns; all rows or none unless skip_invalid."""
    return import_rows(read_rows(path), survey, database, skip_invalid)


def import_rows(
    records: Iterable[tuple[int, list[str]]],
    survey: Survey,
    database: Database,
    skip_invalid: bool = False,
) -> ImportResult:
    """Validates every record (the first is the header), then stores the valid ones."""
    records = iter(records)
    try:
        _line, header = next(records)
    except StopIteration:
        raise ImportRejected([RowError(1, "the file is empty")]) from None
    names = check_header(survey, header)
    with database.transaction() as session:
        existing = set(session.scalars(select(SurveyResponse.public_id)))
    rows: list[Row] = []
    result = ImportResult()
    now = datetime.now(UTC)
    for line, cells in records:
        if not any(c.strip() for c in cells):
            continue
        try:
            if len(cells) > len(names):
                raise ValueError(f"{len(cells)} cells but the header has {len(names)} columns")
            row = parse_row(survey, dict(zip(names, cells, strict=False)), now)
            if row.public_id in existing:
                raise ValueError(f"response_id {row.public_id} is already in the database")
            existing.add(row.public_id)
            rows.append(row)
        except ValueError as error:
            result.skipped.append(RowError(line, str(error)))
    if result.skipped and not skip_invalid:
        raise ImportRejected(result.skipped)
    store(database, survey, rows)
    result.imported = len(rows)
    return result


def check_header(survey: Survey, header: Sequence[str]) -> list[str]:
    names = [name.strip() for name in header]
    known = set(columns(survey))
    unknown = [n for n in names if n and n not in known]
    if unknown:
        raise ImportRejected([RowError(1, f"unknown columns: {', '.join(unknown)}")])
    twice = sorted({n for n in names if n and names.count(n) > 1})
    if twice:
        raise ImportRejected([RowError(1, f"columns given twice: {', '.join(twice)}")])
    return names


def store(database: Database, survey: Survey, rows: Sequence[Row]) -> None:
    with database.transaction() as session:
        for row in rows:
            started = row.completed_at or datetime.now(UTC)
            session.add(
                SurveyResponse(
                    public_id=row.public_id,
                    user_id=None,
                    survey_id=survey.id,
                    version=row.version,
                    locale=row.locale,
                    channel=row.channel,
                    status=row.status,
                    answers=row.answers,
                    started_at=started,
                    updated_at=started,
                    completed_at=row.completed_at,
                )
            )


def parse_row(survey: Survey, cells: Mapping[str, str], now: datetime) -> Row:
    """A validated row; ValueError with the reason if it does not fit the survey."""
    status = cells.get("status", "").strip() or "completed"
    if status not in STATUSES:
        raise ValueError(f"status: expected completed or partial, not {status!r}")
    answers = parse_answers(survey, cells, complete=status == "completed")
    return Row(
        public_id=parse_public_id(cells.get("response_id", "")),
        completed_at=parse_moment(cells.get("completed_at", ""), now, status),
        channel=parse_channel(cells.get("channel", "")),
        version=parse_version(cells.get("version", ""), survey),
        locale=parse_locale(cells.get("locale", "")),
        status=status,
        answers=answers,
    )


def parse_public_id(text: str) -> str:
    value = text.strip()
    if not value:
        return uuid.uuid4().hex
    if not PUBLIC_ID.match(value):
        raise ValueError("response_id: up to 32 letters, digits, - or _")
    return value


def parse_moment(text: str, now: datetime, status: str) -> datetime | None:
    value = text.strip()
    if not value:
        return now if status == "completed" else None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"completed_at: expected a date like 2020-02-19T18:30, not {value!r}"
        ) from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=DEFAULT_ZONE)).astimezone(UTC)


def parse_channel(text: str) -> str:
    value = text.strip() or "import"
    if not CHANNEL.match(value):
        raise ValueError(f"channel: expected a short lowercase name, not {value!r}")
    return value


def parse_version(text: str, survey: Survey) -> int:
    value = text.strip()
    if not value:
        return survey.version
    if not value.isdigit() or not 1 <= int(value) <= survey.version:
        raise ValueError(f"version: expected a number from 1 to {survey.version}, not {value!r}")
    return int(value)


def parse_locale(text: str) -> str:
    value = text.strip() or "it"
    if value not in SUPPORTED_LOCALES:
        raise ValueError(f"locale: expected one of {', '.join(SUPPORTED_LOCALES)}, not {value!r}")
    return value


def parse_answers(survey: Survey, cells: Mapping[str, str], complete: bool) -> dict[str, Any]:
    """The flat answers of a row, checked question by question in survey order."""
    answers: dict[str, Any] = {}
    for question in survey.questions:
        given = {key: cells.get(key, "").strip() for key in columns_of(question)}
        if not shown(question, answers):
            filled = [key for key, text in given.items() if text]
            if filled and question.when:
                raise ValueError(
                    f"{filled[0]}: answered, but {question.id} is only asked when "
                    f"{question.when.question} is {' or '.join(question.when.in_)}"
                )
            continue
        answers |= parse_question(question, given)
        needed = columns_of(question) if question.type == "grid" else [question.id]
        missing = [key for key in needed if key not in answers]
        if question.required and complete and missing:
            raise ValueError(f"{missing[0]}: required, but empty")
    return answers


def parse_question(question: Question, given: Mapping[str, str]) -> dict[str, Any]:
    """The answer keys of one question from its non-empty cells."""
    if question.type == "grid":
        scale = [s.id for s in question.scale]
        return {key: choice(key, text.lower(), scale) for key, text in given.items() if text}
    text = given[question.id]
    if question.type == "multiple":
        return parse_multiple(question, text, given.get(f"{question.id}.{OTHER}", ""))
    if not text:
        return {}
    if question.type == "text":
        if len(text) > question.max_length:
            raise ValueError(f"{question.id}: longer than {question.max_length} characters")
        return {question.id: text}
    if question.type == "number":
        return {question.id: parse_number(question, text)}
    value = text.lower().replace("sì", "si")
    return {question.id: choice(question.id, value, question.option_ids())}


def parse_multiple(question: Question, text: str, other: str) -> dict[str, Any]:
    chosen = [part.strip().lower() for part in text.split(SEPARATOR) if part.strip()]
    options = question.option_ids()
    for option in chosen:
        choice(question.id, option, options)
    if len(set(chosen)) < len(chosen):
        raise ValueError(f"{question.id}: an option is given twice")
    answer: dict[str, Any] = {}
    if chosen:
        answer[question.id] = [o for o in options if o in chosen]
    if other:
        key = f"{question.id}.{OTHER}"
        if OTHER in options and OTHER not in chosen:
            raise ValueError(f"{key}: filled in, but {OTHER} is not among {question.id}")
        if not chosen:
            raise ValueError(f"{key}: filled in, but {question.id} is empty")
        answer[key] = other
    return answer


def choice(key: str, value: str, allowed: Sequence[str]) -> str:
    if value not in allowed:
        raise ValueError(f"{key}: {value!r} is not one of {', '.join(allowed)}")
    return value


def parse_number(question: Question, text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{question.id}: expected a whole number, not {text!r}") from None
    low = question.min if question.min is not None else value
    high = question.max if question.max is not None else value
    if not low <= value <= high:
        raise ValueError(f"{question.id}: {value} is outside {low}-{high}")
    return value
