"""Benchmark: Sportello's update throughput and reply latency, next to a bare PTB echo bot.

    python bench/updates.py [--users 50] [--messages 20] [--database-url URL] [--timeout 300]

In one run, both bots poll the fake Bot API of tests/fake_telegram.py, in this process and
event loop, one after the other (never at the same time, so neither steals CPU from the other):

1. Sportello: the real App (SQLite in a temporary directory, or PostgreSQL with
   --database-url, in a fresh schema dropped at the end), started by tests/bot_runner.py;
2. an echo bot: a python-telegram-bot Application with one MessageHandler that replies with
   the same text, with the same `concurrent_updates` as Sportello.

The fake answers a single token (any other gets 401), so each bot gets its own FakeTelegram
instance (same code, same settings, same loop), with its own token and its own user ids: the
two can never mix. The fake, the simulated users and the bot share one event loop, as in the
tests, so the fake's own cost is in both measurements.

N simulated users talk at once, with no think time: each sends an update, waits for every bot
message/edit it causes, then sends the next one. A short warm-up (other users) is not counted.
A readable summary goes to stderr; the last line on stdout is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import statistics
import sys
import time
from bisect import bisect_left
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, NamedTuple

from telegram import Update
from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters

# `python bench/updates.py` puts bench/ on sys.path, not the repository root: add the root so
# that `bot` and the test helpers (`tests.*`) are imported from this checkout.
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.channels.telegram import ALLOWED_UPDATES  # noqa: E402
from bot.channels.worker import IN_FLIGHT  # noqa: E402
from bot.config import SUPPORTED_LOCALES  # noqa: E402
from bot.core.menu import ENTRIES  # noqa: E402
from tests.bot_runner import running_bot, telegram_settings  # noqa: E402
from tests.databases import scratch_database  # noqa: E402
from tests.fake_telegram import BotMessage, FakeTelegram, FakeUser  # noqa: E402

ECHO_TOKEN = "654321:ECHO-BENCH-TOKEN"
SPORTELLO_USER_IDS = 100_000  # measured users: 100_001..; warm-up users: 190_001..
ECHO_USER_IDS = 200_000  # measured users: 200_001..; warm-up users: 290_001..
WARMUP_OFFSET = 90_000
WARMUP_USERS = 5
WARMUP_MESSAGES = 12  # one whole Sportello conversation cycle, consent included
REPLY_TIMEOUT = 30.0  # seconds for one bot message; the global --timeout bounds everything
LANGUAGE_CODES = ("it", "it", "en", "fr")  # what Telegram says about the users, in turn
QUESTIONS = (
    "Come funziona il rimborso delle spese mediche?",
    "Quali servizi offrite alle piccole imprese?",
    "Posso iscrivere anche i miei dipendenti?",
)
# Bot API calls that show the user something: the reply latency ends at the first of them.
REPLY_METHODS = frozenset(
    {"sendmessage", "editmessagetext", "editmessagereplymarkup", "senddocument", "sendphoto"}
)
MENU = [action for _label, action in ENTRIES]  # the main menu's buttons, in order


# --------------------------------------------------------------------------------------------
# Conversations


@dataclass(frozen=True)
class Step:
    """One update a user causes, and how many bot messages/edits answer it."""

    kind: Literal["send", "press"]
    value: str | int  # text to send, or position of the button to press on the last message
    replies: int = 1
    echo: bool = False  # the first reply must repeat the text (echo bot)


def sportello_plan(user_number: int) -> Iterator[Step]:
    """A person using the desk: commands, greetings, a question, menu and language buttons.

    `replies` is what the bot answers today; if that changes, a step times out (too few) or
    the run reports unexpected_messages (too many): update the counts here."""
    language = user_number % len(SUPPORTED_LOCALES)
    consented = False
    for turn in range(1_000_000):  # bounded; users stop after --messages steps anyway
        yield Step("send", "/start")  # greeting and menu
        yield Step("press", MENU.index("language"))  # "which language?"
        yield Step("press", language)  # the choice: confirmation and menu (an edit)
        yield Step("send", "ciao")  # a greeting: the menu
        yield Step("send", QUESTIONS[(user_number + turn) % len(QUESTIONS)])  # free text
        yield Step("send", "/privacy", replies=2)  # the notice, then consent state + buttons
        yield Step("send", "menu")  # the word "menu": the menu
        yield Step("press", MENU.index("faq"))  # frequently asked questions
        yield Step("send", "/menu")
        if consented:
            yield Step("press", MENU.index("survey"))
        else:
            yield Step("press", MENU.index("survey"), replies=2)  # consent first: intro, notice
            yield Step("press", 0, replies=1)  # accept: a thank-you toast; the survey replaces it
            consented = True
        yield Step("send", "/aiuto")


def echo_plan(user_number: int) -> Iterator[Step]:
    for number in range(1, 1_000_001):
        yield Step("send", f"Messaggio {number} dall'utente {user_number}", echo=True)


class Sample(NamedTuple):
    chat_id: int
    sent_at: float  # time.time() just before the update was created


@dataclass
class Talk:
    """What one user did: the updates sent, the bot messages read, when the last one came."""

    user: FakeUser
    samples: list[Sample]
    read: int
    finished_at: float


def button_label(message: BotMessage | None, position: int) -> str:
    labels = message.button_labels if message is not None else []
    if position >= len(labels):
        shown = message if message is not None else "nothing"
        raise AssertionError(f"no button #{position} to press on the last message: {shown}")
    return labels[position]


async def converse(user: FakeUser, plan: Iterator[Step], count: int) -> Talk:
    """`count` steps of `plan`, each waiting for all of its replies before the next."""
    samples: list[Sample] = []
    read = 0
    last: BotMessage | None = None
    for _ in range(count):
        step = next(plan)
        label = button_label(last, int(step.value)) if step.kind == "press" else ""
        # The fake records no time for updates: it creates the update synchronously inside
        # send()/press(), before their first await, so the time taken just before the call is
        # the update's creation time (to within microseconds).
        sent_at = time.time()
        if step.kind == "send":
            await user.send(str(step.value))
        else:
            await user.press(label)
        samples.append(Sample(user.chat.id, sent_at))
        for index in range(step.replies):
            last = await user.next_message(timeout=REPLY_TIMEOUT)
            read += 1
            if step.echo and index == 0 and last.text != step.value:
                raise AssertionError(f"echo bot answered {last.text!r} to {step.value!r}")
    return Talk(user, samples, read, time.time())


Plan = Callable[[int], Iterator[Step]]  # a user's number -> the steps that user takes


async def talk(
    tg: FakeTelegram, first_id: int, users: int, messages: int, plan: Plan, *, names: str
) -> list[Talk]:
    """`users` users talking at the same time, `messages` updates each."""
    people = [
        (
            tg.user(
                first_id + number,
                first_name=f"{names}{number}",
                language_code=LANGUAGE_CODES[number % len(LANGUAGE_CODES)],
            ),
            number,
        )
        for number in range(1, users + 1)
    ]
    return list(
        await asyncio.gather(*(converse(user, plan(number), messages) for user, number in people))
    )


# --------------------------------------------------------------------------------------------
# Measurements


@dataclass
class Result:
    updates: int
    wall_s: float
    latencies_ms: list[float]
    unexpected_messages: int  # bot messages nobody waited for: the plan's counts are wrong
    cpu_s: float  # CPU time of this whole process (bot, fake, users) while the users talked
    rejected_calls: int  # by the fake, in the whole run of this bot (start-up, warm-up too)

    @property
    def updates_per_s(self) -> float:
        return self.updates / self.wall_s if self.wall_s > 0 else 0.0

    @property
    def cpu_ms_per_update(self) -> float:
        """Less sensitive than updates/s to other processes sharing the machine."""
        return 1000 * self.cpu_s / self.updates

    def percentile(self, q: int) -> float:
        values = self.latencies_ms
        if len(values) < 2:
            return values[0] if values else float("nan")
        return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def reply_latencies(tg: FakeTelegram, talks: Sequence[Talk]) -> list[float]:
    """Per update: from its creation (Sample.sent_at) to the fake receiving the first
    sendMessage/editMessageText/... for that chat (the fake's own ApiCall.time, taken when it
    has read the request). Every user waits for all the replies of a step before the next, so
    the first such call after an update's creation is the reply to it."""
    replies: dict[int, list[float]] = defaultdict(list)
    for call in tg.calls:
        chat_id = call.params.get("chat_id")
        if call.method.lower() in REPLY_METHODS and chat_id is not None:
            replies[int(chat_id)].append(call.time)
    latencies: list[float] = []
    for talk_ in talks:
        times = sorted(replies[talk_.user.chat.id])
        for sample in talk_.samples:
            index = bisect_left(times, sample.sent_at)
            if index == len(times):
                raise AssertionError(f"no reply call found for an update in {sample.chat_id}")
            latencies.append((times[index] - sample.sent_at) * 1000)
    return latencies


