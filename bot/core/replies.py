"""The desk's answers to what fits no feature: bad input, stale buttons, refusals."""

from __future__ import annotations

from bot.core import menu
from bot.core.turn import Turn
from bot.values.i18n import _
from bot.values.messages import Answer, Kind, say


def not_understood(turn: Turn) -> Answer:
    return menu.show(
        turn,
        _(
            "Non ho capito la richiesta. Scegli un argomento dal menu qui sotto, "
            "oppure scrivi /aiuto."
        ),
    )


def empty_text(turn: Turn) -> Answer:
    return menu.show(turn, _("Il messaggio sembra vuoto. Scrivimi la tua domanda a parole."))


def unsupported(turn: Turn) -> Answer:
    """Stickers, photos, voice, locations, contacts outside a flow, edited messages."""
    texts = {
        Kind.EDITED: _(
            "Ho visto che hai modificato un messaggio: le modifiche non le leggo. "
            "Mandami il testo corretto come nuovo messaggio, per favore."
        ),
        Kind.CONTACT: _(
            "Grazie, ma in questo momento non mi serve un contatto e non lo "
            "salvo. Scegli dal menu cosa vuoi fare."
        ),
        Kind.LOCATION: _(
            "Grazie, ma non uso la posizione. Scrivimi in quale comune o "
            "valle si trova la tua attività, se serve."
        ),
    }
    default = _(
        "Per ora leggo solo messaggi di testo e pulsanti: niente foto, vocali, "
        "adesivi o file. Scrivimi la tua domanda, per favore."
    )
    return menu.show(turn, texts.get(turn.inbound.kind, default))


def unknown_command(turn: Turn) -> Answer:
    return menu.show(
        turn, _("Non conosco questo comando. Ecco cosa posso fare (oppure scrivi /aiuto):")
    )


def stale_button(turn: Turn) -> Answer:
    return Answer(
        menu.show(turn, _("Questo pulsante non è più valido. Ecco il menu aggiornato:")).replies,
        notice=_("Pulsante non più valido"),
    )


def staff_only(turn: Turn) -> Answer:
    return say(
        _(
            "Mi dispiace, questa funzione è riservata allo staff della Società Mutua "
            'Piemonte. Per parlare con una persona scegli "Fissa una richiamata" '
            "dal menu."
        ),
        buttons=menu.menu_button(turn),
    )


def private_only(turn: Turn) -> Answer:
    return say(_("Scrivimi in una chat privata, per favore: qui nel gruppo non rispondo."))
