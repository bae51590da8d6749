"""The main menu: the desk's entries, each a button whose action a feature owns."""

from __future__ import annotations

from bot.core.commands import localised
from bot.core.turn import Turn
from bot.values.i18n import N_, _, translate_in
from bot.values.markup import Rich, bold
from bot.values.messages import Answer, Keyboard, Reply, rows

# (label, action): the action is a button action registered by a feature.
ENTRIES = (
    (N_("❓ Domande frequenti"), "faq"),
    (N_("📝 Questionario"), "survey"),
    (N_("🙋 Parla con una persona"), "handoff"),
    (N_("📞 Fissa una richiamata"), "callback"),
    (N_("🗓 Le mie richiamate"), "my_bookings"),
    (N_("📅 Eventi e seminari"), "events"),
    (N_("🌐 Lingua"), "language"),
)

# The platform's command menu (Telegram's "/" list): (command, Italian description), translated
# per language; staff also see /staff.
COMMAND_MENU = (
    ("start", N_("Ricomincia e mostra il menu")),
    ("menu", N_("Il menu principale")),
    ("aiuto", N_("Come funziona Sportello")),
    ("faq", N_("Domande frequenti sul welfare")),
    ("questionario", N_("Il questionario sui bisogni")),
    ("operatore", N_("Parla con una persona dello staff")),
    ("richiamata", N_("Fissa una richiamata con lo staff")),
    ("prenotazioni", N_("Le tue richiamate: sposta o annulla")),
    ("eventi", N_("I prossimi eventi e seminari")),
    ("iscriviti", N_("Ricevi gli avvisi di eventi e seminari")),
    ("disiscriviti", N_("Smetti di ricevere gli avvisi")),
    ("lingua", N_("Cambia lingua")),
    ("privacy", N_("Informativa e consenso")),
    ("miei_dati", N_("Ricevi i tuoi dati")),
    ("cancella", N_("Cancella i tuoi dati")),
)
N_STAFF = N_("elenca i comandi riservati allo staff")


def command_menu(locale: str) -> list[tuple[str, str]]:
    """The command menu as people of `locale` read it: their names, their descriptions."""
    return [
        (localised(name, locale), translate_in(locale, description))
        for name, description in COMMAND_MENU
    ]


def keyboard(turn: Turn) -> Keyboard:
    return rows(*(turn.button(_(label), action) for label, action in ENTRIES))


def show(turn: Turn, intro: Rich | str | None = None, replace: bool = False) -> Answer:
    text = intro if intro is not None else bold(_("Come posso aiutarti?"))
    return Answer((Reply(Rich() + text, keyboard(turn), replace),))


def menu_button(turn: Turn) -> Keyboard:
    return rows(turn.button(_("☰ Menu"), "menu"))
