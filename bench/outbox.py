"""Benchmark: outbox delivery throughput against the fake Bot API with Telegram's limits.

    python bench/outbox.py [--messages 500] [--rate 25] [--latency 0.05] [--database-url URL]

Sportello (the real App, SQLite in a temporary directory unless --database-url names a
PostgreSQL database, which gets a fresh schema dropped at the end) polls tests/fake_telegram.py
in this process and event loop. The fake enforces Telegram's limits (30 messages a second
overall, one a second per chat, over a sliding window) and answers each send after `--latency`
seconds. N broadcast rows to N different users are queued at once; the clock runs from the
first send to the last. The throughput is compared with the configured OUTBOX_RATE (the ratio
is what the pacing costs) and with Telegram's limit. A summary goes to stderr; the last line
on stdout is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import psycopg

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot import outbox  # noqa: E402
from bot.app import App  # noqa: E402
from bot.markup import text  # noqa: E402
from bot.messages import Address, Delivery, Reply  # noqa: E402
from tests.bot_runner import running_bot, telegram_settings  # noqa: E402
from tests.fake_telegram import FakeTelegram, RateLimit  # noqa: E402

TELEGRAM_OVERALL = 30
FIRST_USER = 500_001


def queue(app: App, count: int) -> None:
    with app.database.transaction() as session:
        for user_id in range(FIRST_USER, FIRST_USER + count):
            delivery = Delivery(
                Address("telegram", str(user_id)),
                Reply(text("Nuovo seminario: welfare aziendale per le piccole imprese")),
                f"bench:{user_id}",
                kind="broadcast",
                batch="bench",
            )
            outbox.enqueue(session, delivery, app.desk.clock())


def progress(app: App) -> outbox.Progress:
    with app.database.transaction() as session:
        return outbox.progress(session, "bench")


async def measure(args: argparse.Namespace, database_url: str) -> dict[str, object]:
    async with FakeTelegram() as tg:
        for user_id in range(FIRST_USER, FIRST_USER + args.messages):
            tg.user(user_id)
        tg.rate_limit = RateLimit.telegram(overall=TELEGRAM_OVERALL)
        tg.slow(args.latency, "sendMessage")
        settings = telegram_settings(
            tg, database_url, outbox_rate=args.rate, quiet_hours="off", log_level="WARNING"
        )
        async with running_bot(settings) as app:
            queue(app, args.messages)
            await app.outbox.drain()
            deadline = time.monotonic() + args.timeout
            while progress(app).waiting and time.monotonic() < deadline:  # noqa: ASYNC110 (rows, no event)
                await asyncio.sleep(0.1)
            final = progress(app)
        first, last = tg.writes[0][0], tg.writes[-1][0]
        throughput = (len(tg.writes) - 1) / (last - first) if len(tg.writes) > 1 else 0.0
        return {
            "messages": args.messages,
            "sent": final.sent,
            "failed": final.failed,
            "uncertain": final.uncertain,
            "seconds": round(last - first, 2),
            "throughput": round(throughput, 2),
            "configured_rate": args.rate,
            "ratio_to_configured": round(throughput / args.rate, 3),
            "telegram_limit": TELEGRAM_OVERALL,
            "ratio_to_telegram": round(throughput / TELEGRAM_OVERALL, 3),
            "peak_in_any_second": tg.peak_rate(),
            "answered_429": sum(1 for r in tg.rejected if r.error_code == 429),
            "latency": args.latency,
            "database": database_url.split(":", 1)[0],
        }


@contextmanager
def database(url: str | None) -> Iterator[str]:
    """A temporary SQLite file, or a fresh schema in the given PostgreSQL database."""
    if url is None:
        with tempfile.TemporaryDirectory() as directory:
            yield f"sqlite:///{directory}/bench.db"
        return
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f"CREATE SCHEMA {schema}")
    try:
        yield f"{url}{'&' if '?' in url else '?'}options={quote(f'-csearch_path={schema}')}"
    finally:
        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute(f"DROP SCHEMA {schema} CASCADE")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--rate", type=float, default=25.0, help="OUTBOX_RATE")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per answer")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()
    with database(args.database_url) as url:
        result = asyncio.run(measure(args, url))
    print(
        f"{result['sent']}/{result['messages']} sent in {result['seconds']} s: "
        f"{result['throughput']} msg/s = {result['ratio_to_configured']} x OUTBOX_RATE "
        f"({args.rate}), {result['ratio_to_telegram']} x Telegram's {TELEGRAM_OVERALL}/s; "
        f"peak {result['peak_in_any_second']} in a second, {result['answered_429']} x 429",
        file=sys.stderr,
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
