"""Staff: /staff lists what staff can do; everyone else is politely refused (see routing)."""

from __future__ import annotations

from collections.abc import Iterable

from bot.core.commands import localised
from bot.core.menu import N_STAFF
from bot.core.turn import Command, Feature, Turn
from bot.values.i18n import _, current_locale
from bot.values.markup import bold, join
from bot.values.messages import Answer, say


def feature(others: Iterable[Feature]) -> Feature:
    """The staff feature; its /staff lists the staff commands of every feature."""
    others = tuple(others)

    def list_commands(turn: Turn) -> Answer:
        commands = {
            name: command
            for feature in (*others, staff)
            for name, command in feature.commands.items()
            if command.staff
        }
        locale = current_locale()
        lines = [
            f"/{localised(name, locale)}: {_(command.description)}"
            for name, command in sorted(commands.items())
        ]
        return say(join([bold(_("Comandi per lo staff")), *lines]))

    staff = Feature(
        name="staff",
        commands={"staff": Command(list_commands, staff=True, description=N_STAFF)},
    )
    return staff