async def timed_talk(
    tg: FakeTelegram, first_id: int, users: int, messages: int, plan: Plan, *, names: str
) -> tuple[list[Talk], float]:
    """`talk`, and the CPU time the process spent meanwhile."""
    cpu = time.process_time()
    talks = await talk(tg, first_id, users, messages, plan, names=names)
    return talks, time.process_time() - cpu


def measure(tg: FakeTelegram, talks: Sequence[Talk], cpu_s: float) -> Result:
    samples = [sample for t in talks for sample in t.samples]
    started = min(sample.sent_at for sample in samples)
    finished = max(t.finished_at for t in talks)
    unexpected = sum(len(t.user.chat.events) - t.read for t in talks)
    return Result(
        updates=len(samples),
        wall_s=finished - started,
        latencies_ms=reply_latencies(tg, talks),
        unexpected_messages=unexpected,
        rejected_calls=len(tg.rejected),
        cpu_s=cpu_s,
    )


# --------------------------------------------------------------------------------------------
# The two bots


def sportello_concurrency() -> int:
    """How many updates Sportello's inbox worker handles at once."""
    return IN_FLIGHT


async def bench_sportello(database_url: str, users: int, messages: int) -> tuple[Result, Result]:
    """(measured run, warm-up run) of Sportello on `database_url`."""
    async with FakeTelegram() as tg:
        # running_bot upgrades the database (Database(url).upgrade()), then serves (polling).
        async with running_bot(telegram_settings(tg, database_url)):
            first = SPORTELLO_USER_IDS + WARMUP_OFFSET
            warm_users = min(WARMUP_USERS, users)
            warm = await timed_talk(
                tg, first, warm_users, WARMUP_MESSAGES, sportello_plan, names="W"
            )
            talks = await timed_talk(
                tg, SPORTELLO_USER_IDS, users, messages, sportello_plan, names="Utente"
            )
        # Measured after the bot stopped: a late, unexpected message is counted too.
        return measure(tg, *talks), measure(tg, *warm)


