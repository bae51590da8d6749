"""The FAQ knowledge base: YAML files in `faq/`, loaded into frozen, checked values."""

from __future__ import annotations

import hashlib
import re
import string
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal, TypeVar

import yaml
from pydantic import Field, StringConstraints, ValidationError

from bot.config import SUPPORTED_LOCALES
from bot.paths import FAQ_DIR
from bot.values.content import Phrases, Strict, Text, TextLists, Texts

STALE_AFTER = timedelta(days=365)
OUTSIDE = "(out-of-scope)"  # the pseudo-topic of faq/out_of_scope.yaml; no topic id has "("
SHORT_LIMIT = 20
CATEGORY_LIMIT = 24
# An answer opens with what the user needs, not with a "yes" that may not fit their question.
_YES_NO = re.compile(r"^(s[iì]|no|yes|oui|non)\b\s*[.:,!;]", re.IGNORECASE)


M = TypeVar("M", bound=Strict)


class Figure(Strict):
    id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]+$")]
    kind: Literal["money", "percent", "number"]
    value: Decimal
    unit: Texts | None = None
    valid_from: date | None = None
    valid_to: date | None = None
    source: Text
    confidence: Literal["high", "medium"]

    def current(self, today: date) -> bool:
        return (self.valid_from or date.min) <= today <= (self.valid_to or date.max)


class Topic(Strict):
    id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]+$")]
    category: Text
    title: Texts
    short: Texts
    questions: TextLists
    keywords: TextLists | None = None
    answer: Texts
    details: Texts
    references: list[Text]
    figures: list[Figure] = []
    validity: Texts | None = None
    uncertain: Texts | None = None
    related: list[str] = []
    actions: list[Literal["callback", "survey", "contacts"]] = []
    reviewed: date

    def figure(self, figure_id: str) -> Figure:
        return next(f for f in self.figures if f.id == figure_id)


class Contacts(Strict):
    """The desk's contacts, filled in by staff in faq/contacts.yaml; empty ones are not shown."""

    phone: Text | None = None
    email: Text | None = None
    address: Text | None = None
    hours: Texts | None = None


class Category(Strict):
    id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]+$")]
    label: Texts
    topics: list[str] = Field(min_length=1)


class Categories(Strict):
    categories: list[Category] = Field(min_length=1)


class SynonymGroup(Phrases):
    """Words people use for the same thing, per language; the first is the canonical one."""


class Synonyms(Strict):
    groups: list[SynonymGroup] = []


class Stopwords(Phrases):
    """Words that carry no topic ("come", "posso", "the", "est-ce"), per language."""


class OutOfScope(Phrases):
    """Typical questions the FAQ does not cover (payslips, hiring, VAT), per language: a
    question closer to these than to any topic is not answered."""


@dataclass(frozen=True)
class KnowledgeBase:
    topics: dict[str, Topic]
    categories: tuple[Category, ...]
    synonyms: Synonyms
    stopwords: Stopwords
    warnings: tuple[str, ...] = field(default=())
    contacts: Contacts = field(default_factory=Contacts)
    out_of_scope: OutOfScope = field(default_factory=OutOfScope)


class KnowledgeError(Exception):
    """The knowledge base is broken; the message lists every problem, one per line."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def load(folder: Path = FAQ_DIR, today: date | None = None) -> KnowledgeBase:
    """Reads and checks `faq/`; raises KnowledgeError listing every problem found. The same
    files on the same day give the same value, read once: it is immutable, and parsing and
    checking the YAML costs about half a second."""
    return _load(folder.resolve(), _fingerprint(folder), today or date.today())


def _fingerprint(folder: Path) -> str:
    """What the YAML files of `folder` hold, as one digest: any edit changes it."""
    digest = hashlib.sha1()
    for path in sorted([*folder.glob("*.yaml"), *folder.glob("topics/*.yaml")]):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


@lru_cache(maxsize=8)
def _load(folder: Path, _fingerprint: str, today: date) -> KnowledgeBase:
    problems: list[str] = []
    topics = _load_topics(folder / "topics", problems)
    categories = _load_one(folder / "categories.yaml", Categories, problems)
    synonyms = _load_one(folder / "synonyms.yaml", Synonyms, problems) or Synonyms()
    stopwords = _load_one(folder / "stopwords.yaml", Stopwords, problems) or Stopwords()
    contacts = _load_optional(folder / "contacts.yaml", Contacts, problems)
    out_of_scope = _load_optional(folder / "out_of_scope.yaml", OutOfScope, problems)
    if categories is not None:
        problems += cross_check(topics, categories.categories)
    if problems:
        raise KnowledgeError(problems)
    assert categories is not None
    warnings = tuple(stale_warnings(topics.values(), today))
    return KnowledgeBase(
        topics, tuple(categories.categories), synonyms, stopwords, warnings, contacts, out_of_scope
    )


def _load_topics(folder: Path, problems: list[str]) -> dict[str, Topic]:
    topics: dict[str, Topic] = {}
    files = sorted(folder.glob("*.yaml"))
    if not files:
        problems.append(f"{folder}: no topic files")
    for path in files:
        topic = _load_one(path, Topic, problems)
        if topic is None:
            continue
        if topic.id != path.stem:
            problems.append(f"{path.name}: id '{topic.id}' differs from the file name")
        if topic.id in topics:
            problems.append(f"{path.name}: id '{topic.id}' is used twice")
        topics[topic.id] = topic
    return topics


def _load_optional(path: Path, model: type[M], problems: list[str]) -> M:
    """A file staff may leave out: its model's defaults when missing."""
    if not path.exists():
        return model()
    return _load_one(path, model, problems) or model()


