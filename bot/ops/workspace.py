"""`sportello init DIR`: an editable copy of the content and a commented `.env`, for staff."""

from __future__ import annotations

import shutil
from pathlib import Path

from bot.paths import SHIPPED

CONTENT_FOLDERS = ("faq", "flows")

ENV_TEMPLATE = """\
# Sportello's settings for this installation (README: Configuration lists them all).
# Run `sportello` from this folder, or give this file to systemd as its EnvironmentFile.
# It holds secrets: keep it out of version control (.gitignore says so).

# Where faq/ and flows/ are read from: this folder, edited by staff.
CONTENT_DIR={content}
# The SQLite database, compiled catalogs and other generated files; back it up.
DATA_DIR={data}

# DATABASE_URL=postgresql://sportello@127.0.0.1/sportello   # default: SQLite in DATA_DIR

# Telegram: the token from @BotFather; without it `sportello run` opens the terminal chat.
# TELEGRAM_BOT_TOKEN=
# STAFF_USER_IDS=111111111,222222222
# STAFF_CHAT_ID=
# WEBHOOK_URL=https://sportello.example.org/telegram
# WEBHOOK_SECRET=

# Health checks and metrics (/healthz, /metrics) and the webhooks listen here.
# HOST=127.0.0.1
# PORT=8080
# METRICS_TOKEN=

# LOG_LEVEL=INFO
# LOG_FORMAT=text   # or json
"""

GITIGNORE = ".env\nvar/\n"


class WorkspaceExists(Exception):
    """The folder already holds content: `init` never overwrites staff edits."""


def init(folder: Path, source: Path = SHIPPED) -> list[Path]:
    """Copies the default content into `folder` and writes `.env` there; returns what it made."""
    folder = folder.absolute()
    taken = [folder / name for name in (*CONTENT_FOLDERS, ".env") if (folder / name).exists()]
    if taken:
        raise WorkspaceExists(f"{taken[0]} already exists: nothing was changed")
    folder.mkdir(parents=True, exist_ok=True)
    made = []
    for name in CONTENT_FOLDERS:
        made.append(copy_tree(source / name, folder / name))
    env = folder / ".env"
    env.write_text(ENV_TEMPLATE.format(content=folder, data=folder / "var"), encoding="utf-8")
    made.append(env)
    ignore = folder / ".gitignore"
    if not ignore.exists():
        ignore.write_text(GITIGNORE, encoding="utf-8")
        made.append(ignore)
    return made


def copy_tree(source: Path, target: Path) -> Path:
    """Copies the files only, not their modes: an installed package may be read-only, the
    copy is for editing."""
    for path in sorted(source.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            destination = target / path.relative_to(source)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, destination)
    return target
