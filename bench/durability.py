"""Benchmark: a long Bot API outage and a kill -9 in the middle of a large announcement.

    python bench/durability.py [--recipients 1000] [--outage 60] [--database-url URL]

Sportello runs as its own process (`python -m bot run`, SQLite in a temporary directory unless
--database-url names a PostgreSQL database, which gets a fresh schema dropped at the end),
against tests/fake_telegram.py in this process. N announcement rows are queued; once a tenth
is delivered the fake answers 502 to every send for --outage seconds (the stand-in for one
hour: the outage pauses are scaled down by 3600 / --outage, from 5 s doubling to 120 s in
production). Once it answers again and another tenth is delivered, the process is killed with
SIGKILL at a random moment and started again, and runs until the queue is empty.

Counted from the fake's side, per recipient: `lost` (never got it, and its row is not
`uncertain`), `duplicates` (got it twice or more), `uncertain` (rows left `sending` by the
kill), `in_flight_at_kill` (calls not answered at the kill, or answered in the 0.25 s before,
which a busy sender may not have recorded yet), `uncertain_never_called` (uncertain rows whose
call never reached the fake: killed between marking the row and writing the request),
`delivered_after_outage` (recipients served after the fake answered again), `calls_in_outage`
(what the paused sender still tried during the outage: its probes). A summary goes to stderr;
the last line on stdout is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import signal
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.databases import scratch_database  # noqa: E402
from tests.fake_telegram import FakeTelegram  # noqa: E402
from tests.test_outbox_processes import (  # noqa: E402
    calls_in_flight,
    delivery_env,
    queue_broadcast,
    report,
    rows,
    sender_process,
    until,
)
from tests.test_restart import migrate  # noqa: E402

LATENCY = 0.1  # seconds the fake takes to answer a send: calls are in flight when killed
HOUR = 3600.0


async def one_run(
    database_url: str, recipients: int, outage: float, logs: Path
) -> dict[str, object]:
    chats = range(1, recipients + 1)
    scale = outage / HOUR
    async with FakeTelegram() as tg:
        for user_id in chats:
            tg.user(user_id)
        tg.user(4242)  # staff: hears when sending pauses and resumes
        tg.slow(LATENCY, "sendMessage")
        env = {
            **delivery_env(tg, database_url, rate=100),
            "OUTAGE_PAUSE_SECONDS": str(5 * scale),
            "OUTAGE_PAUSE_MOST_SECONDS": str(120 * scale),
            "REPLY_FRESH_SECONDS": "3600",
        }
        await migrate(env)
        queue_broadcast(database_url, chats)
        tenth = max(1, recipients // 10)

        async with sender_process(env, logs / "first.log") as first:
            await until(lambda: len(tg.writes) >= tenth, within=120)
            tg.fail_until_further_notice("sendMessage")
            down_at = time.time()
            await asyncio.sleep(outage)
            tg.recover()
            up_at = time.time()
            served_before = len(tg.writes)
            kill_after = served_before + random.randint(tenth, 2 * tenth)
            await until(lambda: len(tg.writes) >= kill_after, within=120 + 2 * outage)
            first.send_signal(signal.SIGKILL)
            killed_at = time.time()
            await first.wait()
        await asyncio.sleep(LATENCY + 0.1)
        calls = tg.calls_to("sendMessage")
        in_flight = calls_in_flight(tg, killed_at, LATENCY)
        uncertain = {row.chat_id for row in rows(database_url) if row.state == "sending"}
        called = {str(call.params.get("chat_id")) for call in calls}

        async with sender_process(env, logs / "second.log") as second:
            await until(lambda: report(database_url).done, within=300)
            second.send_signal(signal.SIGTERM)
            await asyncio.wait_for(second.wait(), 20)

    got = Counter(chat for _time, chat in tg.writes if chat in chats)
    after = {chat for moment, chat in tg.writes if moment > up_at and chat in chats}
    return {
        "recipients": recipients,
        "lost": sum(1 for c in chats if got[c] == 0 and str(c) not in uncertain),
        "duplicates": sum(1 for c in chats if got[c] > 1),
        "uncertain": len(uncertain),
        "in_flight_at_kill": in_flight,
        "uncertain_never_called": len(uncertain - called),
        "delivered_after_outage": len(after),
        "calls_in_outage": sum(1 for call in calls if down_at + 0.5 < call.time < up_at),
        "outage_s": outage,
        "scaled_from_s": HOUR,
        "progress": vars(report(database_url)),
    }


async def measure(args: argparse.Namespace) -> dict[str, object]:
    with (
        scratch_database(args.database_url) as url,
        tempfile.TemporaryDirectory(prefix="durability-") as logs,
    ):
        return await one_run(url, args.recipients, args.outage, Path(logs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--recipients", type=int, default=1_000)
    parser.add_argument("--outage", type=float, default=60.0, help="seconds; stands for 1 h")
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    result = asyncio.run(measure(args))
    result["database"] = (args.database_url or "sqlite").split(":", 1)[0]
    print(
        f"{result['recipients']} recipients, {args.outage:g} s outage (1 h scaled): "
        f"{result['lost']} lost, {result['duplicates']} duplicates, "
        f"{result['uncertain']} uncertain of {result['in_flight_at_kill']} in flight at the "
        f"kill, {result['delivered_after_outage']} delivered after the outage, "
        f"{result['calls_in_outage']} calls during it",
        file=sys.stderr,
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
