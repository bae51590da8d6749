"""`sportello survey ...` (check, stats, export, import, report) and `sportello link`."""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path

from bot.basics.onboarding import DEEP_LINKS
from bot.config import SUPPORTED_LOCALES, Settings
from bot.paths import FLOWS_DIR
from bot.storage.db import Database
from bot.survey.questionnaire import Survey, SurveyError, load_survey

LINK_NAMES = tuple(DEEP_LINKS)
DEFAULT_BOT = "SportelloSMPBot"
USERNAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{4,31}$")


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Adds the `survey` and `link` commands to the `sportello` parser."""
    survey = commands.add_parser(
        "survey",
        help="the needs survey: check, results, export, import, report",
        description="The survey in flows/survey.yaml and its responses in the database.",
    )
    survey.add_argument(
        "--file",
        dest="survey_file",
        type=Path,
        default=FLOWS_DIR / "survey.yaml",
        metavar="YAML",
        help="the survey definition (default flows/survey.yaml)",
    )
    actions = survey.add_subparsers(dest="survey_command", required=True, metavar="ACTION")
    actions.add_parser("check", help="validate flows/survey.yaml (exit 1 on errors)")
    stats = actions.add_parser("stats", help="counts per question (completed responses)")
    stats.add_argument("--json", action="store_true", help="print the results as JSON")
    stats.add_argument("--area", metavar="ID", help="only responses from this area")
    stats.add_argument("--include-partial", action="store_true", help="count partial ones too")
    stats.add_argument("--lang", choices=SUPPORTED_LOCALES, default="it")
    export = actions.add_parser("export", help="one row per response, CSV or XLSX")
    export.add_argument("--format", choices=("csv", "xlsx"), help="default: from --out")
    export.add_argument("--out", type=Path, required=True, metavar="FILE")
    export.add_argument("--include-partial", action="store_true", help="add partial responses")
    load = actions.add_parser(
        "import",
        help="add responses from a file in the export's columns",
        description="Validates every row; one bad row rejects the whole file, unless "
        "--skip-invalid. Empty metadata cells are filled in (channel 'import').",
    )
    load.add_argument("path", type=Path, metavar="FILE.csv", help="CSV (or .xlsx)")
    load.add_argument("--skip-invalid", action="store_true", help="import the valid rows only")
    report = actions.add_parser("report", help="an HTML report with charts, readable offline")
    report.add_argument("--out", type=Path, required=True, metavar="DIR")
    report.add_argument("--lang", choices=SUPPORTED_LOCALES, default="it")
    report.add_argument("--include-partial", action="store_true", help="count partial ones too")
    link = commands.add_parser(
        "link",
        help="a deep link to the bot (and its QR code)",
        description="Prints https://t.me/<bot>?start=NAME; --qr also writes it as a PNG.",
    )
    link.add_argument("name", choices=LINK_NAMES, metavar="NAME", help=", ".join(LINK_NAMES))
    link.add_argument("--qr", type=Path, metavar="FILE.png", help="write a QR code image")
    link.add_argument(
        "--bot",
        metavar="USERNAME",
        help=f"the bot's username (default: $TELEGRAM_BOT_USERNAME or {DEFAULT_BOT})",
    )


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Runs `survey ACTION` or `link NAME`; returns the exit code."""
    if args.command == "link":
        return link(args.name, args.bot, args.qr)
    try:
        survey = load_survey(args.survey_file)
    except SurveyError as error:
        print(f"survey: {error}", file=sys.stderr)
        return 1
    if args.survey_command == "check":
        print(
            f"survey: ok, {survey.id} version {survey.version}, {len(survey.questions)} questions"
        )
        return 0
    database = Database(settings.database_url)
    try:
        database.ensure_schema()
        args.min_count = settings.report_min_count  # the report's tables by area
        return ACTIONS[args.survey_command](args, survey, database)
    finally:
        database.dispose()


def stats(args: argparse.Namespace, survey: Survey, database: Database) -> int:
    from bot.survey.results import stats, summary_text
    from bot.survey.sheets import load_responses

    if args.area is not None and args.area not in survey.question("area").option_ids():
        options = ", ".join(survey.question("area").option_ids())
        print(f"survey: unknown area {args.area!r} (one of {options})", file=sys.stderr)
        return 1
    results = stats(survey, load_responses(database, survey), args.area, args.include_partial)
    if args.json:
        print(json.dumps(results, ensure_ascii=False, indent=2))
    else:
        print(summary_text(survey, results, args.lang))
    return 0


def export(args: argparse.Namespace, survey: Survey, database: Database) -> int:
    from bot.survey.sheets import load_responses, write_csv, write_xlsx

    kind = args.format or ("xlsx" if args.out.suffix.lower() == ".xlsx" else "csv")
    responses = load_responses(database, survey, include_partial=args.include_partial)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    (write_xlsx if kind == "xlsx" else write_csv)(survey, responses, args.out)
    print(f"survey: {len(responses)} responses written to {args.out}")
    return 0


def load(args: argparse.Namespace, survey: Survey, database: Database) -> int:
    from bot.survey.sheets import ImportRejected, import_csv

    if not args.path.is_file():
        print(f"survey: {args.path}: no such file", file=sys.stderr)
        return 1
    try:
        result = import_csv(args.path, survey, database, skip_invalid=args.skip_invalid)
    except ImportRejected as rejected:
        print(f"survey: nothing imported, {len(rejected.errors)} bad row(s):", file=sys.stderr)
        for error in rejected.errors:
            print(f"  {args.path.name}: {error}", file=sys.stderr)
        return 1
    for error in result.skipped:
        print(f"skipped {args.path.name}: {error}", file=sys.stderr)
    print(f"survey: {result.imported} responses imported, {len(result.skipped)} rows skipped")
    return 0


def report(args: argparse.Namespace, survey: Survey, database: Database) -> int:
    from bot.survey.report import write_report
    from bot.survey.sheets import load_responses

    responses = load_responses(database, survey)
    index = write_report(
        survey, responses, args.out, args.lang, args.include_partial, small=args.min_count
    )
    print(f"survey: report written to {index}")
    return 0


ACTIONS = {"stats": stats, "export": export, "import": load, "report": report}


def bot_username(bot: str | None = None) -> str:
    """The bot's username: the argument, else $TELEGRAM_BOT_USERNAME, else the default."""
    return (bot or os.environ.get("TELEGRAM_BOT_USERNAME") or DEFAULT_BOT).strip().lstrip("@")


def deep_link(name: str, bot: str | None = None) -> str:
    """https://t.me/<bot>?start=<name>, which opens the bot at that menu entry."""
    return f"https://t.me/{bot_username(bot)}?start={name}"


def link(name: str, bot: str | None, qr: Path | None) -> int:
    if not USERNAME.match(bot_username(bot)):
        print(
            f"link: {bot_username(bot)!r} is not a bot username (5-32 of A-Z, 0-9, _)",
            file=sys.stderr,
        )
        return 2
    url = deep_link(name, bot)
    print(url)
    if qr is not None:
        import segno

        qr.parent.mkdir(parents=True, exist_ok=True)
        segno.make(url, error="m").save(str(qr), kind="png", scale=10, border=4)
        print(f"QR code written to {qr}")
    return 0
