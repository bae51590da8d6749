"""Picks the handler for an inbound value: command, button, running flow, free text, or other."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from bot.core import replies
from bot.core.commands import canonical
from bot.core.turn import ButtonHandler, Command, Feature, Handler, Stale, Turn
from bot.values.messages import Answer, Kind
from bot.values.payload import BadPayload

TextHandler = Callable[[Turn], Answer | None]


class Router:
    def __init__(self, features: Iterable[Feature]) -> None:
        features = tuple(features)
        self.commands: dict[str, Command] = {}
        self.buttons: dict[str, ButtonHandler] = {}
        self.flows: dict[str, Handler] = {}
        self.text_handlers: list[TextHandler] = []
        self.forgetters: list[Handler] = []
        self.greeters: list[Handler] = []
        self.staff_group_handlers: list[TextHandler] = []
        self.claims: list[TextHandler] = []
        for feature in features:
            self._add(feature)

    def _add(self, feature: Feature) -> None:
        clash = (self.commands.keys() & feature.commands.keys()) | (
            self.buttons.keys() & feature.buttons.keys()
        )
        if clash:
            raise ValueError(f"feature {feature.name} redefines {sorted(clash)}")
        self.commands.update(feature.commands)
        self.buttons.update(feature.buttons)
        if feature.flow:
            self.flows[feature.name] = feature.flow
        if feature.text:
            self.text_handlers.append(feature.text)
        if feature.forget:
            self.forgetters.append(feature.forget)
        if feature.greet:
            self.greeters.append(feature.greet)
        if feature.staff_group:
            self.staff_group_handlers.append(feature.staff_group)
        if feature.claim:
            self.claims.append(feature.claim)

    def route(self, turn: Turn) -> Answer:
        inbound = turn.inbound
        if inbound.in_group and not self._is_staff_chat(turn):
            return self._group(turn)
        if not inbound.in_group and inbound.kind is not Kind.BUTTON:
            claimed = _first(self.claims, turn)
            if claimed is not None:
                return claimed
        if inbound.kind is Kind.COMMAND:
            return self._command(turn)
        if inbound.kind is Kind.BUTTON:
            if inbound.in_group and not turn.is_staff:
                return replies.staff_only(turn)  # the staff group's cards are for staff
            return self._button(turn)
        if inbound.in_group:
            return self._staff_group(turn)
        flow = self.flows.get(turn.conversation.flow or "")
        if flow and inbound.kind in (Kind.TEXT, Kind.CONTACT):
            return flow(turn)
        if inbound.kind is Kind.TEXT:
            return self._text(turn)
        return replies.unsupported(turn)

    def press(self, turn: Turn, action: str, *args: str) -> Answer:
        """Runs a button's handler directly (e.g. to continue after consent)."""
        handler = self.buttons.get(action)
        if handler is None:
            return replies.stale_button(turn)
        try:
            return handler(turn, args)
        except Stale:
            return replies.stale_button(turn)

    def forget(self, turn: Turn) -> Answer:
        """Lets every feature act before the user's data is erased."""
        answer = Answer()
        for forget in self.forgetters:
            answer += forget(turn)
        return answer

    def greet(self, turn: Turn) -> Answer:
        """What each feature has waiting for a person who comes back (after /start)."""
        answer = Answer()
        for greet in self.greeters:
            answer += greet(turn)
        return answer

    def staff_commands(self) -> dict[str, Command]:
        return {name: command for name, command in self.commands.items() if command.staff}

    def _command(self, turn: Turn) -> Answer:
        command = self.commands.get(canonical(turn.inbound.command))
        if command is None:
            return replies.unknown_command(turn)
        if command.staff and not turn.is_staff:
            return replies.staff_only(turn)
        if not command.staff and turn.inbound.in_group:
            return replies.private_only(turn)
        return command.handler(turn)

    def _button(self, turn: Turn) -> Answer:
        try:
            pressed = turn.signer.unpack(turn.inbound.payload)
        except BadPayload:
            return replies.stale_button(turn)
        return self.press(turn, pressed.action, *pressed.args)

    def _text(self, turn: Turn) -> Answer:
        if not turn.inbound.text.strip():
            return replies.empty_text(turn)
        answer = _first(self.text_handlers, turn)
        return answer if answer is not None else replies.not_understood(turn)

    def _staff_group(self, turn: Turn) -> Answer:
        """What staff write in their group: a feature may take it (e.g. to relay it);
        anyone else in the group is never relayed."""
        if not turn.is_staff:
            return Answer()
        answer = _first(self.staff_group_handlers, turn)
        return answer if answer is not None else Answer()  # staff talk among themselves

    def _group(self, turn: Turn) -> Answer:
        if turn.inbound.kind is Kind.COMMAND:
            return replies.private_only(turn)
        return Answer()

    @staticmethod
    def _is_staff_chat(turn: Turn) -> bool:
        staff_chat = turn.settings.staff_chat_id
        return staff_chat is not None and turn.inbound.chat_id == str(staff_chat)


def _first(handlers: Iterable[TextHandler], turn: Turn) -> Answer | None:
    """The answer of the first handler that takes the turn."""
    for handler in handlers:
        answer = handler(turn)
        if answer is not None:
            return answer
    return None
