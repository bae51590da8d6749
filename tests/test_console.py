"""The terminal chat as a person uses it: `python -m bot chat` in a subprocess, fed on stdin."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bot.delivery import outbox
from bot.storage.db import Database
from bot.values.markup import text
from bot.values.messages import Address, Delivery, Reply
from tests.test_cli import sportello

STAFF = "4242"


def chat(tmp_path: Path, user: str, *lines: str, lang: str = "it") -> str:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'chat.db'}", "STAFF_USER_IDS": STAFF}
    script = "".join(line + "\n" for line in lines)
    result = sportello("chat", "--user", user, "--lang", lang, stdin=script, env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


def book(tmp_path: Path, user: str, day: str, consent: bool = True) -> str:
    """/richiamata by numbers: consent, first topic, phone call, a day, its first time, the
    number, no note, confirm."""
    steps = ["1"] * (3 if consent else 2) + [day, "1", "333 123 4567", "#1", "1"]
    return chat(tmp_path, user, "/richiamata", *steps)


def test_with_two_bookings_each_card_has_its_own_numbers(tmp_path: Path) -> None:
    book(tmp_path, "7", "1")
    book(tmp_path, "7", "2", consent=False)
    out = chat(tmp_path, "7", "/prenotazioni", "3")
    assert "[1] 🕑 Sposta" in out and "[3] 🕑 Sposta" in out  # the second card: 3 and 4
    assert "[4] ✖️ Annulla la richiamata" in out
    assert "Quale giorno ti va bene?" in out  # 3 moves the second call


def test_a_typed_number_is_the_answer_where_a_number_is_asked(tmp_path: Path) -> None:
    out = chat(
        tmp_path,
        STAFF,
        "/nuovo_evento",
        "Sicurezza nei cantieri",
        "Due ore con l'ispettorato.",
        "12/3/2030 18:30",
        "Sala consiliare, Torre Pellice",
        "1",  # the first topic
        "7",  # "Avanti"
        "7",  # "Tutti i territori"
        "8",  # "Avanti"
        "2",  # two seats, not the second button ("Annulla")
    )
    assert "[#1] Nessun limite" in out and "[#2] ✖️ Annulla" in out
    assert "Posti disponibili: 2" in out
    assert "Va bene" not in out.split("Quanti posti")[-1]


def test_numbers_out_of_range_and_files_saved_with_their_path(tmp_path: Path) -> None:
    out = book(tmp_path, "7", "1") + chat(tmp_path, "7", "9")
    assert "📎 richiamata.ics (" in out and "byte), salvato in chat-files/richiamata.ics" in out
    assert (tmp_path / "chat-files" / "richiamata.ics").read_bytes().startswith(b"BEGIN:")
    assert "Scegli un numero da 1 a 7." in out  # the menu's seven entries, not "Non lo so"
    english = chat(tmp_path, "8", "/callback", *"1111", "1", "333 1234567", "#1", "1", lang="en")
    assert "📎 callback.ics (" in english and "saved to chat-files/callback.ics" in english
    assert (tmp_path / "chat-files" / "callback.ics").exists()


def test_only_this_terminals_chat_is_shown(tmp_path: Path) -> None:
    chat(tmp_path, "7")  # creates the database
    database = Database(f"sqlite:///{tmp_path / 'chat.db'}")
    with database.transaction() as session:
        report = Reply(text("📊 Invio finito: «Seminario»"))
        outbox.enqueue(session, Delivery(Address("console", STAFF), report), datetime.now(UTC))
    database.dispose()
    assert "Invio finito" not in open_for_a_while(tmp_path, "7")
    assert "Invio finito" in open_for_a_while(tmp_path, STAFF)


def open_for_a_while(tmp_path: Path, user: str, seconds: float = 4) -> str:
    """A terminal left open: what the outbox delivers meanwhile shows up."""
    command = [sys.executable, "-m", "bot", "chat", "--user", user]
    process = subprocess.Popen(
        command,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=terminal_env(tmp_path),
        cwd=tmp_path,
    )
    assert process.stdout is not None
    seen = []
    for line in process.stdout:  # the greeting's last line: the terminal is open
        seen.append(line)
        if b"Lingua" in line:
            break
    time.sleep(seconds)  # the outbox looks every 2 seconds
    out, _err = process.communicate(b"", timeout=30)
    return (b"".join(seen) + out).decode()


def test_reopening_offers_the_unfinished_survey(tmp_path: Path) -> None:
    chat(tmp_path, "7", "/questionario", "1", "1", "1")  # consent, start, Pinerolo
    out = chat(tmp_path, "7", "8")
    assert "Hai un questionario lasciato a metà" in out
    assert "[8] ▶️ Riprendi" in out  # below the menu's seven
    assert "Domanda 2 di" in out


def test_the_prompt_comes_back_after_a_message_nobody_asked_for(tmp_path: Path) -> None:
    chat(tmp_path, "7")
    main, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "chat", "--user", "7"],
        stdin=terminal,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=terminal_env(tmp_path),
        cwd=tmp_path,
    )
    try:
        assert b"> " in read_until(process, b"> ")
        database = Database(f"sqlite:///{tmp_path / 'chat.db'}")
        with database.transaction() as session:
            reminder = Reply(text("⏰ Promemoria: domani alle 10:00"))
            outbox.enqueue(session, Delivery(Address("console", "7"), reminder), datetime.now(UTC))
        database.dispose()
        shown = read_until(process, b"Promemoria")
        if not shown.endswith(b"> "):
            shown += read_until(process, b"> ")
        assert shown.endswith(b"Promemoria: domani alle 10:00\n> ")
    finally:
        os.write(main, b"\x04")
        process.wait(timeout=30)
        os.close(main), os.close(terminal)


def terminal_env(tmp_path: Path) -> dict[str, str]:
    kept = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "STAFF_"))}
    return {**kept, "DATABASE_URL": f"sqlite:///{tmp_path / 'chat.db'}"}


def read_until(process: subprocess.Popen[bytes], wanted: bytes, timeout: float = 30) -> bytes:
    assert process.stdout is not None
    seen = b""
    deadline = time.monotonic() + timeout
    while wanted not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([process.stdout], [], [], 0.2)
        if ready:
            seen += os.read(process.stdout.fileno(), 4096)
    return seen
