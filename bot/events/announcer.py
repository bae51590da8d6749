"""The events' periodic job: due announcements and broadcasts go to their subscribers.

Each step queues one batch of subscribers in one transaction and moves the event's cursor
(the last user id reached), so a restart continues where it stopped and queues no one twice;
the recipients are read when the announcement is due, so people who subscribed after staff
scheduled it get it too. When everything queued is out, staff get the final report.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.delivery import outbox
from bot.events import costs
from bot.events.announcement import announcement, signed
from bot.events.broadcaster import broadcast_message
from bot.events.config import EventsConfig
from bot.events.overview import sent_line
from bot.events.reminders import EventReminders
from bot.events.store import ANNOUNCED, SCHEDULED, address_of
from bot.events.subscriptions import subscribers
from bot.storage.db import Database
from bot.storage.models import Broadcast, Event, User
from bot.values.i18n import _, use_locale
from bot.values.markup import bold, join, shorten
from bot.values.messages import Address, Delivery, Reply
from bot.values.payload import Signer

BATCH = 100  # subscribers per transaction: short write locks, replies go in between


def staff_address(staff_chat: str) -> Address:
    """Where a staff member asked from: "telegram:4242"."""
    channel, _sep, chat_id = staff_chat.partition(":")
    return Address(channel, chat_id)


class Announcer:
    def __init__(
        self,
        database: Database,
        settings: Settings,
        signer: Signer,
        config: EventsConfig,
        clock: Callable[[], datetime],
    ) -> None:
        self.database = database
        self.settings = settings
        self.signer = signer
        self.config = config
        self.reminders = EventReminders(config)
        self.clock = clock

    async def run(self) -> int:
        """Queues what is due, batch after batch; returns how many messages were queued."""
        queued = 0
        while (moved := await asyncio.to_thread(self._step)) is not None:
            queued += moved
        await asyncio.to_thread(self._report)
        return queued

    def _step(self) -> int | None:
        now = self.clock()
        with self.database.transaction() as session:
            due_event = or_(
                and_(Event.status == SCHEDULED, Event.announce_at <= now),
                and_(Event.status == ANNOUNCED, Event.announced_at.is_(None)),
            )
            event = session.scalars(
                select(Event)
                .where(due_event)
                .order_by(Event.id)
                .limit(1)
                .with_for_update(skip_locked=True)
            ).first()
            if event is not None:
                return self._announce(session, event, now)
            broadcast = session.scalars(
                select(Broadcast)
                .where(Broadcast.queued_at.is_(None))
                .order_by(Broadcast.id)
                .limit(1)
                .with_for_update(skip_locked=True)
            ).first()
            return self._broadcast(session, broadcast, now) if broadcast is not None else None

    def _recipients(
        self, session: Session, territories: list[str], interests: list[str], after: int
    ) -> tuple[list[User], int | None]:
        chosen, last = subscribers(session, territories, interests, after, BATCH)
        users = session.scalars(select(User).where(User.id.in_(chosen)).order_by(User.id)).all()
        return list(users), last

    def _announce(self, session: Session, event: Event, now: datetime) -> int:
        event.status = ANNOUNCED
        if event.starts_at <= now:  # due while the bot was down, and too late now
            event.announced_at = now
            return 0
        users, last = self._recipients(
            session, event.territories, event.interests, event.announced_up_to
        )
        button = signed(self.signer)
        for user in users:
            with use_locale(user.locale, self.settings.zone):
                message = announcement(event, self.config, button)
            key = f"event:{event.id}:announce:{user.id}"
            batch = f"event:{event.id}"
            delivery = Delivery(address_of(user), message, key, kind="announcement", batch=batch)
            if outbox.enqueue(session, delivery, now):
                self.reminders.schedule_targeted(session, event, user.id, now)
        if last is None:
            event.announced_at = now
        else:
            event.announced_up_to = last
        return len(users)

    def _broadcast(self, session: Session, broadcast: Broadcast, now: datetime) -> int:
        users, last = self._recipients(
            session, broadcast.territories, broadcast.interests, broadcast.sent_up_to
        )
        for user in users:
            with use_locale(user.locale, self.settings.zone):
                title = broadcast.text.strip().splitlines()[0] if broadcast.text.strip() else "-"
                message = Reply(broadcast_message(broadcast.text), fields=(("title", title),))
            key = f"broadcast:{broadcast.id}:{user.id}"
            delivery = Delivery(
                address_of(user), message, key, kind="broadcast", batch=f"broadcast:{broadcast.id}"
            )
            outbox.enqueue(session, delivery, now)
        if last is None:
            broadcast.queued_at = now
        else:
            broadcast.sent_up_to = last
        return len(users)

    # The final report ---------------------------------------------------------------------

    def _report(self) -> None:
        now = self.clock()
        with self.database.transaction() as session:
            events = session.scalars(
                select(Event).where(
                    Event.status == ANNOUNCED,
                    Event.announced_at.is_not(None),
                    Event.reported_at.is_(None),
                )
            ).all()
            for event in events:
                self._report_one(session, event, f"event:{event.id}", event.title, now)
            broadcasts = session.scalars(
                select(Broadcast).where(
                    Broadcast.queued_at.is_not(None), Broadcast.reported_at.is_(None)
                )
            ).all()
            for broadcast in broadcasts:
                title = shorten(broadcast.text.splitlines()[0], 60)
                self._report_one(session, broadcast, f"broadcast:{broadcast.id}", title, now)

    def _report_one(
        self, session: Session, item: Event | Broadcast, batch: str, title: str, now: datetime
    ) -> None:
        done = outbox.progress(session, batch)
        if done.waiting:
            return
        item.reported_at = now
        with use_locale(self.settings.default_locale, self.settings.zone):
            if done.total == 0:
                line = _("Nessun iscritto corrisponde: non ho inviato niente.")
            else:
                line = sent_line(done) + "."
            kind = "announcement" if isinstance(item, Event) else "broadcast"
            on_whatsapp = costs.report(session, self.settings, batch, kind)
            head = bold(_("📊 Invio finito: «{title}»").format(title=title))
            text = join([head, line, *filter(None, [on_whatsapp])])
        key = f"{batch}:report"
        outbox.enqueue(session, Delivery(staff_address(item.staff_chat), Reply(text), key), now)
