"""Events and seminars, assembled: the subscriber's feature and the staff's."""

from __future__ import annotations

from bot.core.turn import Command, Feature
from bot.events import attendees, feedback, overview
from bot.events.announcement import on_preview
from bot.events.attendance import Attendance
from bot.events.broadcaster import Broadcaster
from bot.events.cancellation import Cancellation
from bot.events.config import EventsConfig
from bot.events.correction import Correction
from bot.events.desk import EventsDesk
from bot.events.editor import Editor
from bot.events.guide import Guide
from bot.events.planner import Planner
from bot.events.questions import FLOW as STAFF_FLOW
from bot.events.reminders import FEEDBACK, REMIND_TARGETED, REMIND_YES, EventReminders
from bot.events.subscriptions import Subscriptions
from bot.values.i18n import N_

N_SUBSCRIBE = N_("ricevi gli avvisi di eventi e seminari")
N_LIST = N_("gli eventi: avanzamento dell'invio, risposte, modifica, annullamento, partecipanti")
N_NEW = N_("crea un evento e annuncialo agli iscritti")
N_BROADCAST = N_("manda un messaggio a una parte degli iscritti")


def features(config: EventsConfig) -> tuple[Feature, Feature]:
    desk = EventsDesk(config)
    subscriptions = Subscriptions(config)
    reminders = EventReminders(config)
    attendance = Attendance(config, reminders)
    subscriber = Feature(
        name=feedback.FLOW,
        commands={
            "iscriviti": Command(subscriptions.open),
            "disiscriviti": Command(subscriptions.stop),
            "eventi": Command(desk.upcoming_list),
        },
        buttons={
            "events": desk.hub,
            "ev_list": lambda turn, _args: desk.upcoming_list(turn),
            "ev_rsvp": attendance.on_rsvp,
            "ev_fb": feedback.on_score,
            "ev_fbno": feedback.on_no_comment,
            f"cancel_{feedback.FLOW}": feedback.on_no_comment,  # /annulla during the comment
            "sub_open": lambda turn, _args: subscriptions.open(turn),
            "sub_t": subscriptions.on_territory,
            "sub_i": subscriptions.on_interest,
            "sub_next": subscriptions.on_next,
            "sub_back": subscriptions.on_back,
            "sub_done": subscriptions.on_done,
        },
        flow=feedback.on_comment,
        reminders={
            REMIND_TARGETED: reminders.render_targeted,
            REMIND_YES: reminders.render_yes,
            FEEDBACK: feedback.render_question,
        },
        forget=attendance.forget,
    )
    return subscriber, staff_side(config, reminders, attendance)


def staff_side(config: EventsConfig, reminders: EventReminders, attendance: Attendance) -> Feature:
    planner = Planner(config)
    broadcaster = Broadcaster(config)
    editor = Editor(config, Correction(config, reminders), attendance)
    cancellation = Cancellation(config)
    guide = Guide(config, planner, broadcaster, editor)
    return Feature(
        name=STAFF_FLOW,
        commands={
            "nuovo_evento": Command(planner.new_event, staff=True, description=N_NEW),
            "broadcast": Command(broadcaster.new_broadcast, staff=True, description=N_BROADCAST),
            "eventi_staff": Command(overview.listing, staff=True, description=N_LIST),
        },
        buttons={
            # the guided conversation of /nuovo_evento and /broadcast
            "es_skip": guide.on_skip,
            "es_pick": guide.on_pick,
            "es_every": guide.on_every,
            "es_next": guide.on_next,
            "es_quit": guide.on_quit,
            f"cancel_{STAFF_FLOW}": guide.on_quit,  # /annulla
            "es_preview": on_preview,
            "es_rule": planner.on_rule,
            "es_now": planner.on_now,
            "es_later": planner.on_later,
            "es_send": broadcaster.on_send,
            # the events already made
            "es_list": overview.listing,
            "es_view": overview.view,
            "es_bview": overview.broadcast_view,
            "es_csv": attendees.export,
            "es_cancel": cancellation.ask,
            "es_cancel_yes": cancellation.cancel,
            "es_edit": editor.ask_field,
            "es_field": editor.on_field,
            "es_apply": editor.apply,
        },
        flow=guide.on_text,
    )
