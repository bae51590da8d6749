"""Benchmark: many random updates (tests/fuzzing.py) through the real App and the fake Bot API.

    python bench/fuzz.py [--updates 10000] [--seed 15] [--database-url URL]

The same fuzzer as tests/test_fuzz.py, larger. It counts what a real user would notice: log
records at ERROR, Bot API calls Telegram would refuse, and whether everyone still gets an
answer at the end. A readable summary goes to stderr; the last line on stdout is one JSON
object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.booking_world import ADA, Clock, on_telegram  # noqa: E402
from tests.bot_runner import running_bot  # noqa: E402
from tests.databases import scratch_database  # noqa: E402
from tests.fake_telegram import FakeTelegram  # noqa: E402
from tests.fuzzing import STAFF_GROUP, Fuzzer, run, settle  # noqa: E402


class Errors(logging.Handler):
    """Counts log records at ERROR and above."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


async def fuzz(updates: int, seed: int, postgres: str | None) -> dict[str, object]:
    errors = Errors()
    logging.getLogger().addHandler(errors)
    with scratch_database(postgres) as url:
        async with FakeTelegram(callback_query_timeout=600) as tg:
            settings = on_telegram(tg.base_url, tg.token, url, STAFF_GROUP)
            async with running_bot(settings, Clock()):
                fuzzer = Fuzzer.create(tg, seed, staff_id=ADA)
                started = time.monotonic()
                sent = await run(fuzzer, updates)
                elapsed = time.monotonic() - started
                asked = {user.id: await user.send("/menu") for user in fuzzer.users}
                await settle(tg)
                answering = sum(
                    1
                    for user in fuzzer.users
                    if (last := user.chat.last_message) and last.message_id > asked[user.id]
                )
    for rejection in tg.rejected[:5]:
        print(f"rejected: {rejection}", file=sys.stderr)
    for record in errors.records[:5]:
        print(f"error: {record.getMessage()}", file=sys.stderr)
    return {
        "bench": "fuzz",
        "database": "postgresql" if postgres else "sqlite",
        "updates": sent,
        "by_kind": dict(fuzzer.sent),
        "seconds": round(elapsed, 1),
        "updates_per_second": round(sent / elapsed, 1),
        "bot_api_calls": len(tg.calls),
        "rejected_calls": len(tg.rejected),
        "error_records": len(errors.records),
        "users_answering": f"{answering}/{len(fuzzer.users)}",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--database-url", help="a PostgreSQL URL (default: SQLite)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    result = asyncio.run(fuzz(args.updates, args.seed, args.database_url))
    print(f"fuzz: {result}", file=sys.stderr)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
