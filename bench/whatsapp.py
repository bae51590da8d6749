"""Benchmark: WhatsApp messages through the webhook, the inbox, the desk and the fake Graph API,
and in the same run the same conversation on Telegram, on the same desk.

    python bench/whatsapp.py [--users 30] [--messages 10] [--database-url URL]

One Sportello (the real App serving Telegram by polling tests/fake_telegram.py and WhatsApp's
webhook from tests/fake_whatsapp.py; SQLite in a temporary directory unless --database-url
names PostgreSQL, which gets a fresh schema dropped at the end) runs in this process and event
loop with both fakes. First on WhatsApp, then on Telegram (never both at once), `--users`
people write `--messages` messages each, one after the other (the next once the whole answer
has arrived: a person waits for the reply), all people at once. Before each phase one person
goes through the same conversation slowly, to count how many messages answer each step.
Latency runs from the user's message (the signed webhook POST; the update handed to the bot)
to the last message of its answer arriving at the fake: what the person waits.
The last line on stdout is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.app import App  # noqa: E402
from tests.bot_runner import running_bot, telegram_settings  # noqa: E402
from tests.databases import scratch_database  # noqa: E402
from tests.fake_telegram import FakeTelegram, FakeUser  # noqa: E402
from tests.fake_whatsapp import FakeWhatsApp, Phone, free_port, handled  # noqa: E402

TYPED = (
    "menu",
    "posso dare buoni benzina ai dipendenti?",
    "/privacy",
    "quanto valgono i buoni pasto?",
)
QUIET = 0.4  # seconds without a new message: the answer is complete (counting only)

Send = Callable[[str], Awaitable[None]]  # a person writes
Wait = Callable[[int], Awaitable[None]]  # ... and waits for this many messages in all


def steps(messages: int) -> list[str]:
    return [TYPED[index % len(TYPED)] for index in range(messages)]


async def talk(send: Send, wait: Wait, counts: list[int], latencies: list[float]) -> None:
    """One person's conversation, each step answered by `counts[i]` messages."""
    total = 0
    for typed, count in zip(steps(len(counts)), counts, strict=True):
        started = time.perf_counter()
        await send(typed)
        total += count
        await wait(total)
        latencies.append(time.perf_counter() - started)


async def whatsapp_person(app: App, fake: FakeWhatsApp, n: int) -> tuple[Send, Wait]:
    person = Phone(fake, f"39333{n:07d}", f"U{n}", lambda _key: asyncio.sleep(0))

    async def send(typed: str) -> None:
        await person.says(typed)

    async def wait(total: int) -> None:
        await fake.received(person.wa_id, total)

    return send, wait


async def whatsapp_counts(app: App, fake: FakeWhatsApp, messages: int) -> list[int]:
    person = Phone(fake, "393330000000", "Warm-up", lambda key: handled(app, key))
    counts = []
    for typed in steps(messages):
        answer = await person.says(typed)
        await asyncio.sleep(QUIET)  # anything later still belongs to this step
        counts.append(len(answer) + len(person.new()))
    return counts


def telegram_person(tg: FakeTelegram, n: int) -> tuple[Send, Wait]:
    person = tg.user(100_000 + n, f"U{n}", language_code="it")
    seen = 0

    async def send(typed: str) -> None:
        await person.send(typed)

    async def wait(total: int) -> None:
        nonlocal seen
        while seen < total:
            await person.next_message(timeout=30)
            seen += 1

    return send, wait


async def telegram_counts(tg: FakeTelegram, messages: int) -> list[int]:
    person: FakeUser = tg.user(99_999, "Warm-up", language_code="it")
    counts = []
    for typed in steps(messages):
        await person.send(typed)
        count = 0
        while True:
            try:
                await person.next_message(timeout=QUIET if count else 10)
            except (TimeoutError, AssertionError):
                break
            count += 1
        counts.append(count)
    return counts


async def phase(people: list[tuple[Send, Wait]], counts: list[int]) -> dict[str, float]:
    latencies: list[float] = []
    started = time.perf_counter()
    await asyncio.gather(*(talk(send, wait, counts, latencies) for send, wait in people))
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "messages_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(1000 * statistics.median(latencies), 1),
        "p99_ms": round(1000 * latencies[int(0.99 * (len(latencies) - 1))], 1),
    }


async def main(users: int, messages: int, database_url: str | None) -> dict[str, object]:
    with scratch_database(database_url) as url:
        async with FakeWhatsApp() as fake, FakeTelegram() as tg:
            settings = telegram_settings(tg, url, quiet_hours="off", **fake.settings(free_port()))
            async with running_bot(settings) as app:
                counts = await whatsapp_counts(app, fake, messages)
                people = [await whatsapp_person(app, fake, n) for n in range(users)]
                whatsapp = await phase(people, counts)
                calls = fake.calls
                telegram_steps = await telegram_counts(tg, messages)
                telegram = await phase(
                    [telegram_person(tg, n) for n in range(users)], telegram_steps
                )
    return {
        "database": "postgresql" if database_url else "sqlite",
        "users": users,
        "messages": users * messages,
        "whatsapp": whatsapp,
        "telegram": telegram,
        "whatsapp_p50_over_telegram": round(whatsapp["p50_ms"] / telegram["p50_ms"], 2),
        "replies_per_step": {"whatsapp": counts, "telegram": telegram_steps},
        "graph_api_calls": calls,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=30)
    parser.add_argument("--messages", type=int, default=10)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.users, args.messages, args.database_url))))
