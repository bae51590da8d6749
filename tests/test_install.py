"""Sportello installed from its wheel, outside the checkout, as SMP would install it: content
made with `sportello init`, checks, a terminal chat, a backup round trip, /healthz and /metrics
of a running bot; nothing is ever written inside the installed package."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import stat
import subprocess
import sys
from asyncio.subprocess import PIPE, Process
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.fake_telegram import FakeTelegram
from tests.test_cli import ROOT, clean_environment, sportello
from tests.test_health import sample

OPERATORS = "111111111,222222222"  # the example operators of flows/booking.yaml
Snapshot = dict[str, tuple[int, float]]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The wheel, built once, installed into a folder of its own and made read-only."""
    dist, site = tmp_path_factory.mktemp("dist"), tmp_path_factory.mktemp("site")
    build = [sys.executable, "-m", "hatchling", "build", "--target", "wheel", "-d", str(dist)]
    subprocess.run(build, cwd=ROOT, check=True, capture_output=True)
    (wheel,) = dist.glob("sportello-*.whl")
    install = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site)]
    subprocess.run([*install, str(wheel)], check=True, capture_output=True)
    set_writable(site, False)
    yield site
    set_writable(site, True)  # so that pytest can clean up


def set_writable(folder: Path, writable: bool) -> None:
    for path in [folder, *folder.rglob("*")]:
        mode = path.stat().st_mode
        path.chmod(mode | stat.S_IWUSR if writable else mode & ~0o222)


def snapshot(folder: Path) -> Snapshot:
    """Every file and its size and time: root ignores read-only modes, this does not."""
    return {
        str(path.relative_to(folder)): (path.stat().st_size, path.stat().st_mtime)
        for path in folder.rglob("*")
    }


@pytest.fixture
def content(site: Path, tmp_path: Path) -> Iterator[Path]:
    """`sportello init ./content` in an empty folder, then `db upgrade` from it."""
    before = snapshot(site)
    made = installed(site, "init", "./content", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    folder = tmp_path / "content"
    assert {"faq", "flows", ".env", ".gitignore"} <= {path.name for path in folder.iterdir()}
    upgraded = installed(site, "db", "upgrade", cwd=folder)
    assert upgraded.returncode == 0 and "database at revision" in upgraded.stdout
    yield folder
    assert snapshot(site) == before


def installed(
    site: Path, *args: str, cwd: Path, stdin: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`python -m bot ...` of the installed package (its dependencies: this virtualenv's)."""
    return sportello(*args, stdin=stdin, env={"PYTHONPATH": str(site), **(env or {})}, cwd=cwd)


def test_the_package_is_the_installed_one(site: Path, tmp_path: Path) -> None:
    where = "import bot.paths as p; print(p.__file__, p.SHIPPED)"
    result = subprocess.run(
        [sys.executable, "-c", where],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=clean_environment({"PYTHONPATH": str(site)}),
        check=True,
    )
    assert result.stdout.split() == [str(site / "bot/paths.py"), str(site / "bot/_bundled")]


def test_checks_a_chat_and_a_backup_round_trip(site: Path, content: Path) -> None:
    faq = installed(site, "faq", "check", cwd=content)
    assert faq.returncode == 0, faq.stdout + faq.stderr
    staff = {"STAFF_USER_IDS": OPERATORS}
    booking = installed(site, "booking", "check", env=staff, cwd=content)
    assert booking.returncode == 0, booking.stdout + booking.stderr

    chat = installed(site, "chat", "--user", "77", "--lang", "en", stdin="ciao\n", cwd=content)
    assert chat.returncode == 0, chat.stderr
    assert "Hello" in chat.stdout or "Hi" in chat.stdout
    assert (content / "var/locale/en/LC_MESSAGES/sportello.mo").exists()  # under DATA_DIR

    backup_file = content.parent / "sportello.backup"
    saved = installed(site, "backup", "--out", str(backup_file), cwd=content)
    assert saved.returncode == 0, saved.stderr
    elsewhere = {"DATABASE_URL": f"sqlite:///{content.parent / 'restored.db'}"}
    restored = installed(site, "restore", str(backup_file), env=elsewhere, cwd=content)
    assert restored.returncode == 0, restored.stderr
    kept = table_rows(content / "var/sportello.db")
    assert kept["users"] == 1 and kept["conversations"] == 1
    assert table_rows(content.parent / "restored.db") == kept
    again = installed(site, "restore", str(backup_file), env=elsewhere, cwd=content)
    assert again.returncode == 1 and "already holds data" in again.stderr


def table_rows(database: Path) -> dict[str, int]:
    connection = sqlite3.connect(database)
    tables = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    count = 'SELECT count(*) FROM "{}"'
    rows = {name: connection.execute(count.format(name)).fetchone()[0] for (name,) in tables}
    connection.close()
    return rows


async def test_a_running_bot_answers_health_and_metrics(
    site: Path, content: Path, unused_tcp_port: int
) -> None:
    async with FakeTelegram() as tg:
        env = clean_environment(
            {
                "PYTHONPATH": str(site),
                "TELEGRAM_BOT_TOKEN": tg.token,
                "TELEGRAM_API_BASE_URL": tg.base_url,
                "PORT": str(unused_tcp_port),
                "LOG_FORMAT": "json",
            }
        )
        bot = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "bot", "run"), cwd=content, env=env, stderr=PIPE
        )
        try:
            await until_healthy(f"http://127.0.0.1:{unused_tcp_port}", bot)
            await chat_and_check(tg, f"http://127.0.0.1:{unused_tcp_port}", content)
        finally:
            bot.send_signal(signal.SIGTERM)
            _, stderr = await asyncio.wait_for(bot.communicate(), 20)
    logs = stderr.decode()
    assert bot.returncode == 0, logs
    assert tg.token not in logs and '"level": "WARNING"' in logs  # JSON lines


async def until_healthy(base: str, bot: Process) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(300):
            assert bot.returncode is None, "sportello run stopped"
            try:
                if (await client.get(f"{base}/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.05)
    raise AssertionError("no healthy /healthz within 15 s")


async def chat_and_check(tg: FakeTelegram, base: str, content: Path) -> None:
    async with httpx.AsyncClient() as client:
        before = (await client.get(f"{base}/metrics")).text
        anna = tg.user(5101, first_name="Anna")
        await anna.send("/start")
        assert (await anna.next_message()).text.startswith("Ciao Anna!")
        await anna.send("come mi iscrivo?")
        await anna.next_message()
        after = (await client.get(f"{base}/metrics")).text
        for kind in ("command", "text"):
            labels = {"channel": "telegram", "kind": kind}
            assert sample(after, "sportello_updates_total", **labels) == (
                sample(before, "sportello_updates_total", **labels) + 1
            )
        os.rename(content / "var/sportello.db", content / "var/gone.db")
        gone = await client.get(f"{base}/healthz")
        assert gone.status_code == 503 and gone.json()["database"] == "unreachable"


def test_init_never_overwrites_staff_edits(site: Path, tmp_path: Path) -> None:
    (tmp_path / "faq").mkdir()
    refused = installed(site, "init", ".", cwd=tmp_path)
    assert refused.returncode == 1
    assert (
        refused.stderr.strip()
        == f"sportello: {tmp_path / 'faq'} already exists: nothing was changed"
    )
    assert [path.name for path in tmp_path.iterdir()] == ["faq"]
