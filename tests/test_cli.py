"""The `sportello` command: the terminal chat, migrations, help, and clear config errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.storage.db import Database
from tests.conftest import postgres_or_skip

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = ("TELEGRAM_", "DATABASE_", "STAFF_", "WEBHOOK_", "DEFAULT_LOCALE", "LANG", "LC_")
SETTINGS += ("CONTENT_DIR", "DATA_DIR", "LOG_", "PORT", "HOST", "METRICS_", "PYTHONPATH")


def clean_environment(env: dict[str, str] | None = None) -> dict[str, str]:
    """This process's environment without Sportello's settings, plus `env`."""
    base = {key: value for key, value in os.environ.items() if not key.startswith(SETTINGS)}
    return {**base, **(env or {})}


def sportello(
    *args: str, stdin: str = "", env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Runs `python -m bot ...` from another directory, with a clean environment."""
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=clean_environment(env),
        cwd=cwd or ROOT / "tests",
        timeout=60,
    )


def test_the_terminal_chat_can_be_scripted(tmp_path: Path) -> None:
    database = {"DATABASE_URL": f"sqlite:///{tmp_path / 'chat.db'}", "LANG": "en_US.UTF-8"}
    script = "ciao\n7\n2\n/privacy\n"
    result = sportello("chat", "--user", "77", stdin=script, env=database, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Ciao!" in out  # Italian by default, whatever the shell's LANG says
    assert "[7] 🌐 Lingua" in out
    assert "In che lingua preferisci parlare?" in out
    assert "from now on I'll write to you in English" in out
    assert "Privacy notice" in out or "privacy" in out.lower()
    assert "Traceback" not in result.stderr


def test_state_survives_between_two_chats(tmp_path: Path) -> None:
    database = {"DATABASE_URL": f"sqlite:///{tmp_path / 'chat.db'}"}
    sportello("chat", "--user", "5", stdin="/lingua\n3\n", env=database, cwd=tmp_path)
    again = sportello("chat", "--user", "5", stdin="", env=database, cwd=tmp_path)
    assert "Bonjour" in again.stdout


def test_lang_option_picks_the_language(tmp_path: Path) -> None:
    database = {"DATABASE_URL": f"sqlite:///{tmp_path / 'chat.db'}"}
    result = sportello("chat", "--lang", "en", stdin="", env=database, cwd=tmp_path)
    assert "Hello!" in result.stdout or "Hi!" in result.stdout


@pytest.mark.parametrize(
    ("name", "value", "line"),
    [
        ("STAFF_USER_IDS", "abc", "sportello: STAFF_USER_IDS: expected comma-separated"),
        ("DATABASE_URL", "oracle://x", "sportello: DATABASE_URL: expected a sqlite"),
        ("PORT", "x", "sportello: PORT: Input should be a valid integer"),
    ],
)
def test_a_wrong_setting_stops_with_one_line_and_exit_2(name: str, value: str, line: str) -> None:
    result = sportello("chat", env={name: value})
    assert result.returncode == 2
    assert result.stderr.strip().startswith(line)
    assert len(result.stderr.strip().splitlines()) == 1


def test_db_commands_on_sqlite(tmp_path: Path) -> None:
    database = {"DATABASE_URL": f"sqlite:///{tmp_path / 'db.db'}"}
    assert "base (empty)" in sportello("db", "current", env=database).stdout
    head = Database(f"sqlite:///{tmp_path / 'head.db'}").head_revision()
    assert f"revision {head}" in sportello("db", "upgrade", env=database).stdout
    assert "base (empty)" in sportello("db", "downgrade", "base", env=database).stdout


def test_postgres_must_be_migrated_explicitly(database_url: str) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite migrates itself")
    postgres_or_skip()
    result = sportello("chat", env={"DATABASE_URL": database_url})
    assert result.returncode == 2
    assert "run `sportello db upgrade` first" in result.stderr
    assert sportello("db", "upgrade", env={"DATABASE_URL": database_url}).returncode == 0
    assert "Ciao!" in sportello("chat", env={"DATABASE_URL": database_url}).stdout


@pytest.mark.parametrize("args", [(), ("run",), ("chat",), ("db",), ("db", "upgrade")])
def test_every_command_has_help(args: tuple[str, ...]) -> None:
    result = sportello(*args, "--help")
    assert result.returncode == 0
    assert "usage: sportello" in result.stdout


def test_faq_check_validates_the_knowledge_base() -> None:
    result = sportello("faq", "check")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("faq: ok,")


def test_faq_ask_prints_the_answer() -> None:
    result = sportello("faq", "ask", "buoni pasto elettronici 2026")
    assert result.returncode == 0
    assert "Aggiornato al" in result.stdout


def test_faq_ask_batch_reads_stdin_and_writes_json_lines() -> None:
    questions = "posso dare buoni benzina ai ragazzi?\nricetta della bagna cauda\n\n"
    result = sportello("faq", "ask", "--json", "-", stdin=questions)
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [row["question"] for row in rows] == [
        "posso dare buoni benzina ai ragazzi?",
        "ricetta della bagna cauda",
    ]
    assert rows[0]["id"] == "buoni-acquisto-carburante"
    assert rows[1]["id"] is None
    assert set(rows[0]) == {"question", "id", "score", "alternatives"}


def test_the_survey_in_the_terminal_chat(tmp_path: Path) -> None:
    database = {"DATABASE_URL": f"sqlite:///{tmp_path / 'chat.db'}"}
    # consent, start, area 2, role 1, sector 2, no employees, a grid answer, /annulla
    script = "/questionario\n1\n1\n2\n1\n2\n2\n1\n/annulla\n/questionario\n1\n"
    result = sportello("chat", "--user", "12", stdin=script, env=database, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Domanda 1 di 13" in out
    assert "Domanda 5 di 11" in out  # no employees: two questions fewer
    assert "messo da parte" in out
    assert "Hai un questionario lasciato a metà" in out
    resumed = out.split("lasciato a metà")[-1]
    assert "Domanda 5 di 11" in resumed and "Figli" in resumed  # the grid's next item
    assert "⬅️ Indietro" in resumed


def test_a_reader_that_stops_early_gets_no_traceback(tmp_path: Path) -> None:
    database = {"DATABASE_URL": f"sqlite:///{tmp_path / 'pipe.db'}"}
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("DATABASE_")}, **database}
    for args in (["survey", "stats"], ["faq", "ask", "posso dare buoni benzina ai ragazzi?"]):
        sportello("db", "upgrade", env=database, cwd=tmp_path)
        shell = f"{sys.executable} -m bot {' '.join(repr(a) for a in args)} | head -n 1"
        result = subprocess.run(
            shell, shell=True, capture_output=True, text=True, env=env, cwd=ROOT, timeout=60
        )
        assert result.stdout.strip(), args
        assert "Traceback" not in result.stderr and "BrokenPipe" not in result.stderr, args
