"""Events and seminars, assembled: the subscriber's feature and the staff's."""

from __future__ import annotations

from bot.core.turn import Command, Feature
from bot.events.config import EventsConfig
from bot.events.desk import FLOW, EventsDesk
from bot.events.manage import EventsManager
from bot.events.manage import buttons as manage_buttons
from bot.events.manage import commands as manage_commands
from bot.events.staff import FLOW as STAFF_FLOW
from bot.events.staff import StaffEvents, staff_buttons
from bot.events.staff import commands as staff_commands
from bot.events.subscriptions import Subscriptions
from bot.values.i18n import N_

N_SUBSCRIBE = N_("ricevi gli avvisi di eventi e seminari")


def features(config: EventsConfig) -> tuple[Feature, Feature]:
    desk = EventsDesk(config)
    subscriptions = Subscriptions(config)
    manager = EventsManager(config, desk)
    staff = StaffEvents(config, manager)
    subscriber = Feature(
        name=FLOW,
        commands={
            "iscriviti": Command(subscriptions.open),
            "disiscriviti": Command(subscriptions.stop),
            "eventi": Command(desk.upcoming_list),
        },
        buttons={
            "events": desk.hub,
            "ev_list": lambda turn, _args: desk.upcoming_list(turn),
            "ev_rsvp": desk.on_rsvp,
            "ev_fb": desk.on_score,
            "ev_fbno": desk.on_no_comment,
            f"cancel_{FLOW}": desk.on_no_comment,  # /annulla during the comment
            "sub_open": lambda turn, _args: subscriptions.open(turn),
            "sub_t": subscriptions.on_territory,
            "sub_i": subscriptions.on_interest,
            "sub_next": subscriptions.on_next,
            "sub_back": subscriptions.on_back,
            "sub_done": subscriptions.on_done,
        },
        flow=desk.on_text,
        reminders=desk.renderers(),
        forget=desk.forget,
    )
    staff_side = Feature(
        name=STAFF_FLOW,
        commands={**staff_commands(staff), **manage_commands(manager)},
        buttons={
            **staff_buttons(staff),
            **manage_buttons(manager),
            f"cancel_{STAFF_FLOW}": staff.on_quit,  # /annulla
        },
        flow=staff.on_text,
    )
    return subscriber, staff_side
