"""Greeting, main menu and help; the menu entries that later capabilities will fill."""

from __future__ import annotations

import re
import unicodedata

from bot.basics import privacy
from bot.core import menu
from bot.core.turn import ButtonHandler, Command, Feature, Turn
from bot.values.i18n import _
from bot.values.markup import Rich, bold, join
from bot.values.messages import Answer

GREETINGS = {
    "ciao",
    "salve",
    "buongiorno",
    "buonasera",
    "buondi",
    "hello",
    "hi",
    "hey",
    "good morning",
    "bonjour",
    "bonsoir",
    "salut",
    "menu",
    "start",
    "inizio",
    "aiuto",
    "help",
    "aide",
}


def normalise(value: str) -> str:
    """Lower case, no accents, no punctuation: how people type greetings on a phone."""
    folded = unicodedata.normalize("NFKD", value.casefold())
    bare = "".join(char for char in folded if not unicodedata.combining(char))
    return " ".join(re.sub(r"[^\w\s]", " ", bare).split())


# Deep links: https://t.me/<bot>?start=questionario opens the survey directly.
DEEP_LINKS = {
    "questionario": "survey",
    "faq": "faq",
    "richiamata": "callback",
    "eventi": "events",
    "lingua": "language",
}


def start(turn: Turn) -> Answer:
    """/start: greets the user in their language and shows the menu (or opens a deep link)."""
    turn.end_flow()
    words = turn.inbound.text.split()
    link = DEEP_LINKS.get(words[1].lower()) if len(words) > 1 else None
    if link:
        return turn.follow(link)
    name = turn.inbound.sender.name.split(" ")[0] if turn.inbound.sender.name else ""
    hello = _("Ciao {name}!").format(name=name) if name else _("Ciao!")
    intro = join(
        [
            bold(hello),
            _(
                "Sono Sportello, lo sportello in chat della Società Mutua Piemonte: rispondo "
                "sul welfare aziendale e territoriale, raccolgo i bisogni della tua impresa, "
                "fisso una richiamata con il nostro staff e ti avviso dei seminari."
            ),
        ]
    )
    return menu.show(turn, intro) + turn.greet(turn)


def show_menu(turn: Turn) -> Answer:
    turn.end_flow()
    return menu.show(turn)


def show_help(turn: Turn) -> Answer:
    """/aiuto: what the desk does and the commands that always work."""
    lines: list[Rich | str] = [
        bold(_("Come funziona Sportello")),
        _("Scrivimi una domanda con parole tue, oppure usa i pulsanti."),
        _("/menu: il menu principale"),
        _("/faq: gli argomenti delle domande frequenti"),
        _("/questionario: il questionario sui bisogni (/annulla per uscire)"),
        _("/eventi: i prossimi eventi e seminari"),
        _("/iscriviti: gli avvisi di eventi e seminari (/disiscriviti per smettere)"),
        _("/richiamata: fissa una richiamata con lo staff; /prenotazioni: le tue richiamate"),
        _("/lingua: cambia lingua"),
        _("/privacy: informativa e consenso"),
        _("/miei_dati: ricevi i dati che conservo su di te"),
        _("/cancella: cancella tutti i tuoi dati"),
    ]
    return menu.show(turn, join(lines))


def greeting(turn: Turn) -> Answer | None:
    """Greetings and the word "menu" open the menu; anything else is not mine."""
    return show_menu(turn) if normalise(turn.inbound.text) in GREETINGS else None


def coming(turn: Turn) -> Answer:
    return menu.show(
        turn,
        _(
            "Questa parte di Sportello arriverà presto. Intanto puoi chiamare la Società "
            "Mutua Piemonte in orario d'ufficio."
        ),
        replace=True,
    )


def coming_with_consent(action: str) -> ButtonHandler:
    """A menu entry that will store personal data: consent comes first."""

    def handle(turn: Turn, _args: tuple[str, ...]) -> Answer:
        return coming(turn) if privacy.has_consent(turn) else privacy.ask_consent(turn, action)

    return handle


def cancel(turn: Turn) -> Answer:
    """/annulla: leaves whatever the user is in the middle of; each flow says what it keeps."""
    flow = turn.conversation.flow
    if not flow:
        return menu.show(turn, _("Non c'è niente da annullare."))
    return turn.follow(f"cancel_{flow}")


FEATURE = Feature(
    name="onboarding",
    commands={
        "start": Command(start),
        "menu": Command(show_menu),
        "aiuto": Command(show_help),  # /help, /aide: aliases (bot/core/commands.py)
        "annulla": Command(cancel),
    },
    buttons={
        "menu": lambda turn, _args: show_menu(turn),
    },
    text=greeting,
)
