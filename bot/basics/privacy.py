"""Privacy (GDPR): the notice and consent, /privacy, /miei_dati, /cancella, retention."""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core import menu
from bot.core.turn import Command, Feature, Stale, Turn
from bot.delivery import redaction
from bot.storage import personal_data
from bot.storage.models import Consent
from bot.values.i18n import _, format_date, ngettext
from bot.values.markup import Rich, bold, bullets, join, text
from bot.values.messages import Answer, Document, Reply, rows, say

NOTICE_VERSION = "2026-11"


def notice(turn: Turn) -> Rich:
    months = turn.settings.retention_months
    return join(
        [
            bold(_("Informativa privacy di Sportello")),
            _("Titolare del trattamento: Società Mutua Piemonte ETS, Pinerolo (TO)."),
            _("Perché trattiamo i tuoi dati:"),
            bullets(
                [
                    _("rispondere alle tue domande e ricordare la lingua che hai scelto;"),
                    _(
                        "raccogliere le risposte al questionario sui bisogni, solo in forma "
                        "aggregata nei report;"
                    ),
                    _("richiamarti al numero che ci lasci, se prenoti una chiamata;"),
                    _("avvisarti di eventi e seminari, se ti iscrivi."),
                ]
            ),
            ngettext(
                "Conservazione: se non usi Sportello per {months} mese, cancelliamo "
                "automaticamente i tuoi dati.",
                "Conservazione: se non usi Sportello per {months} mesi, cancelliamo "
                "automaticamente i tuoi dati.",
                months,
            ).format(months=months),
            _(
                "I tuoi diritti: vedere i tuoi dati (/miei_dati), cancellarli (/cancella), "
                "revocare il consenso (/privacy), reclamare al Garante per la protezione dei "
                "dati personali."
            ),
            _("Versione dell'informativa: {version}.").format(version=NOTICE_VERSION),
        ]
    )


def current_consent(session: Session, user_id: int) -> Consent | None:
    query = (
        select(Consent)
        .where(Consent.user_id == user_id, Consent.withdrawn_at.is_(None))
        .order_by(Consent.accepted_at.desc())
    )
    return session.scalars(query).first()


def has_consent(turn: Turn) -> bool:
    consent = current_consent(turn.session, turn.user.id)
    return consent is not None and consent.notice_version == NOTICE_VERSION


def ask_consent(turn: Turn, then: str) -> Answer:
    """Shows the notice and asks to accept; on yes, the `then` action continues."""
    keyboard = rows(
        turn.button(_("✅ Accetto"), "consent", "yes", then),
        turn.button(_("No, grazie"), "consent", "no"),
    )
    intro = _("Per questa funzione devo salvare alcuni tuoi dati. Prima leggi l'informativa:")
    return Answer((Reply(text(intro)), Reply(notice(turn), keyboard)))


def show(turn: Turn) -> Answer:
    """/privacy: the notice, the user's consent state, and what they can do."""
    consent = current_consent(turn.session, turn.user.id)
    if consent is None:
        state = _("Non hai dato il consenso: salvo solo quanto serve a risponderti.")
        action = turn.button(_("✅ Accetto"), "consent", "yes", "menu")
    else:
        state = _("Hai dato il consenso il {day}.").format(day=format_date(consent.accepted_at))
        action = turn.button(_("Revoca il consenso"), "withdraw")
    keyboard = rows(
        action,
        turn.button(_("📄 I miei dati"), "mydata"),
        turn.button(_("🗑 Cancella i miei dati"), "erase"),
    )
    return Answer((Reply(notice(turn)), Reply(text(state), keyboard)))


def on_consent(turn: Turn, args: tuple[str, ...]) -> Answer:
    choice, then = (*args, "", "")[:2]
    if choice == "no":
        return menu.show(
            turn,
            _("Va bene, nessun dato in più salvato. Puoi cambiare idea quando vuoi con /privacy."),
            replace=True,
        )
    if choice != "yes":
        raise Stale
    if not has_consent(turn):
        turn.session.add(
            Consent(user_id=turn.user.id, notice_version=NOTICE_VERSION, accepted_at=turn.now)
        )
    if not then:
        return say(_("Grazie, consenso registrato."), replace=True)
    # The thanks is a short notice; what the user asked for takes the notice's place.
    return Answer(notice=_("Grazie, consenso registrato.")) + turn.follow(then)


