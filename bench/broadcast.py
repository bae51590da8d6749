"""Benchmark: a seminar announced to 10,000 subscribers, against Telegram's rate limits.

    python bench/broadcast.py [--recipients 10000] [--rates 30,25] [--quick] [--database-url URL]

Sportello runs as its own process (`python -m bot run`, SQLite in a temporary directory
unless --database-url names a PostgreSQL database, which gets a fresh schema dropped at the
end), polling tests/fake_telegram.py, which runs in this process. The database holds N
subscribers and one event due now, as staff leave it after /nuovo_evento: the periodic job
queues one announcement per subscriber through the outbox and the sender delivers them.

For each rate R the fake enforces R messages a second overall and one a second per chat
(sliding one-second window, 429 with retry_after beyond) and Sportello is configured with
OUTBOX_RATE=R. Measured from the fake's side: the time from the first announcement to the
last against the floor (N - 1) / R, the 429s, duplicates (a chat that got the announcement
twice) and lost (a subscriber who never got it), counted per chat from what the fake
received, then checked against the outbox: `mismatched` counts the subscribers whose row's
state disagrees (`sent` but not received exactly once, or received but not `sent`). Then the
engine's ceiling: the same run with the fake's limits off and OUTBOX_RATE far above what the
machine can do. Peak RSS is the sender process's (VmHWM). `--quick` uses 1,200 subscribers
and rates three times higher (still well below the engine's ceiling), to end within a minute
with the same ratios. The peer: a bare python-telegram-bot Bot in its own process sending the
same number of messages to the same fake, limits off, 32 in the air like the sender. A
summary goes to stderr; the last line on stdout is one JSON object (top-level figures from the
run at the default rate, 25).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, select
from sqlalchemy.exc import OperationalError

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.delivery import outbox  # noqa: E402
from bot.storage.db import Database  # noqa: E402
from bot.storage.models import Event, OutboxMessage, Subscription, User  # noqa: E402
from tests.databases import scratch_database  # noqa: E402
from tests.fake_telegram import FakeTelegram, RateLimit  # noqa: E402
from tests.test_outbox_processes import delivery_env, sender_process  # noqa: E402
from tests.test_restart import migrate  # noqa: E402

STAFF = 4242
FIRST = 1_000_001  # Telegram ids of the subscribers: FIRST, FIRST + 1, ...
BATCH = "event:1"
UNLIMITED = 10_000.0  # the most OUTBOX_RATE accepts


@dataclass
class Run:
    recipients: int
    rate: float | None  # None: the engine's ceiling, no limits anywhere
    seconds: float
    floor_seconds: float | None
    ratio_to_floor: float | None
    msgs_per_s: float
    got_429: int
    duplicates: int
    lost: int
    mismatched: int  # outbox state and what the fake received disagree
    sent: int
    uncertain: int
    failed: int
    peak_rss_mb: float


def seed(database_url: str, count: int) -> None:
    """N subscribers in Pinerolo interested in safety at work, and one event due now."""
    database = Database(database_url)
    now = datetime.now(UTC)
    users = [
        {
            "id": index + 1,
            "channel": "telegram",
            "external_id": str(FIRST + index),
            "chat_id": str(FIRST + index),
            "name": f"Iscritto {index}",
            "locale": "it",
            "created_at": now,
            "last_seen_at": now,
        }
        for index in range(count)
    ]
    subscriptions = [
        {
            "user_id": index + 1,
            "territories": ["pinerolo"],
            "interests": ["sicurezza"],
            "active": True,
            "created_at": now,
            "updated_at": now,
        }
        for index in range(count)
    ]
    with database.transaction() as session:
        session.execute(insert(User), users)
        session.execute(insert(Subscription), subscriptions)
        session.add(
            Event(
                id=1,
                title="Sicurezza nei cantieri di montagna",
                description="Due ore con l'ispettorato: obblighi e buone pratiche.",
                starts_at=now + timedelta(days=30),
                place="Sala consiliare, Torre Pellice",
                interests=["sicurezza"],
                territories=["pinerolo"],
                reminders=["d7", "d1", "h1"],
                announce_at=now,
                created_by=STAFF,
                staff_chat=f"telegram:{STAFF}",
            )
        )
    database.dispose()


def progress(database_url: str) -> outbox.Progress:
    database = Database(database_url)
    with database.transaction() as session:
        found = outbox.progress(session, BATCH)
    database.dispose()
    return found


def states(database_url: str) -> dict[int, str]:
    """Each subscriber's announcement row state, by chat."""
    database = Database(database_url)
    with database.transaction() as session:
        rows = session.execute(
            select(OutboxMessage.chat_id, OutboxMessage.state).where(OutboxMessage.batch == BATCH)
        )
        found = {int(chat_id): state for chat_id, state in rows}
    database.dispose()
    return found


def mismatched(count: int, got: Counter[int], state_of: dict[int, str]) -> int:
    """Subscribers whose row says `sent` but who did not get it exactly once, or the reverse."""
    chats = range(FIRST, FIRST + count)
    return sum(1 for chat in chats if (state_of.get(chat) == outbox.SENT) != (got[chat] == 1))


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident set (VmHWM), read while it is still alive."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def progress_now(database_url: str) -> outbox.Progress | None:
    """The progress, or None when SQLite stayed locked past its busy timeout: at full speed
    the sender's writers can keep the lock that long from a reader in another process."""
    try:
        return progress(database_url)
    except OperationalError:
        return None


