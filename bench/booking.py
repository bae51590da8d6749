"""Benchmark: callback booking under contention, on SQLite and PostgreSQL.

    python bench/booking.py [--people 50] [--rounds 5] [--postgres URL]

For each database: `--people` people reach the times of one day, then all tap the same
time at once, each turn on its own thread and connection (the race the partial unique index
settles), `--rounds` times on fresh slots. Reported: wall time of a race, winners per race
(must be 1), errors (must be 0), and the latency of a single uncontended hold (a person
tapping a free time, through the whole desk) as the peer the race is compared with.

A readable summary goes to stderr; the last line on stdout is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.booking_world import Clock, booking_app, booking_settings, to_the_times
from tests.databases import postgres_schema
from tests.desk_chat import Person

TIMES = ["10:00", "10:30", "11:00", "11:30"]
DAYS = ["lunedì 23 novembre", "martedì 24 novembre", "mercoledì 25 novembre"]


def race(url: str, people: int, rounds: int) -> dict[str, float]:
    app = booking_app(booking_settings(url), Clock())
    walls, winners, errors, singles = [], [], 0, []
    for index in range(min(rounds, len(TIMES) * len(DAYS))):
        day, slot = DAYS[index // len(TIMES)], TIMES[index % len(TIMES)]
        crowd = [Person(app.desk, user_id=f"{index}{n:04d}") for n in range(people)]
        for person in crowd:
            to_the_times(person, day, "Fondo sanitario")
        barrier = threading.Barrier(people)

        def tap(person: Person, slot: str = slot, barrier: threading.Barrier = barrier) -> str:
            barrier.wait()
            return " ".join(person.press(slot))

        started = time.perf_counter()
        with ThreadPoolExecutor(people) as pool:
            answers = list(pool.map(tap, crowd))
        walls.append(time.perf_counter() - started)
        winners.append(sum("A quale numero" in a for a in answers))
        errors += sum("qualcosa è andato storto" in a for a in answers)
        loner = Person(app.desk, user_id=f"solo{index}")
        to_the_times(loner, DAYS[-1], "Welfare aziendale e fisco")
        started = time.perf_counter()
        loner.press(TIMES[index % len(TIMES)])
        singles.append(time.perf_counter() - started)
    app.database.dispose()
    return {
        "race_wall_ms_p50": round(statistics.median(walls) * 1000, 1),
        "race_per_attempt_ms": round(statistics.median(walls) * 1000 / people, 2),
        "single_hold_ms_p50": round(statistics.median(singles) * 1000, 2),
        "winners_per_race": max(winners) if winners else 0,
        "min_winners_per_race": min(winners) if winners else 0,
        "errors": errors,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    result: dict[str, object] = {"people": args.people, "rounds": args.rounds}
    with tempfile.TemporaryDirectory() as folder:
        sqlite = race(f"sqlite:///{folder}/bench.db", args.people, args.rounds)
    result["sqlite"] = sqlite
    try:
        with postgres_schema(args.postgres, "bench") as url:
            result["postgres"] = race(url, args.people, args.rounds)
    except psycopg.OperationalError as error:
        print(f"PostgreSQL skipped: {error}", file=sys.stderr)
    for name in ("sqlite", "postgres"):
        if name in result:
            figures = result[name]
            assert isinstance(figures, dict)
            ratio = figures["race_per_attempt_ms"] / figures["single_hold_ms_p50"]
            figures["race_attempt_vs_single_hold"] = round(ratio, 2)
            print(f"{name}: {figures}", file=sys.stderr)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
