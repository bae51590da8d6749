"""`sportello booking check` and `sportello booking export --ics --staff ID`."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, date, datetime, time

from sqlalchemy import select

from bot.booking import store as booking_store
from bot.booking.setup import BookingSetup, load_booking, staff_problems
from bot.booking.staff import card_text
from bot.config import Settings
from bot.storage.db import Database
from bot.storage.models import Booking
from bot.values.i18n import current_locale, use_locale
from bot.values.ics import Event, calendar_of
from bot.values.markup import to_plain


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    booking = commands.add_parser(
        "booking",
        help="callback booking: check flows/booking.yaml, export a calendar",
        description="Callback booking settings and calendars.",
    )
    actions = booking.add_subparsers(dest="booking_command", required=True, metavar="ACTION")
    actions.add_parser(
        "check",
        help="validate the booking file (exit 1 on errors); needs no database",
        description="Validates BOOKING_FILE (default flows/booking.yaml) and that every "
        "operator's Telegram id is in STAFF_USER_IDS.",
    )
    export = actions.add_parser(
        "export",
        help="a staff member's calls as a calendar file",
        description="Writes the upcoming calls of one staff member as an .ics calendar.",
    )
    export.add_argument("--ics", action="store_true", required=True, help="iCalendar format")
    export.add_argument("--staff", type=int, required=True, help="the staff member's Telegram id")
    export.add_argument("--out", help="file to write (default: standard output)")
    export.add_argument(
        "--from",
        dest="since",
        type=date.fromisoformat,
        help="first day, YYYY-MM-DD (default: today)",
    )


def topic_label(setup: BookingSetup, topic_id: str) -> str:
    topic = setup.topic(topic_id)
    return topic.label.get(current_locale()) if topic else topic_id


def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.booking_command == "check":
        return check(settings)
    return export(args, settings)


def check(settings: Settings) -> int:
    setup = load_booking(settings.booking_file)  # BookingError: exit 2 with the problems
    problems = staff_problems(setup, settings.staff_user_ids)
    for problem in problems:
        print(f"{settings.booking_file.name}: {problem}", file=sys.stderr)
    if problems:
        return 1
    print(
        f"{settings.booking_file.name}: ok, {len(setup.topics)} topics, "
        f"{len(setup.operators)} operators"
    )
    return 0


def export(args: argparse.Namespace, settings: Settings) -> int:
    setup = load_booking(settings.booking_file)
    database = Database(settings.database_url)
    now = datetime.now(UTC)
    since = datetime.combine(args.since, time(), tzinfo=settings.zone) if args.since else now
    try:
        with database.transaction() as session, use_locale(settings.default_locale, settings.zone):
            query = (
                select(Booking)
                .where(
                    Booking.operator_id == args.staff,
                    Booking.status == booking_store.CONFIRMED,
                    Booking.ends_at > since,
                )
                .order_by(Booking.starts_at)
            )
            events = [
                Event(
                    uid=f"booking-{b.id}",
                    start=b.starts_at,
                    end=b.ends_at,
                    summary=f"Sportello: {topic_label(setup, b.topic)}",
                    description=to_plain(card_text(session, setup, b)),
                )
                for b in session.scalars(query)
            ]
    finally:
        database.dispose()
    content = calendar_of(events, now, settings.uid_domain)
    if args.out:
        with open(args.out, "wb") as target:
            target.write(content)
        print(f"{args.out}: {len(events)} calls", file=sys.stderr)
    else:
        sys.stdout.buffer.write(content)
    return 0
