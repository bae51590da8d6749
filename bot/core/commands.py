"""Command names in each language: a command is registered under its Italian name, and people
of other languages type and read its alias (/cancel, /annuler); the router knows them all."""

from __future__ import annotations

import re

# Italian name -> {locale: alias}. Telegram allows a-z, 0-9 and _ (no accents).
ALIASES: dict[str, dict[str, str]] = {
    "aiuto": {"en": "help", "fr": "aide"},
    "annulla": {"en": "cancel", "fr": "annuler"},
    "questionario": {"en": "survey", "fr": "questionnaire"},
    "richiamata": {"en": "callback", "fr": "rappel"},
    "prenotazioni": {"en": "mycalls", "fr": "mesrappels"},
    "eventi": {"en": "events", "fr": "evenements"},
    "iscriviti": {"en": "subscribe", "fr": "abonnement"},
    "disiscriviti": {"en": "unsubscribe", "fr": "desabonnement"},
    "lingua": {"en": "language", "fr": "langue"},
    "privacy": {"en": "privacy", "fr": "confidentialite"},
    "miei_dati": {"en": "mydata", "fr": "mesdonnees"},
    "cancella": {"en": "erase", "fr": "effacer"},
    "agenda": {"en": "agenda", "fr": "agenda"},
    "assenza": {"en": "absence", "fr": "absence"},
    "statistiche": {"en": "stats", "fr": "statistiques"},
    "esporta": {"en": "export", "fr": "exporter"},
    "nuovo_evento": {"en": "new_event", "fr": "nouvel_evenement"},
    "eventi_staff": {"en": "staff_events", "fr": "evenements_staff"},
}
CANONICAL = {alias: name for name, aliases in ALIASES.items() for alias in aliases.values()}
# A command in a text: a slash at the start of a word (not in a URL or "e/o").
IN_TEXT = re.compile(r"(?<![\w/])/([a-z][a-z0-9_]*)")


def canonical(name: str) -> str:
    """The Italian name a command is registered under ("cancel" -> "annulla")."""
    return CANONICAL.get(name, name)


def localised(name: str, locale: str) -> str:
    """The name people of `locale` use ("annulla", "en" -> "cancel")."""
    return ALIASES.get(name, {}).get(locale, name)


def localise_commands(text: str, locale: str) -> str:
    """Every /command of a text under its name in `locale`."""
    return IN_TEXT.sub(lambda match: "/" + localised(match.group(1), locale), text)
