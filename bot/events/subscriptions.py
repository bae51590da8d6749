"""Subscribers: /iscriviti picks territories and interests, /disiscriviti stops everything."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from bot.basics import privacy
from bot.core import menu
from bot.core.turn import Stale, Turn
from bot.events.config import EventsConfig
from bot.events.logic import targets
from bot.storage.models import OutboxMessage, Reminder, Subscription
from bot.values.i18n import _, current_locale
from bot.values.markup import bold, join
from bot.values.messages import Answer, Button, Reply, rows, say

# Keys of the outbox rows and reminders this feature's messages use (see bot/events/).
EVENT_KEYS = ("event:%", "broadcast:%", "reminder:event:%")


def subscription(session: Session, user_id: int) -> Subscription | None:
    found = session.get(Subscription, user_id)
    return found if found is not None and found.active else None


def subscribers(
    session: Session, territories: Sequence[str], interests: Sequence[str], after: int, limit: int
) -> tuple[list[int], int | None]:
    """Targeted subscribers with ids above `after`: (user ids, last id seen or None at the end)."""
    rows_ = session.execute(
        select(Subscription.user_id, Subscription.territories, Subscription.interests)
        .where(Subscription.active.is_(True), Subscription.user_id > after)
        .order_by(Subscription.user_id)
        .limit(limit)
    ).all()
    chosen = [u for u, t, i in rows_ if targets(territories, interests, t, i)]
    return chosen, (rows_[-1][0] if len(rows_) == limit else None)


def count_subscribers(
    session: Session, territories: Sequence[str], interests: Sequence[str]
) -> int:
    return sum(1 for _user in _all_targeted(session, territories, interests))


def targeted(session: Session, territories: Sequence[str], interests: Sequence[str]) -> list[int]:
    """The user ids of every targeted subscriber."""
    return list(_all_targeted(session, territories, interests))


def _all_targeted(
    session: Session, territories: Sequence[str], interests: Sequence[str]
) -> Iterator[int]:
    after: int | None = 0
    while after is not None:
        chosen, after = subscribers(session, territories, interests, after, 1000)
        yield from chosen


def unsubscribe(session: Session, user_id: int) -> bool:
    """Stops everything at once: the subscription, pending reminders, queued announcements."""
    found = session.get(Subscription, user_id)
    if found is not None:
        session.delete(found)
    session.execute(
        update(Reminder)
        .where(
            Reminder.user_id == user_id,
            Reminder.state == "pending",
            Reminder.ref.like("event:%"),
        )
        .values(state="cancelled")
        .execution_options(synchronize_session=False)
    )
    session.execute(
        delete(OutboxMessage)
        .where(
            OutboxMessage.user_id == user_id,
            OutboxMessage.state == "queued",
            or_(*(OutboxMessage.key.like(pattern) for pattern in EVENT_KEYS)),
        )
        .execution_options(synchronize_session=False)
    )
    return found is not None and found.active


def on_blocked(session: Session, user_id: int) -> None:
    """The outbox's hook for a user who blocked the bot: no more announcements to them."""
    unsubscribe(session, user_id)


def on_marketing_stopped(session: Session, user_id: int) -> None:
    """WhatsApp's hook for a user who stopped marketing messages (131050): no more
    announcements or broadcasts; their RSVPs and reminders stay."""
    found = session.get(Subscription, user_id)
    if found is not None:
        found.active = False
    session.execute(
        delete(OutboxMessage)
        .where(
            OutboxMessage.user_id == user_id,
            OutboxMessage.state == "queued",
            OutboxMessage.kind.in_(("announcement", "broadcast")),
        )
        .execution_options(synchronize_session=False)
    )


