"""The terminal chat: buttons become numbered choices; stdin is read line by line.

Every button still on screen has its own number: an answer starts a new screen, except one
that edits the message whose button was pressed, which takes that message's place (and its
numbers). A question whose answer is typed (a number, a text) shows its buttons as [#1], and
only "#1" presses them, so a typed "2" is the answer. Files are saved to a folder and their
path printed."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from babel.units import format_unit

from bot.core.dispatcher import Dispatcher
from bot.delivery.outbox import Throttled
from bot.values.i18n import _, current_locale, use_locale
from bot.values.markup import to_plain
from bot.values.messages import (
    Answer,
    Button,
    Document,
    Image,
    Inbound,
    Kind,
    Outbound,
    Reply,
    Sender,
)

CHANNEL = "console"
PREFIX = "#"  # "#2" always presses button 2, even where a number is the answer
# Messages for another user's chat wait in the outbox until that user's terminal opens.
OTHER_CHAT_RETRY = 3600.0


@dataclass
class Screen:
    """The numbered buttons of the messages on screen, one dict per message."""

    messages: list[dict[int, Button]] = field(default_factory=list)
    typed: bool = False  # the last question wants a typed answer: bare digits are text
    pressed: int | None = None  # the number of the button pressed last

    def clear(self) -> None:
        self.messages, self.typed, self.pressed = [], False, None

    def button(self, number: int) -> Button | None:
        return next((m[number] for m in self.messages if number in m), None)

    @property
    def highest(self) -> int:
        return max((n for message in self.messages for n in message), default=0)

    def place(self, buttons: list[Button], replacing: bool) -> dict[int, Button]:
        """Numbers a message's buttons, the lowest free first; an edit takes the place of the
        message whose button was pressed."""
        if replacing:
            self.messages = [m for m in self.messages if self.pressed not in m]
        used = {n for message in self.messages for n in message}
        free = (n for n in range(1, len(used) + len(buttons) + 1) if n not in used)
        numbered = dict(zip(free, buttons, strict=False))
        if numbered:
            self.messages.append(numbered)
        return numbered


class ConsoleChannel:
    def __init__(
        self,
        dispatcher: Dispatcher,
        user_id: str,
        language: str,
        stdin: TextIO,
        stdout: TextIO,
        name: str = "",
        files: Path = Path("chat-files"),
        prompt: bool | None = None,
    ) -> None:
        self.dispatcher = dispatcher
        self.sender = Sender(user_id, name, language, int(user_id) if user_id.isdigit() else None)
        self.language = language
        self.stdin, self.stdout = stdin, stdout
        self.files = files
        self.prompt = stdin.isatty() if prompt is None else prompt
        self.screen = Screen()
        self._lock = asyncio.Lock()

    async def run(self) -> None:
        """Chats until end of input (Ctrl-D); starts with /start like a new Telegram chat."""
        await self.receive("/start")
        while True:
            self._prompt()
            line = await asyncio.to_thread(self.stdin.readline)
            if not line:
                self.stdout.write("\n")
                return
            await self.receive(line.rstrip("\n"))

    def _prompt(self) -> None:
        if self.prompt:
            self.stdout.write("> ")
            self.stdout.flush()

    async def receive(self, line: str) -> None:
        out_of_range = self.out_of_range(line)
        if out_of_range:
            self.stdout.write(out_of_range + "\n")
            return
        inbound = self.to_inbound(line)
        answer = await self.dispatcher.dispatch(inbound)
        async with self._lock:
            self.show(answer, pressed=inbound.kind is Kind.BUTTON)

    def pressed_number(self, line: str) -> int | None:
        """The button number a line presses: "#2" always, "2" unless the answer is typed."""
        choice = line.strip()
        if choice.startswith(PREFIX) and choice[1:].isdigit():
            return int(choice[1:])
        if choice.isdigit() and not self.screen.typed and self.screen.messages:
            return int(choice)
        return None

    def out_of_range(self, line: str) -> str | None:
        """ "Scegli un numero da 1 a 6", for a number no button on screen has."""
        number = self.pressed_number(line)
        if number is None or self.screen.button(number) is not None:
            return None
        with use_locale(self.language):
            if not self.screen.messages:
                return _("Non ci sono pulsanti da premere: scrivi pure.")
            return _("Scegli un numero da 1 a {last}.").format(last=self.screen.highest)

    def to_inbound(self, line: str) -> Inbound:
        chat = self.sender.id
        number = self.pressed_number(line)
        button = self.screen.button(number) if number is not None else None
        if button is not None:
            self.screen.pressed = number
            return Inbound(CHANNEL, self.sender, chat, Kind.BUTTON, payload=button.payload)
        choice = line.strip()
        if choice.startswith("/") and len(choice) > 1:
            command = choice[1:].split()[0].split("@")[0].lower()
            return Inbound(CHANNEL, self.sender, chat, Kind.COMMAND, text=line, command=command)
        return Inbound(CHANNEL, self.sender, chat, Kind.TEXT, text=line)

    def show(self, answer: Answer, pressed: bool = False) -> None:
        """An answer: a new screen, or (an edit of the pressed message) in that one's place."""
        first = answer.replies[0] if answer.replies else None
        replacing = pressed and isinstance(first, Reply) and first.replace
        if not replacing and answer.replies:
            self.screen.clear()
        if answer.notice:
            self.stdout.write(f"({answer.notice})\n")
        for index, message in enumerate(answer.replies):
            self.write(message, replacing=replacing and index == 0)
        self.stdout.flush()

    async def deliver(self, chat_id: str, message: Outbound) -> None:
        """Outbox sender: prints what is queued for this terminal's chat, below the screen;
        another user's messages wait for their terminal."""
        if chat_id != self.sender.id:
            raise Throttled(OTHER_CHAT_RETRY, chat_only=True)
        async with self._lock:
            self.stdout.write("\n")
            self.write(message)
            self._prompt()
            self.stdout.flush()

    def write(self, message: Outbound, replacing: bool = False) -> None:
        if isinstance(message, Reply):
            self.stdout.write(to_plain(message.text) + "\n")
            self._choices(message, replacing)
        elif isinstance(message, Document | Image):
            self._file(message)

    def _choices(self, reply: Reply, replacing: bool) -> None:
        buttons = [button for row in reply.buttons for button in row if not button.url]
        for button in (b for row in reply.buttons for b in row if b.url):
            self.stdout.write(f"  🔗 {button.label}: {button.url}\n")
        if not buttons:
            return
        self.screen.typed = reply.typed
        mark = PREFIX if reply.typed else ""
        for number, button in self.screen.place(buttons, replacing).items():
            self.stdout.write(f"  [{mark}{number}] {button.label}\n")

    def _file(self, message: Document | Image) -> None:
        caption = to_plain(message.caption)
        if caption:
            self.stdout.write(caption + "\n")
        path = self._save(message)
        with use_locale(self.language):
            line = _("📎 {name} ({size}), salvato in {path}").format(
                name=message.filename, size=size_label(len(message.content)), path=path
            )
        self.stdout.write(line + "\n")
        if isinstance(message, Document) and message.mime_type.startswith("application/json"):
            self.stdout.write(message.content.decode() + "\n")

    def _save(self, message: Document | Image) -> Path:
        """Writes the file into the folder, under a new name if one is there already."""
        self.files.mkdir(parents=True, exist_ok=True)
        name = Path(Path(message.filename).name or "file")
        path = self.files / name
        copy = 2
        while path.exists():
            path = self.files / f"{name.stem}-{copy}{name.suffix}"
            copy += 1
        path.write_bytes(message.content)
        return path


def size_label(size: int) -> str:
    """ "546 byte", "1,5 kB", "546 o", in the current language."""
    locale = current_locale()
    if size < 1000:
        return format_unit(size, "digital-byte", length="short", locale=locale)
    return format_unit(round(size / 1000, 1), "digital-kilobyte", length="short", locale=locale)
