"""The `sportello` command line."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.booking import cli as booking_cli
from bot.booking.setup import BookingError
from bot.config import SUPPORTED_LOCALES, ConfigError, Settings, load_settings
from bot.faq.knowledge import KnowledgeError
from bot.ops import logs, workspace
from bot.ops.startup import Unreachable
from bot.ops.workspace import WorkspaceExists
from bot.paths import CHAT_FILES, CONTENT_DIR, FAQ_DIR
from bot.storage import backup
from bot.storage.backup import BackupError
from bot.storage.db import Database, SchemaNotReady
from bot.storage.sql_errors import hide_statement_values
from bot.survey import cli as survey_cli
from bot.survey.questionnaire import SurveyError

EXIT_CONFIG = 2
EXIT_FAILED = 1


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
    chat.add_argument(
        "--files",
        type=Path,
        default=CHAT_FILES,
        metavar="DIR",
        help=f"where files the bot sends are saved (default ./{CHAT_FILES})",
    )
    db = commands.add_parser("db", help="database migrations", description="Alembic migrations.")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_commands.add_parser("upgrade", help="apply pending migrations")
    down = db_commands.add_parser("downgrade", help="revert migrations")
    down.add_argument("revision", nargs="?", default="-1", help="target (default -1; 'base')")
    db_commands.add_parser("current", help="show the applied revision")
    operations_parsers(commands)
    faq_parser(commands)
    survey_cli.add_parser(commands)  # `survey` and `link`
    booking_cli.add_parser(commands)
    return root


# name, help, description of the commands for running Sportello in production
OPERATIONS = {
    "init": (
        "an editable copy of faq/ and flows/ and a commented .env, in DIR",
        "Copies the default content (faq/, flows/) into DIR and writes a commented .env there "
        "that points CONTENT_DIR and DATA_DIR at it; never overwrites.",
    ),
    "backup": (
        "a consistent copy of the database, while the bot runs",
        "SQLite: the online backup API (a SQLite file). PostgreSQL: pg_dump in custom format "
        "(needs the PostgreSQL client tools).",
    ),
    "restore": (
        "put a backup back (the bot stopped)",
        "Restores a file made by `sportello backup`; refuses a database that already holds "
        "data unless --force.",
    ),
}


def operations_parsers(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parsers = {
        name: commands.add_parser(name, help=summary, description=details)
        for name, (summary, details) in OPERATIONS.items()
    }
    parsers["init"].add_argument("dir", type=Path, help="the folder to make (or an empty one)")
    parsers["backup"].add_argument("--out", type=Path, required=True, help="the file to write")
    parsers["restore"].add_argument("file", type=Path, help="the backup file")
    parsers["restore"].add_argument(
        "--force", action="store_true", help="replace the data already there"
    )


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
    actions.add_parser(
        "export-variants",
        help="write the variants staff taught from the chat into faq/topics/",
        description="Appends to each topic file the questions staff added with /faq_report "
        "(once each), and lists the questions marked as a new topic.",
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        settings = load_settings()
        serving = args.command == "run" and (
            settings.telegram_bot_token or settings.whatsapp_access_token
        )
        # In the terminal chat, log lines would interleave with the conversation.
        level = settings.log_level if serving else "WARNING"
        logs.configure(level, settings.log_format, secrets(settings))
        if not serving:  # a row for another terminal's chat waits: no news in this one
            logging.getLogger("bot.delivery.sender").setLevel(logging.ERROR)
        hide_statement_values()  # an error's log lines never quote what users wrote
        return run_command(args, settings)
    except (ConfigError, SchemaNotReady, KnowledgeError, SurveyError, BookingError) as error:
        print(f"sportello: {error}", file=sys.stderr)
        return EXIT_CONFIG
    except (Unreachable, BackupError, WorkspaceExists) as error:
        print(f"sportello: {error}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `sportello survey stats | head`: the reader has gone, fine
        quiet_stdout()
        return 141


def quiet_stdout() -> None:
    """Points stdout at /dev/null, so that Python's flush at exit finds no broken pipe."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def secrets(settings: Settings) -> list[str | None]:
    """What log lines must never show."""
    return [
        settings.telegram_bot_token,
        settings.webhook_secret,
        settings.secret_key,
        settings.metrics_token,
        settings.whatsapp_access_token,
        settings.whatsapp_app_secret,
        settings.whatsapp_verify_token,
    ]


def run_command(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "init":
        for path in workspace.init(args.dir):
            print(f"wrote {path}")
        print(f"next: cd {args.dir.absolute()} and edit .env; `sportello faq check` checks faq/")
        return 0
    if args.command in ("backup", "restore"):
        return backup_command(args, settings)
    if args.command == "db":
        return database_command(args, settings)
    if not FAQ_DIR.is_dir():
        raise ConfigError(
            f"CONTENT_DIR: no faq/ folder in {CONTENT_DIR} (`sportello init DIR` makes one)"
        )
    if args.command in ("survey", "link"):
        return survey_cli.run(args, settings)
    if args.command == "booking":
        return booking_cli.run(args, settings)
    if args.command == "faq":
        from bot.faq import cli as faq_cli

        return faq_cli.run(args, settings)
    from bot.app import App  # the app is heavy; `db` and `--help` do not need it

    app = App(settings)
    if args.command == "run" and (settings.telegram_bot_token or settings.whatsapp_access_token):
        asyncio.run(app.serve())
    else:
        user = getattr(args, "user", "1")
        lang = getattr(args, "lang", None) or settings.default_locale
        files = getattr(args, "files", CHAT_FILES)
        asyncio.run(app.chat(user, lang, sys.stdin, sys.stdout, files))
    return 0


def backup_command(args: argparse.Namespace, settings: Settings) -> int:
    database = Database(settings.database_url)
    try:
        if args.command == "backup":
            backup.backup(database, args.out)
            print(f"backup written to {args.out}")
        else:
            backup.restore(database, args.file, force=args.force)
            print(f"restored {args.file}; now run `sportello db upgrade` if it is older")
    finally:
        database.dispose()
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
