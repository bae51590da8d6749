"""The translation catalogs: every Italian string of bot/ translated, nothing fuzzy, nothing
copied from the Italian by mistake, and the same placeholders and /commands as the source.

The source strings are extracted from the code, not read from locale/sportello.pot, so a string
added in bot/ fails here until `make messages` merges it and a translator fills it in. Each test
lists every offending string, so one run gives a translator the whole to-do list.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po

from bot.core.commands import localised

ROOT = Path(__file__).resolve().parent.parent
SOURCE_DIR = ROOT / "bot"
LOCALE_DIR = ROOT / "locale"
DOMAIN = "sportello"
REQUIRED_LOCALES = ("en", "fr")
LOCALES = sorted(path.parent.parent.name for path in LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))

METHOD_MAP = [("**.py", "python")]
# Babel's defaults (gettext, pgettext, ...) plus the markers bot.i18n defines.
KEYWORDS = {**DEFAULT_KEYWORDS, "_": None, "N_": None, "ngettext": (1, 2)}

# Words that stay the same in every language: names of the desk, the society, places and the
# languages on the /lingua buttons. Longest first, so the full name goes before its parts.
PROPER_NAMES = sorted(
    [
        "Sportello",
        "Società Mutua Piemonte ETS",
        "Società Mutua Piemonte",
        "Pinerolo (TO)",
        "Pinerolo",
        "Garante",
        "Telegram",
        "Italiano",
        "English",
        "Français",
    ],
    key=len,
    reverse=True,
)

# Italian strings whose translation may be identical to them, each with the reason.
ALLOWED_IDENTICAL = {
    "☰ Menu": "'Menu' is the same word in English and French.",
    "No": "'No' is the same word in English (French says 'Non').",
}

# A Telegram command: a slash at the start of a word (not in a URL or "e/o"), then a-z, 0-9, _.
COMMAND = re.compile(r"(?<![\w/])/[A-Za-z][A-Za-z0-9_]*", re.ASCII)
# printf-style placeholders as Python's % operator reads them; "%%" is removed first. No space
# flag, so the "50% di" of ordinary prose does not count as a placeholder.
PERCENT = re.compile(
    r"%(?:\((?P<name>\w+)\))?[-#0+]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?[diouxXeEfFgGcrsa]"
)
BRACES = re.compile(r"\{[^{}]*\}")
QUOTED = re.compile(r'"([^"]+)"|“([^”]+)”|«\s*([^»]+?)\s*»')


# Reading the source and the catalogs ---------------------------------------------------------


@cache
def source_strings() -> dict[tuple[str, str | None], list[str]]:
    """(msgid, context) of every string marked in bot/, with where it appears."""
    found: dict[tuple[str, str | None], list[str]] = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
        SOURCE_DIR, METHOD_MAP, keywords=KEYWORDS
    ):
        msgid = message[0] if isinstance(message, tuple) else message
        if msgid:
            where = f"{SOURCE_DIR.name}/{filename}:{lineno}"
            found.setdefault((msgid, context), []).append(where)
    return found


@cache
def catalog(locale: str) -> Catalog:
    """The parsed catalog; entries Babel finds malformed fail the tests rather than vanish."""
    with (LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po").open("rb") as source:
        return read_po(source, locale=locale, abort_invalid=True)


def entries(locale: str) -> Iterator[Message]:
    """The catalog's messages without the header; obsolete (#~) entries are not included."""
    return (message for message in catalog(locale) if message.id)


def ids(message: Message) -> tuple[str, ...]:
    return (message.id,) if isinstance(message.id, str) else tuple(message.id)


def strings(message: Message) -> tuple[str, ...]:
    value = message.string
    return tuple(value) if isinstance(value, tuple | list) else (value or "",)


def translated(message: Message) -> bool:
    return all(strings(message))


def by_msgid(item: tuple[tuple[str, str | None], list[str]]) -> tuple[str, str]:
    (msgid, context), _places = item
    return msgid, context or ""


def fail(locale: str, problem: str, lines: list[str]) -> None:
    if lines:
        path = f"locale/{locale}/LC_MESSAGES/{DOMAIN}.po"
        listing = "\n".join(f"  - {line}" for line in lines)
        pytest.fail(f"{path}: {len(lines)} {problem}:\n{listing}", pytrace=False)


# What a string is made of ----------------------------------------------------------------------


def commands(text: str) -> set[str]:
    return set(COMMAND.findall(text))


def brace_fields(text: str) -> set[str] | None:
    """The str.format fields ("name", "0", "user.name"); None if the braces do not parse."""
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError:
        return None
    return {field for _literal, field, _spec, _conversion in parsed if field is not None}


def percent_fields(text: str) -> tuple[frozenset[str], tuple[str, ...]]:
    """Named %-placeholders as a set; positional ones in order (they cannot be reordered)."""
    found = list(PERCENT.finditer(text.replace("%%", "")))
    named = frozenset(match.group() for match in found if match.group("name"))
    positional = tuple(match.group() for match in found if not match.group("name"))
    return named, positional


def own_words(text: str) -> str:
    """What is left to translate once commands, placeholders and proper names are gone."""
    for name in PROPER_NAMES:
        text = text.replace(name, " ")
    text = COMMAND.sub(" ", text)
    text = BRACES.sub(" ", text)
    return PERCENT.sub(" ", text)


