"""Where Sportello reads its content and code files, and where it writes, from anywhere.

Run from a git checkout, the defaults are the checkout's folders (`faq/`, `flows/`,
`locale/`, `migrations/`, and `var/` for data). Installed from a wheel, the content, the
catalogs and the migrations come from the copy packaged in `bot/_bundled/`, and data goes to
`./var` in the working directory. `CONTENT_DIR` and `DATA_DIR` (environment or `.env`) move
the content and the data; nothing is ever written inside the installed package.
"""

import os
from pathlib import Path

from dotenv import dotenv_values

PACKAGE = Path(__file__).resolve().parent
CHECKOUT = PACKAGE.parent
BUNDLED = PACKAGE / "_bundled"


def is_checkout(root: Path = CHECKOUT) -> bool:
    """Is the package imported from a git checkout (rather than from an install)?"""
    return (root / "pyproject.toml").is_file() and (root / "migrations").is_dir()


def setting(name: str, env_file: Path = Path(".env")) -> str | None:
    """A path setting from the environment, else from `.env`, like the other settings."""
    value = os.environ.get(name)
    if value is None and env_file.is_file():
        value = dotenv_values(env_file).get(name)
    return value.strip() or None if value else None


SHIPPED = CHECKOUT if is_checkout() else BUNDLED  # what comes with this version of the code
LOCALE_DIR = SHIPPED / "locale"  # the .po sources; compiled catalogs go under DATA_DIR
MIGRATIONS_DIR = SHIPPED / "migrations"

CONTENT_DIR = Path(setting("CONTENT_DIR") or SHIPPED).absolute()
FAQ_DIR = CONTENT_DIR / "faq"
FLOWS_DIR = CONTENT_DIR / "flows"

DATA_DIR = Path(setting("DATA_DIR") or (SHIPPED / "var" if is_checkout() else "var")).absolute()
COMPILED_LOCALE_DIR = DATA_DIR / "locale"
CHAT_FILES = Path("chat-files")  # the terminal chat's files, in the working directory
