"""The handoff, assembled: the person's side and the staff's side of one feature."""

from __future__ import annotations

from bot.core.turn import Command, Feature, Turn
from bot.delivery.reminders import Due
from bot.handoff import store
from bot.handoff.chat import StaffChat
from bot.handoff.config import HandoffConfig
from bot.handoff.desk import END_COMMANDS, FALLBACK, FLOW, HandoffDesk
from bot.handoff.staff import HandoffStaff
from bot.values.i18n import N_, _
from bot.values.markup import text
from bot.values.messages import Answer, Button, Outbound, Reply, rows

N_ASK = N_("Parla con una persona dello staff")
N_CLOSE = N_("chiude la conversazione con la persona (nel suo argomento o nella tua chat)")
N_CANNED = N_("risposte pronte per la persona (nel suo argomento o nella tua chat)")
N_REPORT = N_("numeri delle conversazioni con lo staff: /handoff_report [giorni]")
N_REQUESTS = N_("le richieste aperte: prendine una e rispondi dalla tua chat")
ASK_COMMANDS = ("operatore", "persona", "operator", "human", "conseiller")
REQUESTS_COMMANDS = ("conversazioni", "conversations", "discussions")


def feature(config: HandoffConfig) -> Feature:
    desk = HandoffDesk(config)
    staff = HandoffStaff(config)
    chat = StaffChat(staff)
    requests = Command(chat.requests, staff=True, description=N_REQUESTS)

    def claim(turn: Turn) -> Answer | None:
        """The staff member holding a conversation from their own chat first, then the person."""
        held = chat.claim(turn)
        return held if held is not None else desk.claim(turn)

    ask = Command(desk.ask, description=N_ASK)
    end = Command(desk.end)
    return Feature(
        name=FLOW,
        commands={
            **dict.fromkeys(ASK_COMMANDS, ask),
            **dict.fromkeys(END_COMMANDS, end),
            **dict.fromkeys(REQUESTS_COMMANDS, requests),
            "chiudi": Command(chat.close, staff=True, description=N_CLOSE),
            "risposte": Command(staff.canned_list, staff=True, description=N_CANNED),
            "handoff_report": Command(staff.report, staff=True, description=N_REPORT),
        },
        buttons={
            "handoff": lambda turn, _args: desk.ask(turn),
            "ho_notice": lambda turn, _args: desk.notice(turn),
            "ho_write": lambda turn, _args: desk.write(turn),
            "ho_score": desk.on_score,
            "ho_nocomment": desk.on_no_comment,
            f"cancel_{FLOW}": desk.cancel,
            "ho_take": staff.on_take,
            "ho_offer": staff.on_offer,
            "ho_canned": staff.on_canned,
            "ho_hold": chat.take,
        },
        flow=desk.on_text,
        text=desk.text,
        reminders={FALLBACK: fallback},
        forget=desk.forget,
        staff_group=staff.on_group_message,
        claim=claim,
    )


def fallback(due: Due) -> Outbound | None:
    """Nobody took the request in time: the person is told, with a callback offer."""
    handoff = store.by_key(due.session, due.reminder.ref)
    if handoff is None or handoff.state != store.WAITING:
        return None
    callback = due.signer.pack("callback")
    return Reply(
        text(
            _(
                "Mi dispiace, in questo momento nessuno dello staff è libero. La tua domanda "
                "resta allo staff e ti risponderanno qui appena possibile; se preferisci, "
                "fissa una richiamata."
            )
        ),
        rows(Button(_("📞 Fissa una richiamata"), callback)),
    )
