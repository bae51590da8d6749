"""`sportello faq check` and `sportello faq ask`: for staff testing the knowledge base."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import select

from bot.config import SUPPORTED_LOCALES, Settings
from bot.faq.knowledge import OUTSIDE, KnowledgeError, load
from bot.faq.library import Library
from bot.faq.variants import append_examples, append_questions
from bot.paths import FAQ_DIR
from bot.storage.db import Database
from bot.storage.models import FaqGap, FaqVariant
from bot.values.i18n import use_locale
from bot.values.markup import to_plain


def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.faq_command == "check":
        return check()
    if args.faq_command == "export-variants":
        database = Database(settings.database_url)
        try:
            database.ensure_schema()
            print("\n".join(export_variants(database, FAQ_DIR, datetime.now(UTC))))
        finally:
            database.dispose()
        return 0
    return ask(args.question, args.lang, args.json)


def export_variants(database: Database, folder: Path, now: datetime) -> list[str]:
    """Writes the taught variants not yet exported into their topic files (the files stay
    the source of truth); returns what it did, and the gaps staff recorded, as lines."""
    lines: list[str] = []
    exported = 0
    with database.transaction() as session:
        pending = select(FaqVariant).where(FaqVariant.exported_at.is_(None))
        for variant in session.scalars(pending.order_by(FaqVariant.id)).all():
            if variant.topic_id == OUTSIDE:
                path = folder / "out_of_scope.yaml"
                append_examples(path, variant.locale, [variant.text])
                where = f"{path.name} {variant.locale}"
            else:
                path = folder / "topics" / f"{variant.topic_id}.yaml"
                if not path.exists():
                    lines.append(f"skipped, no topic {variant.topic_id}: {variant.text}")
                    continue
                append_questions(path, variant.locale, [variant.text])
                where = f"{path.name} questions.{variant.locale}"
            variant.exported_at = now
            exported += 1
            lines.append(f"{where}: {variant.text}")
        gaps = session.scalars(select(FaqGap).order_by(FaqGap.recorded_at)).all()
        lines += [f"new topic wanted ({gap.locale}, {gap.asked}x): {gap.text}" for gap in gaps]
    return [f"faq: {exported} variant(s) exported", *lines]


def check() -> int:
    """Fails on a broken file and on a first message that does not fit a phone screen."""
    from bot.faq.desk import first_message_problems

    try:
        kb = load()
        problems = first_message_problems(kb, date.today())
    except KnowledgeError as error:
        problems = error.problems
    if problems:
        print(f"faq: {len(problems)} problem(s):", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    for warning in kb.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    examples = sum(len(kb.out_of_scope.get(lang)) for lang in SUPPORTED_LOCALES)
    print(
        f"faq: ok, {len(kb.topics)} topics in {len(kb.categories)} categories, "
        f"{examples} out-of-scope examples"
    )
    return 0


def ask(question: str, lang: str, as_json: bool) -> int:
    from bot.faq.desk import answer_text

    library = Library()
    questions: Iterable[str] = sys.stdin if question == "-" else [question]
    for line in questions:
        text = line.strip()
        if not text:
            continue
        match = library.current.matcher.match(text, lang)
        if as_json or question == "-":
            row = {
                "question": text,
                "id": match.topic_id if match.outcome == "answer" else None,
                "score": round(match.score, 4),
                "alternatives": list(match.alternatives),
            }
            print(json.dumps(row, ensure_ascii=False), flush=True)
        elif match.outcome == "answer" and match.topic_id:
            topic = library.current.kb.topics[match.topic_id]
            with use_locale(lang):
                print(to_plain(answer_text(topic, date.today())))
        else:
            print(
                f"({match.outcome}, score {match.score:.2f}; alternatives: "
                f"{', '.join(match.alternatives) or 'none'})"
            )
    return 0
