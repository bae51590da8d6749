"""What staff see of a request in their group: the card that opens its thread, and each
message relayed into it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.basics import privacy
from bot.config import Settings
from bot.handoff import store
from bot.storage.models import Booking, FaqQuestion, Handoff, SurveyResponse, User
from bot.values.i18n import LANGUAGE_NAMES, N_, _, format_time, use_locale
from bot.values.markup import Rich, bold, italic, join, text
from bot.values.messages import (
    Address,
    Button,
    Delivery,
    Document,
    Image,
    Media,
    Outbound,
    Reply,
    Thread,
)
from bot.values.payload import Signer

CHANNEL_NAMES = {"telegram": "Telegram", "whatsapp": "WhatsApp", "console": "Console"}
LAST_FAQ = 3


def staff_address(settings: Settings) -> Address:
    return Address("telegram", str(settings.staff_chat_id))


def told_on_whatsapp(settings: Settings, handoff: Handoff, user: User) -> tuple[Delivery, ...]:
    """Staff on WhatsApp have no group: each is told of a new request, to take it from their
    own chat with Sportello."""
    channel = CHANNEL_NAMES.get(user.channel, user.channel)
    with use_locale(settings.default_locale, settings.zone):
        note = _(
            "🙋 {name} ({channel}) chiede di parlare con una persona: «{question}». "
            "/conversazioni per rispondere."
        ).format(name=user.name or "?", channel=channel, question=handoff.question[:200])
    return tuple(
        Delivery(Address("whatsapp", staff), Reply(text(note)), key=f"{store.key(handoff)}:{staff}")
        for staff in sorted(settings.staff_whatsapp_ids)
    )


def thread_of(handoff: Handoff, user: User) -> Thread:
    """The request's thread: its topic is named after the person, channel and language."""
    channel = CHANNEL_NAMES.get(user.channel, user.channel)
    title = f"{user.name or '?'} · {channel} · {user.locale.upper()}"
    return Thread(store.key(handoff), title)


def card(session: Session, settings: Settings, signer: Signer, handoff: Handoff) -> Reply:
    """The request as staff see it (in the group's language), with who holds it and what
    they may press."""
    user = session.get(User, handoff.user_id)
    assert user is not None
    with use_locale(settings.default_locale, settings.zone):
        return _card(session, signer, handoff, user)


def _card(session: Session, signer: Signer, handoff: Handoff, user: User) -> Reply:
    lines: list[Rich | str] = [bold(_("🙋 Richiesta di parlare con una persona")), *_who(user)]
    if handoff.out_of_hours:
        lines.append(italic(_("Arrivata fuori orario: da leggere alla riapertura.")))
    lines += [_("Domanda: {text}").format(text=handoff.question), *_context(session, user)]
    if handoff.holder_name:
        lines.append(bold(_("🙋 Risponde {name}").format(name=handoff.holder_name)))
    if handoff.state == store.CLOSED:
        lines.append(italic(_("Conversazione chiusa.")))
    return Reply(join(lines), _buttons(signer, handoff), thread=thread_of(handoff, user))


def _who(user: User) -> list[Rich | str]:
    channel = CHANNEL_NAMES.get(user.channel, user.channel)
    language = LANGUAGE_NAMES.get(user.locale, user.locale)
    return [
        _("Persona: {name}").format(name=user.name or "?"),
        _("Canale: {channel} · Lingua: {language}").format(channel=channel, language=language),
    ]


def _context(session: Session, user: User) -> list[Rich | str]:
    """What staff may know already: the last FAQ questions, bookings and the survey (only
    with consent)."""
    asked = session.scalars(
        select(FaqQuestion.text)
        .where(FaqQuestion.user_id == user.id)
        .order_by(FaqQuestion.asked_at.desc())
        .limit(LAST_FAQ)
    ).all()
    lines: list[Rich | str] = []
    if asked:
        lines.append(_("Ultime domande alle FAQ: {list}").format(list=" · ".join(asked)))
    if privacy.current_consent(session, user.id) is None:
        return lines
    bookings = session.scalar(
        select(func.count()).select_from(Booking).where(Booking.user_id == user.id)
    )
    survey = session.scalars(
        select(SurveyResponse.status).where(SurveyResponse.user_id == user.id)
    ).first()
    lines.append(_("Richiamate prenotate: {count}").format(count=bookings or 0))
    lines.append(
        _("Questionario: {state}").format(state=_(SURVEY_STATES.get(survey or "", N_NONE)))
    )
    return lines


N_NONE = N_("non compilato")
SURVEY_STATES = {"partial": N_("iniziato"), "completed": N_("completato")}


def _buttons(signer: Signer, handoff: Handoff) -> tuple[tuple[Button, ...], ...]:
    if handoff.state == store.CLOSED:
        return ()
    offer = Button(_("📞 Proponi richiamata"), signer.pack("ho_offer", handoff.id))
    if handoff.state == store.HELD:
        return ((offer,),)
    take = Button(_("🙋 Rispondo io"), signer.pack("ho_take", handoff.id))
    return ((take, offer),)


def person_line(name: str, now: datetime) -> str:
    return f"🕑 {format_time(now)} · {name or '?'}"


def relay_message(
    header: str, body: str, media: Media | None, thread: Thread | None = None
) -> Outbound:
    """One relayed message (in a request's thread, for staff): the header says who and when."""
    caption = join([bold(header), text(body)]) if body else bold(header)
    if media is None:
        return Reply(caption, thread=thread)
    if media.kind == "photo":
        return Image(media.filename, media.content, caption, thread)
    return Document(media.filename, media.content, media.mime_type, caption, thread)
