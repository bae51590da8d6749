"""The terminal chat: buttons become numbered choices; stdin is read line by line."""

from __future__ import annotations

import asyncio
from typing import TextIO

from bot.core.dispatcher import Dispatcher
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


class ConsoleChannel:
    def __init__(
        self,
        dispatcher: Dispatcher,
        user_id: str,
        language: str,
        stdin: TextIO,
        stdout: TextIO,
        name: str = "",
    ) -> None:
        self.dispatcher = dispatcher
        self.sender = Sender(user_id, name, language, int(user_id) if user_id.isdigit() else None)
        self.stdin, self.stdout = stdin, stdout
        self.choices: list[Button] = []
        self._lock = asyncio.Lock()

    async def run(self) -> None:
        """Chats until end of input (Ctrl-D); starts with /start like a new Telegram chat."""
        await self.receive("/start")
        while True:
            if self.stdin.isatty():
                self.stdout.write("> ")
                self.stdout.flush()
            line = await asyncio.to_thread(self.stdin.readline)
            if not line:
                self.stdout.write("\n")
                return
            await self.receive(line.rstrip("\n"))

    async def receive(self, line: str) -> None:
        inbound = self.to_inbound(line)
        answer = await self.dispatcher.dispatch(inbound)
        async with self._lock:
            self.show(answer)

    def to_inbound(self, line: str) -> Inbound:
        chat = self.sender.id
        choice = line.strip()
        if choice.isdigit() and 1 <= int(choice) <= len(self.choices):
            button = self.choices[int(choice) - 1]
            return Inbound(CHANNEL, self.sender, chat, Kind.BUTTON, payload=button.payload)
        if choice.startswith("/") and len(choice) > 1:
            command = choice[1:].split()[0].split("@")[0].lower()
            return Inbound(CHANNEL, self.sender, chat, Kind.COMMAND, text=line, command=command)
        return Inbound(CHANNEL, self.sender, chat, Kind.TEXT, text=line)

    def show(self, answer: Answer) -> None:
        if answer.notice:
            self.stdout.write(f"({answer.notice})\n")
        for message in answer.replies:
            self.write(message)
        self.stdout.flush()

    async def deliver(self, _chat_id: str, message: Outbound) -> None:
        """Outbox sender for this chat: prints messages queued for the console user."""
        async with self._lock:
            self.write(message)
            self.stdout.flush()

    def write(self, message: Outbound) -> None:
        if isinstance(message, Reply):
            self.stdout.write(to_plain(message.text) + "\n")
            self._choices(message)
        elif isinstance(message, Document | Image):
            self._file(message)

    def _choices(self, reply: Reply) -> None:
        buttons = [button for row in reply.buttons for button in row if not button.url]
        if not buttons:
            return
        self.choices = buttons
        for number, button in enumerate(buttons, start=1):
            self.stdout.write(f"  [{number}] {button.label}\n")

    def _file(self, message: Document | Image) -> None:
        caption = to_plain(message.caption)
        if caption:
            self.stdout.write(caption + "\n")
        self.stdout.write(f"[{message.filename}, {len(message.content)} byte]\n")
        if isinstance(message, Document) and message.mime_type.startswith("application/json"):
            self.stdout.write(message.content.decode() + "\n")
