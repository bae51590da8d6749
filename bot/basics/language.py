"""/lingua: the user picks Italian, English or French, and it is remembered."""

from __future__ import annotations

from bot.config import SUPPORTED_LOCALES
from bot.core import menu
from bot.core.turn import Command, Feature, Stale, Turn
from bot.values.i18n import LANGUAGE_NAMES, _, use_locale
from bot.values.messages import Answer, rows, say


def ask(turn: Turn) -> Answer:
    keyboard = rows(
        *(turn.button(LANGUAGE_NAMES[code], "lang", code) for code in SUPPORTED_LOCALES)
    )
    return say(_("In che lingua preferisci parlare?"), buttons=keyboard)


def choose(turn: Turn, args: tuple[str, ...]) -> Answer:
    if not args or args[0] not in SUPPORTED_LOCALES:
        raise Stale
    turn.user.locale, turn.user.locale_chosen = args[0], True
    with use_locale(args[0], turn.settings.zone):
        done = _("D'accordo, da ora ti scrivo in italiano.")
        return menu.show(turn, done, replace=True)


FEATURE = Feature(
    name="language",
    commands={"lingua": Command(ask)},  # /language, /langue: aliases (bot/core/commands.py)
    buttons={"language": lambda turn, _args: ask(turn), "lang": choose},
)