class Subscriptions:
    """The subscription editor: territories, then interests, each a set of toggles."""

    def __init__(self, config: EventsConfig) -> None:
        self.config = config

    def open(self, turn: Turn) -> Answer:
        """/iscriviti: consent first, then the territories."""
        if not privacy.has_consent(turn):
            return privacy.ask_consent(turn, "sub_open")
        return self.territories(turn)

    def _draft(self, turn: Turn) -> Subscription:
        if not privacy.has_consent(turn):
            raise Stale
        found = turn.session.get(Subscription, turn.user.id)
        if found is None:
            found = Subscription(
                user_id=turn.user.id, territories=[], interests=[], created_at=turn.now
            )
            found.active = False
            turn.session.add(found)
        return found

    def territories(self, turn: Turn, replace: bool = True) -> Answer:
        chosen = self._draft(turn).territories
        toggles = [
            self._toggle(turn, "sub_t", c.id, c.id in chosen) for c in self.config.territories
        ]
        keyboard = (*rows(*toggles, per_row=2), (turn.button(_("Avanti ➡️"), "sub_next"),))
        body = join(
            [
                bold(_("📅 Avvisi di eventi e seminari")),
                _(
                    "Di quali territori vuoi ricevere gli eventi? Scegline uno o più, "
                    "poi premi «Avanti»."
                ),
            ]
        )
        return Answer((Reply(body, keyboard, replace),))

    def interests(self, turn: Turn, notice: str = "", replace: bool = True) -> Answer:
        chosen = self._draft(turn).interests
        toggles = [self._toggle(turn, "sub_i", c.id, c.id in chosen) for c in self.config.interests]
        keyboard = (
            *rows(*toggles),
            (turn.button(_("⬅️ Indietro"), "sub_back"), turn.button(_("✔️ Fatto"), "sub_done")),
        )
        lines = [notice] if notice else []
        lines.append(_("Quali argomenti ti interessano? Scegline uno o più, poi premi «Fatto»."))
        return Answer((Reply(join(lines), keyboard, replace),))

    def _toggle(self, turn: Turn, action: str, choice_id: str, on: bool) -> Button:
        label = self.config.label(choice_id, current_locale())
        return turn.button(("✅ " if on else "▫️ ") + label, action, choice_id)

    def on_territory(self, turn: Turn, args: tuple[str, ...]) -> Answer:
        draft = self._draft(turn)
        draft.territories = self._flip(draft.territories, args, self.config.territory_ids())
        draft.updated_at = turn.now
        return self.territories(turn)

    def on_interest(self, turn: Turn, args: tuple[str, ...]) -> Answer:
        draft = self._draft(turn)
        draft.interests = self._flip(draft.interests, args, self.config.interest_ids())
        draft.updated_at = turn.now
        return self.interests(turn)

    @staticmethod
    def _flip(chosen: list[str], args: tuple[str, ...], known: tuple[str, ...]) -> list[str]:
        choice = args[0] if args else ""
        if choice not in known:
            raise Stale
        flipped = set(chosen) ^ {choice}
        return [c for c in known if c in flipped]

    def on_next(self, turn: Turn, _args: tuple[str, ...]) -> Answer:
        if not self._draft(turn).territories:
            return Answer(notice=_("Scegli almeno un territorio."))
        return self.interests(turn)

    def on_back(self, turn: Turn, _args: tuple[str, ...]) -> Answer:
        return self.territories(turn)

    def on_done(self, turn: Turn, _args: tuple[str, ...]) -> Answer:
        draft = self._draft(turn)
        if not draft.territories:
            return self.territories(turn)
        if not draft.interests:
            return Answer(notice=_("Scegli almeno un argomento."))
        draft.active, draft.updated_at = True, turn.now
        locale = current_locale()
        summary = join(
            [
                bold(_("Fatto, sei iscritto agli avvisi di eventi e seminari.")),
                _("Territori: {names}").format(
                    names=", ".join(self.config.label(t, locale) for t in draft.territories)
                ),
                _("Argomenti: {names}").format(
                    names=", ".join(self.config.label(i, locale) for i in draft.interests)
                ),
                _("Puoi cambiare quando vuoi con /iscriviti e smettere con /disiscriviti."),
            ]
        )
        keyboard = rows(
            turn.button(_("📅 Prossimi eventi"), "ev_list"), turn.button(_("☰ Menu"), "menu")
        )
        return Answer((Reply(summary, keyboard, replace=True),))

    def stop(self, turn: Turn) -> Answer:
        """/disiscriviti: no more announcements, reminders or broadcasts, at once."""
        if not unsubscribe(turn.session, turn.user.id):
            return menu.show(turn, _("Non sei iscritto agli avvisi di eventi e seminari."))
        return say(
            _(
                "Fatto: non riceverai più avvisi di eventi e seminari, né promemoria. "
                "Se cambi idea, /iscriviti."
            ),
            buttons=rows(turn.button(_("🔔 Iscriviti di nuovo"), "sub_open")),
        )
