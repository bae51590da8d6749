"""Benchmark: WhatsApp messages through the webhook, the inbox, the desk and the fake Graph API.

    python bench/whatsapp.py [--users 30] [--messages 10] [--database-url URL]

Sportello (the real App serving only WhatsApp, SQLite in a temporary directory unless
--database-url names PostgreSQL, which gets a fresh schema dropped at the end) and
tests/fake_whatsapp.py run in this process and event loop.
Every user writes `--messages` messages one after the other (the next once the previous one is
answered: a person waits for the reply), all users at once. Latency runs from the signed POST
to the moment the inbox item is seen handled, its replies sent (polled every 20 ms).
The last line on stdout is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402

from bot.app import App  # noqa: E402
from bot.storage.models import WhatsAppInbox  # noqa: E402
from tests.bot_runner import running_bot  # noqa: E402
from tests.databases import scratch_database  # noqa: E402
from tests.fake_whatsapp import (  # noqa: E402
    FakeWhatsApp,
    Phone,
    free_port,
)
from tests.settings import make_settings  # noqa: E402

TYPED = (
    "menu",
    "posso dare buoni benzina ai dipendenti?",
    "/privacy",
    "quanto valgono i buoni pasto?",
)


async def handled(app: App, key: str) -> None:
    """Polls every 20 ms, off the event loop (the tests' 5 ms in the loop would cost more
    than Sportello itself with many users)."""
    query = select(WhatsAppInbox.done_at).where(WhatsAppInbox.key == key)

    def done() -> bool:
        with app.database.transaction() as session:
            return session.scalars(query).first() is not None

    while not await asyncio.to_thread(done):  # noqa: ASYNC110 (the database has no event)
        await asyncio.sleep(0.02)


async def user(person: Phone, messages: int, latencies: list[float]) -> None:
    for index in range(messages):
        started = time.perf_counter()
        await person.says(TYPED[index % len(TYPED)])
        latencies.append(time.perf_counter() - started)


async def main(users: int, messages: int, database_url: str | None) -> dict[str, object]:
    with scratch_database(database_url) as url:
        async with FakeWhatsApp() as fake:
            settings = make_settings(url, quiet_hours="off", **fake.settings(free_port()))
            async with running_bot(settings) as app:
                people = [
                    Phone(fake, f"39333{n:07d}", f"U{n}", lambda key: handled(app, key))
                    for n in range(users)
                ]
                latencies: list[float] = []
                started = time.perf_counter()
                await asyncio.gather(*(user(p, messages, latencies) for p in people))
                elapsed = time.perf_counter() - started
        latencies.sort()
        return {
            "database": "postgresql" if database_url else "sqlite",
            "users": users,
            "messages": users * messages,
            "messages_per_s": round(users * messages / elapsed, 1),
            "p50_ms": round(1000 * statistics.median(latencies), 1),
            "p99_ms": round(1000 * latencies[int(0.99 * (len(latencies) - 1))], 1),
            "graph_api_calls": fake.calls,
        }


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=30)
    parser.add_argument("--messages", type=int, default=10)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.users, args.messages, args.database_url))))