async def delivered(database_url: str, count: int, within: float) -> outbox.Progress:
    """Waits until every subscriber's row is out (or the timeout)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        found = await asyncio.to_thread(progress_now, database_url)
        if found is not None and found.total == count and found.done:
            return found
        await asyncio.sleep(0.5)
    return await asyncio.to_thread(progress, database_url)


async def one_run(
    database_url: str, count: int, rate: float | None, within: float, log: Path
) -> Run:
    async with FakeTelegram() as tg:
        for user_id in (*range(FIRST, FIRST + count), STAFF):
            tg.user(user_id)
        if rate is not None:
            tg.rate_limit = RateLimit.telegram(overall=int(rate))
        env = delivery_env(tg, database_url, rate=int(rate or UNLIMITED))
        env.update({"LOG_LEVEL": "WARNING", "OUTBOX_CHAT_RATE": "1"})
        await migrate(env)
        seed(database_url, count)
        async with sender_process(env, log) as process:
            final = await delivered(database_url, count, within)
            rss = peak_rss_mb(process.pid)
        state_of = states(database_url)
        writes = [(moment, chat) for moment, chat in tg.writes if chat != STAFF]
        got = Counter(chat for _moment, chat in writes)
        rejected = sum(1 for call in tg.rejected if call.error_code == 429)
    seconds = writes[-1][0] - writes[0][0] if len(writes) > 1 else 0.0
    floor = (count - 1) / rate if rate else None
    return Run(
        recipients=count,
        rate=rate,
        seconds=round(seconds, 2),
        floor_seconds=round(floor, 2) if floor else None,
        ratio_to_floor=round(seconds / floor, 4) if floor else None,
        msgs_per_s=round((len(writes) - 1) / seconds, 1) if seconds else 0.0,
        got_429=rejected,
        duplicates=sum(times - 1 for times in got.values() if times > 1),
        lost=count - len(got),
        mismatched=mismatched(count, got, state_of),
        sent=final.sent,
        uncertain=final.uncertain,
        failed=final.failed + final.blocked,
        peak_rss_mb=round(rss, 1),
    )


async def bare_bot(base_url: str, token: str, count: int) -> None:
    """The peer: a bare python-telegram-bot Bot sending as fast as it can, 32 in the air
    (as many as the sender keeps), no database; runs as its own process like Sportello."""
    from telegram.ext import ApplicationBuilder

    application = ApplicationBuilder().token(token).base_url(base_url).build()
    in_air = asyncio.Semaphore(32)

    async def send(chat_id: int) -> None:
        async with in_air:
            await application.bot.send_message(chat_id, "<b>Nuovo seminario</b>", parse_mode="HTML")

    async with application:
        await asyncio.gather(*(send(chat_id) for chat_id in range(FIRST, FIRST + count)))


async def peer_run(count: int) -> float:
    """Messages a second of the bare bot against the same fake, limits off."""
    async with FakeTelegram() as tg:
        for user_id in range(FIRST, FIRST + count):
            tg.user(user_id)
        peer = await asyncio.create_subprocess_exec(
            sys.executable, __file__, "--peer", tg.base_url, tg.token, str(count)
        )
        assert await peer.wait() == 0
        moments = [moment for moment, _chat in tg.writes]
    return round((len(moments) - 1) / (moments[-1] - moments[0]), 1)


def describe(run: Run) -> str:
    limit = f"R = {run.rate:g}/s" if run.rate else "no limits"
    floor = f" (floor {run.floor_seconds} s, x{run.ratio_to_floor})" if run.rate else ""
    return (
        f"{limit}: {run.recipients} in {run.seconds} s{floor}, {run.msgs_per_s} msg/s, "
        f"{run.got_429} x 429, {run.duplicates} duplicates, {run.lost} lost, "
        f"{run.mismatched} outbox mismatches, "
        f"{run.uncertain} uncertain, peak RSS {run.peak_rss_mb} MB"
    )


async def measure(args: argparse.Namespace) -> list[Run]:
    runs = []
    for rate in [*args.rates, None]:
        with (
            scratch_database(args.database_url) as url,
            tempfile.NamedTemporaryFile(suffix=".log") as log,
        ):
            run = await one_run(url, args.recipients, rate, args.timeout, Path(log.name))
        print(describe(run), file=sys.stderr)
        runs.append(run)
    return runs


def main() -> None:
    if sys.argv[1:2] == ["--peer"]:
        base_url, token, count = sys.argv[2:5]
        asyncio.run(bare_bot(base_url, token, int(count)))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--rates", default="30,25", help="comma-separated OUTBOX_RATE values")
    parser.add_argument("--quick", action="store_true", help="1,200 subscribers, rates x3")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--timeout", type=float, default=1200)
    args = parser.parse_args()
    args.rates = [float(rate) for rate in args.rates.split(",")]
    if args.quick:
        args.recipients = min(args.recipients, 1_200)
        args.rates = [rate * 3 for rate in args.rates]
    runs = asyncio.run(measure(args))
    peer = asyncio.run(peer_run(args.recipients))
    print(f"bare python-telegram-bot, no limits: {peer} msg/s", file=sys.stderr)
    *limited, ceiling = runs
    main_run = limited[-1]  # the default rate, 25 (75 with --quick)
    result = {
        **{key: value for key, value in asdict(main_run).items() if key != "msgs_per_s"},
        "engine_msgs_per_s": ceiling.msgs_per_s,
        "bare_ptb_msgs_per_s": peer,
        "engine_to_bare_ptb": round(ceiling.msgs_per_s / peer, 3),
        "peak_rss_mb": max(run.peak_rss_mb for run in runs),
        "quick": args.quick,
        "database": (args.database_url or "sqlite").split(":", 1)[0],
        "runs": [asdict(run) for run in runs],
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
