"""Staff: /staff lists what staff can do; everyone else is politely refused (see routing)."""

from __future__ import annotations

from collections.abc import Iterable

from bot.i18n import N_, _
from bot.markup import bold, join
from bot.messages import Answer, say
from bot.turn import Command, Feature, Turn

N_STAFF = N_("elenca i comandi riservati allo staff")


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
        lines = [f"/{name}: {_(command.description)}" for name, command in sorted(commands.items())]
        return say(join([bold(_("Comandi per lo staff")), *lines]))

    staff = Feature(
        name="staff",
        commands={"staff": Command(list_commands, staff=True, description=N_STAFF)},
    )
    return staff
