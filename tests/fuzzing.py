"""Random updates for the real Application: odd texts, media, contacts, edits, group messages,
forged and replayed buttons, from several users at once. Seeded: a run can be replayed.

Used by tests/test_fuzz.py (a size that fits `make test`) and bench/fuzz.py (larger runs)."""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from dataclasses import dataclass, field

from tests.fake_telegram import FakeChat, FakeTelegram, FakeUser

STAFF_GROUP = -1001777
OTHER_GROUP = -4242
COMMANDS = (
    "/start",
    "/menu",
    "/aiuto",
    "/faq",
    "/questionario",
    "/richiamata",
    "/prenotazioni",
    "/eventi",
    "/iscriviti",
    "/disiscriviti",
    "/lingua",
    "/privacy",
    "/miei_dati",
    "/cancella",
    "/staff",
    "/statistiche",
    "/sconosciuto",
    "/start@sportello_test_bot",
    "/",
)
WORDS = (
    "ciao",
    "welfare",
    "fondo sanitario",
    "rimborso",
    "333 123 4567",
    "+39 899 123456",
    "0121 123456",
    "12/3/2027 18:30",
    "sì",
    "no",
    "Pinerolo",
    "Val Pellice",
    '=HYPERLINK("x")',
    "<b>grassetto</b>",
    "&amp;",
    "🙂",
    "مرحبا",
    "שלום",
    "日本語",
)
ODD = ("\x00", "\x01", "\x1b[31m", "\x7f", "\u202e", "\u200f", "\u200b", "\ufeff", "\r\n", "\t")


