"""The main menu: the desk's entries, each a button whose action a feature owns."""

from __future__ import annotations

from bot.i18n import N_, _
from bot.markup import Rich, bold
from bot.messages import Answer, Keyboard, Reply, rows
from bot.turn import Turn

# (label, action): the action is a button action registered by a feature.
ENTRIES = (
    (N_("❓ Domande frequenti"), "faq"),
    (N_("📝 Questionario"), "survey"),
    (N_("📞 Fissa una richiamata"), "callback"),
    (N_("📅 Eventi e seminari"), "events"),
    (N_("🌐 Lingua"), "language"),
)


def keyboard(turn: Turn) -> Keyboard:
    return rows(*(turn.button(_(label), action) for label, action in ENTRIES))


def show(turn: Turn, intro: Rich | str | None = None, replace: bool = False) -> Answer:
    text = intro if intro is not None else bold(_("Come posso aiutarti?"))
    return Answer((Reply(Rich() + text, keyboard(turn), replace),))


def menu_button(turn: Turn) -> Keyboard:
    return rows(turn.button(_("☰ Menu"), "menu"))