def has_words(text: str) -> bool:
    """Emoji, digits and punctuation are not letters, so "☰ {name}" has no words."""
    return any(char.isalpha() for char in own_words(text))


def bare(label: str) -> str:
    """A button label without its emoji: "📞 Fissa una richiamata" -> "Fissa una richiamata"."""
    start = next((i for i, char in enumerate(label) if char.isalnum()), len(label))
    return label[start:].strip()


def show(message: Message) -> str:
    return " / ".join(repr(text) for text in ids(message))


# The tests -------------------------------------------------------------------------------------


def test_catalogs_exist() -> None:
    missing = [locale for locale in REQUIRED_LOCALES if locale not in LOCALES]
    assert not missing, f"no locale/<xx>/LC_MESSAGES/{DOMAIN}.po for: {', '.join(missing)}"


def test_source_strings_found() -> None:
    """Guards the other tests: an extraction that finds nothing would pass them all."""
    assert len(source_strings()) > 20, f"only {len(source_strings())} strings found in bot/"


@pytest.mark.parametrize("locale", LOCALES)
def test_every_source_string_is_translated(locale: str) -> None:
    lines = []
    for (msgid, context), places in sorted(source_strings().items(), key=by_msgid):
        message = catalog(locale).get(msgid, context)
        if message is None or not translated(message):
            state = "missing from the catalog" if message is None else "not translated"
            lines.append(f"{msgid!r} ({state}; {', '.join(places)})")
    fail(
        locale,
        "strings of bot/ missing or untranslated (run `make messages`, then translate them)",
        lines,
    )


@pytest.mark.parametrize("locale", LOCALES)
def test_no_fuzzy_entries(locale: str) -> None:
    lines = [show(message) for message in entries(locale) if message.fuzzy]
    if catalog(locale).fuzzy:
        lines.insert(0, "the header (remove its '#, fuzzy' flag)")
    fail(locale, "fuzzy entries (check the translation, then remove the fuzzy flag)", lines)


@pytest.mark.parametrize("locale", LOCALES)
def test_translations_differ_from_italian(locale: str) -> None:
    lines = [
        show(message)
        for message in entries(locale)
        if translated(message)
        and set(strings(message)) <= set(ids(message))
        and ids(message)[0] not in ALLOWED_IDENTICAL
        and any(has_words(text) for text in ids(message))
    ]
    fail(
        locale,
        "translations identical to the Italian (translate them, or add them with a reason "
        "to ALLOWED_IDENTICAL in tests/test_catalogs.py)",
        lines,
    )


@pytest.mark.parametrize("locale", LOCALES)
def test_placeholders_match(locale: str) -> None:
    """Same {fields} and %-placeholders; each plural form may use fewer, but not others."""
    lines = []
    for message in filter(translated, entries(locale)):
        source, targets = ids(message), strings(message)
        expected = [brace_fields(text) for text in source]
        if all(fields is not None for fields in expected):  # else the Italian has a bare { }
            wanted = set().union(*(fields or set() for fields in expected))
            got = [brace_fields(text) for text in targets]
            found = set().union(*(fields or set() for fields in got))
            if None in got:
                lines.append(f"{show(message)}: unbalanced {{ }} in {targets!r}")
            elif found != wanted:
                lines.append(f"{show(message)}: {{fields}} {sorted(wanted)} -> {sorted(found)}")
        named = set().union(*(percent_fields(text)[0] for text in source))
        positional = {percent_fields(text)[1] for text in source}
        got_named = set().union(*(percent_fields(text)[0] for text in targets))
        if got_named != named or any(percent_fields(t)[1] not in positional for t in targets):
            lines.append(f"{show(message)}: %-placeholders differ in {targets!r}")
    fail(locale, "translations whose placeholders differ from the Italian", lines)


@pytest.mark.parametrize("locale", LOCALES)
def test_commands_match(locale: str) -> None:
    lines = []
    for message in filter(translated, entries(locale)):
        source = set().union(*(commands(text) for text in ids(message)))
        wanted = {"/" + localised(command[1:], locale) for command in source}
        for text in strings(message):
            if commands(text) != wanted:
                lines.append(
                    f"{show(message)}: commands {sorted(wanted)} -> {sorted(commands(text))} "
                    f"in {text!r} (a command is named as bot/core/commands.py has it in "
                    "this language)"
                )
    fail(locale, "translations whose /commands differ from the Italian", lines)


@pytest.mark.parametrize("locale", LOCALES)
def test_quoted_button_labels_match_the_buttons(locale: str) -> None:
    """'scegli "Fissa una richiamata"' must quote the button as its own entry translates it."""
    labels = {bare(ids(message)[0]): message for message in entries(locale)}
    lines = []
    for message in filter(translated, entries(locale)):
        for match in QUOTED.finditer(ids(message)[0]):
            quoted = next(group for group in match.groups() if group)
            button = labels.get(quoted)
            if button is None or button is message or not translated(button):
                continue
            label = bare(strings(button)[0])
            for text in strings(message):
                if label not in text:
                    lines.append(f"{show(message)}: should quote {label!r}, has {text!r}")
    fail(locale, "translations that quote a button differently from the button itself", lines)