def text_of(rnd: random.Random) -> str:
    """Words, control and right-to-left characters, now and then a very long text."""
    roll = rnd.random()
    if roll < 0.05:
        return rnd.choice(WORDS) * rnd.randint(200, 4096 // 3)  # long, up to Telegram's limit
    if roll < 0.08:
        return rnd.choice(["", " ", "\n", "\x00"])
    parts = [rnd.choice(WORDS + ODD) for _ in range(rnd.randint(1, 8))]
    return "".join(rnd.choice((" ", "")) + part for part in parts)[:4096] or "?"


def forged_data(rnd: random.Random) -> str:
    """Button data nobody made: wrong signatures, non-ASCII after the separator, junk."""
    choices = [
        "menu~AAAAAAAA",
        "lang:fr~é" + "x" * 7,
        "erase_yes~" + "ü" * 8,
        "withdraw_yes",
        "~",
        "bks_take:1~ZZZZZZZZ",
        "".join(chr(rnd.randint(0x20, 0x2FFF)) for _ in range(rnd.randint(1, 20))),
    ]
    return rnd.choice(choices)[:64]


@dataclass
class Fuzzer:
    """Several users (one of them staff) writing at random in private and in groups."""

    tg: FakeTelegram
    rnd: random.Random
    users: list[FakeUser]
    groups: list[FakeChat]
    sent: Counter[str] = field(default_factory=Counter)
    own_messages: dict[int, list[int]] = field(default_factory=dict)

    @classmethod
    def create(cls, tg: FakeTelegram, seed: int, staff_id: int, people: int = 6) -> Fuzzer:
        languages = ("it", "en", "fr", "de", None)
        users = [
            tg.user(5000 + n, f"Utente{n}\u202e", language_code=languages[n % len(languages)])
            for n in range(people)
        ]
        users.append(tg.user(staff_id, "Staff"))
        groups = [
            tg.group(STAFF_GROUP, "Staff", bot_is_admin=True),
            tg.group(OTHER_GROUP, "Altri", bot_is_admin=True),
        ]
        return cls(tg, random.Random(seed), users, groups)

    async def step(self) -> None:
        """One random update."""
        user = self.rnd.choice(self.users)
        roll = self.rnd.random()
        if roll < 0.30:
            await self._press(user)
        elif roll < 0.50:
            await self._write(user, self.rnd.choice(COMMANDS))
        elif roll < 0.70:
            await self._write(user, text_of(self.rnd))
        elif roll < 0.78:
            await self._in_group(user)
        elif roll < 0.84:
            await self._media(user)
        elif roll < 0.89:
            await self._contact(user)
        elif roll < 0.93:
            await self._edit(user)
        elif roll < 0.97:
            await self._replay(user)
        else:
            self.sent["forged"] += 1
            await self._press_data(user, user.chat, forged_data(self.rnd))

    async def _write(self, user: FakeUser, text: str) -> None:
        self.sent["text"] += 1
        message_id = await user.send(text)
        self.own_messages.setdefault(user.id, []).append(message_id)

    async def _press(self, user: FakeUser) -> None:
        """A button of one of the newest messages of the user's chat (old ones too)."""
        buttons = self._buttons(user.chat)
        if not buttons:
            await self._write(user, "/start")
            return
        self.sent["press"] += 1
        message_id, data = self.rnd.choice(buttons[-12:])
        await self._press_data(user, user.chat, data, message_id)

    async def _replay(self, user: FakeUser) -> None:
        """Someone else's button, pressed in one's own chat (or in the staff group)."""
        other = self.rnd.choice(self.users)
        buttons = self._buttons(other.chat) + self._buttons(self.groups[0])
        if not buttons:
            return
        self.sent["replayed"] += 1
        _message_id, data = self.rnd.choice(buttons)
        chat = self.rnd.choice([user.chat, self.groups[0]])
        await self._press_data(user, chat, data)

    async def _in_group(self, user: FakeUser) -> None:
        self.sent["group"] += 1
        group = self.rnd.choice(self.groups)
        roll = self.rnd.random()
        if roll < 0.3:
            await user.send(self.rnd.choice(COMMANDS), chat=group)
        elif roll < 0.6 and (buttons := self._buttons(group)):
            message_id, data = self.rnd.choice(buttons)
            await self._press_data(user, group, data, message_id)
        else:
            await user.send(text_of(self.rnd), chat=group)

    async def _media(self, user: FakeUser) -> None:
        self.sent["media"] += 1
        kind = self.rnd.randrange(5)
        if kind == 0:
            await user.send_sticker()
        elif kind == 1:
            await user.send_photo(caption=text_of(self.rnd)[:1000])
        elif kind == 2:
            await user.send_voice()
        elif kind == 3:
            await user.send_location(45.0 + self.rnd.random(), 7.0 + self.rnd.random())
        else:
            await user.send_document("note.txt", b"\x00\x01 dati", "text/plain")

    async def _contact(self, user: FakeUser) -> None:
        self.sent["contact"] += 1
        phone = self.rnd.choice(["393331234567", "+39 899 123456", "12", "+1 900 555 0123"])
        owner = self.rnd.choice([user.id, None, user.id + 1])
        await user.send_contact(phone, user_id=owner, first_name="Amico\x00")

    async def _edit(self, user: FakeUser) -> None:
        mine = self.own_messages.get(user.id)
        if not mine:
            await self._write(user, text_of(self.rnd))
            return
        self.sent["edited"] += 1
        await user.edit(self.rnd.choice(mine), text_of(self.rnd) or "x")

    async def _press_data(
        self, user: FakeUser, chat: FakeChat, data: str, message_id: int | None = None
    ) -> None:
        if not chat._bot_records():
            return
        await user.press_data(data, message_id, chat=chat)

    @staticmethod
    def _buttons(chat: FakeChat) -> list[tuple[int, str]]:
        """(message id, callback data) of the buttons the chat shows now."""
        found = []
        for message in chat.bot_messages:
            rows = (message.reply_markup or {}).get("inline_keyboard", [])
            for row in rows:
                found += [
                    (message.message_id, b["callback_data"]) for b in row if "callback_data" in b
                ]
        return found


async def settle(tg: FakeTelegram, quiet: float = 0.1, limit: float = 60.0) -> None:
    """Waits until the bot has taken every update and made no call for `quiet` seconds."""
    deadline = time.monotonic() + limit
    calls = -1
    while time.monotonic() < deadline:
        busy = sum(n for method, n in tg.in_flight.items() if method.lower() != "getupdates")
        if not tg.pending_updates and not busy and calls == len(tg.calls):
            return
        calls = len(tg.calls)
        await asyncio.sleep(quiet)
    raise AssertionError(f"the bot did not settle within {limit:g} s")


async def run(fuzzer: Fuzzer, updates: int, round_size: int = 80) -> int:
    """At least `updates` random updates, in rounds: the bot catches up after each round.
    Returns how many updates the bot was sent."""
    first = len(fuzzer.tg.updates)
    while (done := len(fuzzer.tg.updates) - first) < updates:
        for _ in range(min(round_size, updates - done)):
            await fuzzer.step()
        await settle(fuzzer.tg)
    return len(fuzzer.tg.updates) - first
