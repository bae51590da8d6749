"""Languages: gettext catalogs, the current locale in a context variable, Babel formats."""

from __future__ import annotations

import gettext
import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date as babel_date
from babel.dates import format_time as babel_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal
from babel.numbers import format_percent as babel_percent

from bot.config import SUPPORTED_LOCALES
from bot.paths import COMPILED_LOCALE_DIR, LOCALE_DIR

DOMAIN = "sportello"
SOURCE_LOCALE = "it"
_locale: ContextVar[str] = ContextVar("locale", default=SOURCE_LOCALE)
DEFAULT_ZONE = ZoneInfo("Europe/Rome")
_zone: ContextVar[ZoneInfo | None] = ContextVar("zone", default=None)

LANGUAGE_NAMES = {"it": "Italiano", "en": "English", "fr": "Français"}


def zone() -> ZoneInfo:
    return _zone.get() or DEFAULT_ZONE


def current_locale() -> str:
    return _locale.get()


@contextmanager
def use_locale(locale: str, zone: ZoneInfo | None = None) -> Iterator[None]:
    """Makes `_()` and the formatters speak `locale` (and use `zone`) inside the block."""
    token = _locale.set(locale if locale in SUPPORTED_LOCALES else SOURCE_LOCALE)
    zone_token = _zone.set(zone) if zone else None
    try:
        yield
    finally:
        _locale.reset(token)
        if zone_token:
            _zone.reset(zone_token)


def pick_locale(language_code: str | None, default: str = SOURCE_LOCALE) -> str:
    """Telegram's language_code ("fr-CA", "en") mapped to a supported locale."""
    base = (language_code or "").split("-")[0].split("_")[0].lower()
    return base if base in SUPPORTED_LOCALES else default


def _(message: str) -> str:
    return translations(current_locale()).gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    return translations(current_locale()).ngettext(singular, plural, count)


def N_(message: str) -> str:
    """Marks a string for extraction; it is translated where it is shown."""
    return message


def translate_in(locale: str, message: str) -> str:
    with use_locale(locale):
        return _(message)


def compile_all() -> None:
    """Compiles every catalog now, so a broken .po stops start-up, not a conversation."""
    for locale in SUPPORTED_LOCALES:
        if locale != SOURCE_LOCALE:
            translations(locale)


@cache
def translations(locale: str) -> gettext.NullTranslations:
    if locale == SOURCE_LOCALE:
        return gettext.NullTranslations()
    compile_catalog(locale)
    return gettext.translation(DOMAIN, COMPILED_LOCALE_DIR, languages=[locale])


def catalog_path(locale: str, root: Path, suffix: str) -> Path:
    return root / locale / "LC_MESSAGES" / f"{DOMAIN}{suffix}"


def compile_catalog(
    locale: str, source: Path = LOCALE_DIR, target: Path = COMPILED_LOCALE_DIR
) -> None:
    """Writes the .mo (under DATA_DIR, never inside the package) when it is missing or older
    than the .po that ships with the code, so a plain install works."""
    po_path, mo_path = catalog_path(locale, source, ".po"), catalog_path(locale, target, ".mo")
    if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
        return
    mo_path.parent.mkdir(parents=True, exist_ok=True)
    with po_path.open("rb") as po_file:
        catalog = read_po(po_file, locale=locale)
    temporary = mo_path.with_suffix(f".{os.getpid()}.tmp")  # processes may race
    with temporary.open("wb") as mo_file:
        write_mo(mo_file, catalog)
    temporary.replace(mo_path)


# Dates and times in English read one way throughout, the European one: "Monday 23 November",
# "23 November 2026", "14:00" (Babel's "en" is American: "November 23, 2026", "2:00 PM").
DATE_LOCALES = {"en": "en_GB"}


def _date_locale() -> str:
    return DATE_LOCALES.get(current_locale(), current_locale())


def format_date(value: date) -> str:
    """A date such as "23 novembre 2026", "23 November 2026"."""
    return babel_date(_local_date(value), format="long", locale=_date_locale())


def format_day(value: date) -> str:
    """A day with its weekday: "lunedì 23 novembre", "Monday 23 November"."""
    return babel_date(_local_date(value), format="EEEE d MMMM", locale=_date_locale())


def format_short_day(value: date) -> str:
    """A day in a few characters, for lists: "23 nov", "23 Nov", "23 nov."."""
    return babel_date(_local_date(value), format="d MMM", locale=_date_locale())


def format_time(moment: datetime) -> str:
    """The local time of a moment: "09:20", "09:20" in English too."""
    return babel_time(moment.astimezone(zone()), format="short", locale=_date_locale())


def format_moment(moment: datetime) -> str:
    """Day and time of a moment, where the user lives: "lunedì 23 novembre, 09:20"."""
    return f"{format_day(moment)}, {format_time(moment)}"


def _local_date(value: date) -> date:
    return value.astimezone(zone()).date() if isinstance(value, datetime) else value


def format_money(amount: Decimal | int | float) -> str:
    """Euro amounts: "1.000 €", "€1,000", "5,29 €" (no cents on whole amounts)."""
    value = Decimal(str(amount))
    if value == value.to_integral_value():
        pattern = Locale.parse(current_locale()).currency_formats["standard"].pattern
        whole = pattern.replace(".00", "")
        return format_currency(value, "EUR", whole, locale=current_locale(), currency_digits=False)
    return format_currency(value, "EUR", locale=current_locale())


def format_percent(fraction: Decimal | float) -> str:
    """0.01 -> "1%" ("1 %" in French)."""
    return babel_percent(fraction, locale=current_locale(), decimal_quantization=False)


def format_number(value: Decimal | int | float) -> str:
    return format_decimal(value, locale=current_locale())