def ask_withdraw(turn: Turn, _args: tuple[str, ...]) -> Answer:
    """Withdrawing consent deletes data: first say which, and ask."""
    if current_consent(turn.session, turn.user.id) is None:
        raise Stale
    turn.remember(withdraw_asked=True)
    keyboard = rows(
        turn.button(_("Sì, revoca il consenso"), "withdraw_yes"),
        turn.button(_("Annulla"), "withdraw_no"),
    )
    question = join(
        [
            _("Se revochi il consenso cancello subito:"),
            bullets(
                [
                    _("le tue risposte al questionario;"),
                    _(
                        "le tue richiamate, con numero di telefono e nota "
                        "(quelle future sono annullate);"
                    ),
                    _("la tua iscrizione agli avvisi di eventi e seminari;"),
                    _("le tue risposte agli inviti agli eventi."),
                ]
            ),
            _("Restano la lingua scelta e la prova del consenso dato e revocato. Confermi?"),
        ]
    )
    return Answer((Reply(question, keyboard, replace=True),))


def on_withdraw(turn: Turn, _args: tuple[str, ...]) -> Answer:
    consent = current_consent(turn.session, turn.user.id)
    if consent is None or not turn.conversation.data.get("withdraw_asked"):
        raise Stale
    turn.remember(withdraw_asked=False)
    consent.withdrawn_at = turn.now
    forgotten = turn.forget(turn)
    redaction.redact_sent(turn.session, turn.user.id, turn.settings.default_locale, turn.now)
    personal_data.erase_consent_based(turn.session, turn.user.id)
    return (
        menu.show(
            turn,
            _(
                "Consenso revocato: ho cancellato i dati che avevo salvato "
                "grazie al consenso (questionario, telefono, iscrizioni)."
            ),
            replace=True,
        )
        + forgotten
    )


def export(turn: Turn) -> Answer:
    """/miei_dati: everything stored about the user, as a JSON document."""
    data = {
        "exported_at": turn.now.isoformat(),
        "controller": "Società Mutua Piemonte ETS",
        "notice_version": NOTICE_VERSION,
        "tables": personal_data.export(turn.session, turn.user.id),
    }
    content = json.dumps(data, ensure_ascii=False, indent=2).encode()
    caption = text(_("Ecco tutti i dati che Sportello conserva su di te."))
    document = Document("sportello-miei-dati.json", content, "application/json", caption)
    return Answer((document,))


def ask_erase(turn: Turn) -> Answer:
    """/cancella: asks for confirmation before erasing everything."""
    keyboard = rows(
        turn.button(_("🗑 Sì, cancella tutto"), "erase_yes"),
        turn.button(_("Annulla"), "erase_no"),
    )
    turn.remember(erase_asked=True)
    return say(
        _(
            "Vuoi davvero cancellare tutti i tuoi dati (lingua, consenso, risposte, "
            "prenotazioni, iscrizioni)? Non si può tornare indietro."
        ),
        buttons=keyboard,
    )


def on_erase_yes(turn: Turn, _args: tuple[str, ...]) -> Answer:
    if not turn.conversation.data.get("erase_asked"):
        raise Stale  # an old confirmation, e.g. a second tap after the erasure
    forgotten = turn.forget(turn)
    redaction.redact_sent(turn.session, turn.user.id, turn.settings.default_locale, turn.now)
    personal_data.erase(turn.session, turn.user.id)
    return (
        say(
            _(
                "Fatto: ho cancellato tutti i tuoi dati. Se mi scrivi di nuovo, ricominciamo "
                "da zero."
            ),
            replace=True,
        )
        + forgotten
    )


def on_withdraw_no(turn: Turn, _args: tuple[str, ...]) -> Answer:
    turn.remember(withdraw_asked=False)
    return menu.show(turn, _("Va bene, il consenso resta com'era."), replace=True)


def on_erase_no(turn: Turn, _args: tuple[str, ...]) -> Answer:
    turn.remember(erase_asked=False)
    return menu.show(turn, _("Va bene, non ho cancellato niente."), replace=True)


FEATURE = Feature(
    name="privacy",
    commands={
        "privacy": Command(show),
        "miei_dati": Command(export),
        "cancella": Command(ask_erase),
    },
    buttons={
        "consent": on_consent,
        "withdraw": ask_withdraw,
        "withdraw_yes": on_withdraw,
        "withdraw_no": on_withdraw_no,
        "mydata": lambda turn, _args: export(turn),
        "erase": lambda turn, _args: ask_erase(turn),
        "erase_yes": on_erase_yes,
        "erase_no": on_erase_no,
    },
)
