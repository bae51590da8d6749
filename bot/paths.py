"""Where the project's content folders are, from any working directory."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FAQ_DIR = ROOT / "faq"
FLOWS_DIR = ROOT / "flows"
LOCALE_DIR = ROOT / "locale"
MIGRATIONS_DIR = ROOT / "migrations"
DEFAULT_VAR_DIR = ROOT / "var"
CHAT_FILES = Path("chat-files")  # the terminal chat's files, in the working directory