def _load_one(path: Path, model: type[M], problems: list[str]) -> M | None:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        return model.model_validate(raw)
    except FileNotFoundError:
        problems.append(f"{path.name}: missing")
    except yaml.YAMLError as error:
        problems.append(f"{path.name}: not valid YAML: {error}".replace("\n", " "))
    except ValidationError as error:
        for item in error.errors():
            where = ".".join(str(part) for part in item["loc"])
            problems.append(f"{path.name}: {where}: {item['msg']}")
    return None


def cross_check(topics: dict[str, Topic], categories: list[Category]) -> list[str]:
    """What the schema alone cannot see: ids that must resolve, placeholders, lengths."""
    problems: list[str] = []
    problems += _category_problems(topics, categories)
    for topic in topics.values():
        problems += [f"{topic.id}.yaml: {p}" for p in topic_problems(topic, topics)]
    return problems


def _category_problems(topics: dict[str, Topic], categories: list[Category]) -> list[str]:
    problems: list[str] = []
    listed = [topic_id for category in categories for topic_id in category.topics]
    category_ids = {category.id for category in categories}
    for category in categories:
        problems += [
            f"categories.yaml: {category.id}: label over {CATEGORY_LIMIT} characters ({lang})"
            for lang in SUPPORTED_LOCALES
            if len(category.label.get(lang)) > CATEGORY_LIMIT
        ]
        problems += [
            f"categories.yaml: {category.id}: unknown topic '{topic_id}'"
            for topic_id in category.topics
            if topic_id not in topics
        ]
    for topic in topics.values():
        if listed.count(topic.id) != 1:
            problems.append(f"categories.yaml: topic '{topic.id}' must be in exactly one category")
        if topic.category not in category_ids:
            problems.append(f"{topic.id}.yaml: unknown category '{topic.category}'")
        elif topic.id not in next(c for c in categories if c.id == topic.category).topics:
            problems.append(f"{topic.id}.yaml: category '{topic.category}' does not list it")
    return problems


def topic_problems(topic: Topic, topics: dict[str, Topic]) -> list[str]:
    problems = [f"related: unknown topic '{r}'" for r in topic.related if r not in topics]
    if topic.id in topic.related:
        problems.append("related: a topic cannot be related to itself")
    if not topic.references:
        problems.append("references: at least one legal reference is required")
    figure_ids = [figure.id for figure in topic.figures]
    if len(set(figure_ids)) != len(figure_ids):
        problems.append("figures: an id is used twice")
    for name, texts in _texts(topic):
        for lang in SUPPORTED_LOCALES:
            unknown = placeholders(texts.get(lang)) - set(figure_ids)
            if unknown:
                problems.append(f"{name}.{lang}: unknown figure {sorted(unknown)}")
    problems += [
        f"answer.{lang}: opens with a yes or a no, which fits only some questions"
        for lang in SUPPORTED_LOCALES
        if _YES_NO.match(topic.answer.get(lang))
    ]
    problems += [
        f"short.{lang}: over {SHORT_LIMIT} characters"
        for lang in SUPPORTED_LOCALES
        if len(topic.short.get(lang)) > SHORT_LIMIT
    ]
    return problems


def _texts(topic: Topic) -> list[tuple[str, Texts]]:
    named = [("answer", topic.answer), ("details", topic.details)]
    return named + ([("uncertain", topic.uncertain)] if topic.uncertain else [])


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def stale_warnings(topics: Iterable[Topic], today: date) -> list[str]:
    return [
        f"{topic.id}.yaml: reviewed on {topic.reviewed}, more than 12 months ago"
        for topic in topics
        if today - topic.reviewed > STALE_AFTER
    ]


@dataclass(frozen=True)
class Taught:
    """A question variant staff added from the chat (stored in the database)."""

    topic_id: str
    lang: str
    text: str


def with_questions(kb: KnowledgeBase, taught: Iterable[Taught]) -> KnowledgeBase:
    """The knowledge base with the taught variants added to their topics' questions, or to
    the out-of-scope examples (a variant already in the files, or of a topic no longer
    there, is left out)."""
    added: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for item in taught:
        known = _known_texts(kb, item.topic_id, item.lang)
        if known is not None and item.text not in known:
            added[item.topic_id][item.lang].append(item.text)
    topics = {
        topic_id: _extended(topic, added[topic_id]) if topic_id in added else topic
        for topic_id, topic in kb.topics.items()
    }
    outside = kb.out_of_scope.model_copy(
        update={
            lang: [*kb.out_of_scope.get(lang), *texts] for lang, texts in added[OUTSIDE].items()
        }
    )
    return replace(kb, topics=topics, out_of_scope=outside)


def _known_texts(kb: KnowledgeBase, topic_id: str, lang: str) -> list[str] | None:
    """The texts a variant of this topic in this language joins; None if it cannot."""
    if lang not in SUPPORTED_LOCALES:
        return None
    if topic_id == OUTSIDE:
        return kb.out_of_scope.get(lang)
    topic = kb.topics.get(topic_id)
    return topic.questions.get(lang) if topic else None


def _extended(topic: Topic, new: dict[str, list[str]]) -> Topic:
    questions = topic.questions.model_copy(
        update={lang: [*topic.questions.get(lang), *texts] for lang, texts in new.items()}
    )
    return topic.model_copy(update={"questions": questions})