async def echo(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.message is not None and update.message.text is not None:
        await update.message.reply_text(update.message.text)


@asynccontextmanager
async def running_echo_bot(tg: FakeTelegram, concurrency: int) -> AsyncIterator[None]:
    application = (
        ApplicationBuilder()
        .token(tg.token)
        .base_url(tg.base_url)
        .base_file_url(tg.base_file_url)
        .concurrent_updates(concurrency)
        .build()
    )
    application.add_handler(MessageHandler(filters.TEXT, echo))
    async with application:
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(
            allowed_updates=ALLOWED_UPDATES, drop_pending_updates=False
        )
        try:
            yield
        finally:
            await application.updater.stop()
            await application.stop()


async def bench_echo(users: int, messages: int, concurrency: int) -> Result:
    async with (
        FakeTelegram(ECHO_TOKEN, bot_username="echo_bench_bot", bot_first_name="Echo") as tg,
        running_echo_bot(tg, concurrency),
    ):
        first = ECHO_USER_IDS + WARMUP_OFFSET
        await talk(tg, first, min(WARMUP_USERS, users), WARMUP_MESSAGES, echo_plan, names="W")
        talks = await timed_talk(tg, ECHO_USER_IDS, users, messages, echo_plan, names="User")
    return measure(tg, *talks)


# --------------------------------------------------------------------------------------------
# Command line


def arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--users", type=int, default=50, help="simulated users (default 50)")
    parser.add_argument(
        "--messages", type=int, default=20, help="updates per user, measured (default 20)"
    )
    parser.add_argument(
        "--database-url",
        help="PostgreSQL URL, e.g. postgresql://postgres@127.0.0.1:5432/test "
        "(default: SQLite in a temporary directory)",
    )
    parser.add_argument(
        "--timeout", type=float, default=300.0, help="seconds for the whole run (default 300)"
    )
    args = parser.parse_args(argv)
    if not 1 <= args.users <= 10_000 or not 1 <= args.messages <= 10_000:
        parser.error("--users and --messages must be between 1 and 10000")
    if args.timeout <= 0:
        parser.error("--timeout must be positive")
    url = args.database_url
    if url is not None and not url.startswith(("postgresql://", "postgres://")):
        parser.error("--database-url must be a postgresql:// URL")
    return args


def summary(name: str, result: Result) -> str:
    return (
        f"{name:<10} {result.updates:>6} updates in {result.wall_s:7.2f} s = "
        f"{result.updates_per_s:8.1f} updates/s; reply latency p50 {result.percentile(50):7.1f} "
        f"ms, p90 {result.percentile(90):7.1f} ms, p99 {result.percentile(99):7.1f} ms, "
        f"max {max(result.latencies_ms):7.1f} ms; CPU {result.cpu_ms_per_update:5.2f} ms/update"
    )


async def run(args: argparse.Namespace) -> int:
    concurrency = sportello_concurrency()
    async with asyncio.timeout(args.timeout):
        kind = "sqlite" if args.database_url is None else "postgresql"
        with scratch_database(args.database_url) as url:
            sportello, warm = await bench_sportello(url, args.users, args.messages)
        echo_result = await bench_echo(args.users, args.messages, concurrency)
    ratio = sportello.updates_per_s / echo_result.updates_per_s
    rejected = sportello.rejected_calls + echo_result.rejected_calls
    unexpected = sportello.unexpected_messages + echo_result.unexpected_messages
    lines = [
        f"{args.users} users x {args.messages} updates, database {kind}, "
        f"concurrent_updates {concurrency}",
        summary("warm-up", warm),
        summary("sportello", sportello),
        summary("echo", echo_result),
        f"Sportello / echo throughput: {ratio:.2f}; rejected Bot API calls: {rejected}; "
        f"unexpected bot messages: {unexpected}",
    ]
    print("\n".join(lines), file=sys.stderr)
    report = {
        "updates_per_s": round(sportello.updates_per_s, 1),
        "p50_ms": round(sportello.percentile(50), 1),
        "p99_ms": round(sportello.percentile(99), 1),
        "echo_updates_per_s": round(echo_result.updates_per_s, 1),
        "echo_p50_ms": round(echo_result.percentile(50), 1),
        "echo_p99_ms": round(echo_result.percentile(99), 1),
        "ratio_to_echo": round(ratio, 3),
        "users": args.users,
        "messages_per_user": args.messages,
        "database": kind,
        "rejected_calls": rejected,
        "updates": sportello.updates,
        "echo_updates": echo_result.updates,
        "wall_s": round(sportello.wall_s, 3),
        "echo_wall_s": round(echo_result.wall_s, 3),
        "p90_ms": round(sportello.percentile(90), 1),
        "echo_p90_ms": round(echo_result.percentile(90), 1),
        "cpu_ms_per_update": round(sportello.cpu_ms_per_update, 2),
        "echo_cpu_ms_per_update": round(echo_result.cpu_ms_per_update, 2),
        "concurrent_updates": concurrency,
        "unexpected_messages": unexpected,
    }
    print(json.dumps(report), flush=True)
    return 1 if rejected or unexpected else 0


def main(argv: Sequence[str] | None = None) -> int:
    args = arguments(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        return asyncio.run(run(args))
    except TimeoutError:
        print(f"bench: not finished within {args.timeout:g} s", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
