"""The `sportello` command line."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence

from bot.booking import cli as booking_cli
from bot.booking.setup import BookingError
from bot.config import SUPPORTED_LOCALES, ConfigError, Settings, load_settings
from bot.faq.knowledge import KnowledgeError
from bot.storage.db import Database, SchemaNotReady
from bot.storage.sql_errors import hide_statement_values
from bot.survey import cli as survey_cli
from bot.survey.questionnaire import SurveyError

EXIT_CONFIG = 2


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="sportello", description="Sportello, the chat desk of Società Mutua Piemonte ETS."
    )
    commands = root.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser(
        "run",
        help="serve every configured channel (Telegram); the terminal chat if none",
        description="Serves Telegram when TELEGRAM_BOT_TOKEN is set (webhook with WEBHOOK_URL, "
        "else polling); with no channel configured, opens the terminal chat.",
    )
    chat = commands.add_parser(
        "chat",
        help="chat in the terminal (ends at Ctrl-D)",
        description="Chats in the terminal; buttons are numbered.",
    )
    chat.add_argument("--user", default="1", help="user id to chat as (default 1)")
    chat.add_argument("--lang", choices=SUPPORTED_LOCALES, help="language (default DEFAULT_LOCALE)")
    db = commands.add_parser("db", help="database migrations", description="Alembic migrations.")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_commands.add_parser("upgrade", help="apply pending migrations")
    down = db_commands.add_parser("downgrade", help="revert migrations")
    down.add_argument("revision", nargs="?", default="-1", help="target (default -1; 'base')")
    db_commands.add_parser("current", help="show the applied revision")
    faq_parser(commands)
    survey_cli.add_parser(commands)  # `survey` and `link`
    booking_cli.add_parser(commands)
    return root


def faq_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    faq = commands.add_parser(
        "faq",
        help="the FAQ knowledge base in faq/",
        description="Check the FAQ files, or try questions on them.",
    )
    actions = faq.add_subparsers(dest="faq_command", required=True, metavar="ACTION")
    actions.add_parser(
        "check",
        help="validate every file in faq/ (exit 1 on errors)",
        description="Validates faq/: schema, languages, ids, references; "
        "warns on entries reviewed more than 12 months ago.",
    )
    ask = actions.add_parser(
        "ask",
        help="match a question (or '-' for one per line on stdin)",
        description="Matches questions against the knowledge base; needs no database.",
    )
    ask.add_argument("question", help="the question, or - to read one per line from stdin")
    ask.add_argument("--lang", choices=SUPPORTED_LOCALES, default="it")
    ask.add_argument("--json", action="store_true", help="one JSON object per question")


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        settings = load_settings()
        serving = args.command == "run" and (
            settings.telegram_bot_token or settings.whatsapp_access_token
        )
        # In the terminal chat, log lines would interleave with the conversation.
        level = settings.log_level.upper() if serving else "WARNING"
        logging.basicConfig(
            level=level,
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
            stream=sys.stderr,
        )
        hide_statement_values()  # an error's log lines never quote what users wrote
        for noisy in ("httpx", "apscheduler", "alembic.runtime.migration"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
        return run_command(args, settings)
    except (ConfigError, SchemaNotReady, KnowledgeError, SurveyError, BookingError) as error:
        print(f"sportello: {error}", file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return 130


def run_command(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "db":
        return database_command(args, settings)
    if args.command in ("survey", "link"):
        return survey_cli.run(args, settings)
    if args.command == "booking":
        return booking_cli.run(args, settings)
    if args.command == "faq":
        from bot.faq import cli as faq_cli

        return faq_cli.run(args)
    from bot.app import App  # the app is heavy; `db` and `--help` do not need it

    app = App(settings)
    if args.command == "run" and (settings.telegram_bot_token or settings.whatsapp_access_token):
        asyncio.run(app.serve())
    else:
        user = getattr(args, "user", "1")
        lang = getattr(args, "lang", None) or settings.default_locale
        asyncio.run(app.chat(user, lang, sys.stdin, sys.stdout))
    return 0


def database_command(args: argparse.Namespace, settings: Settings) -> int:
    database = Database(settings.database_url)
    try:
        if args.db_command == "upgrade":
            database.upgrade()
        elif args.db_command == "downgrade":
            database.downgrade(args.revision)
        print(f"database at revision {database.current_revision() or 'base (empty)'}")
    finally:
        database.dispose()
    return 0
