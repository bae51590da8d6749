"""What sending to subscribers costs on WhatsApp: in the /broadcast and announcement previews,
and in the delivery report (see bot/delivery/whatsapp_costs.py)."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy.orm import Session

from bot.config import Settings
from bot.core.turn import Turn
from bot.delivery import whatsapp_costs
from bot.delivery.whatsapp_costs import Costs, Prices
from bot.events.subscriptions import targeted
from bot.values.i18n import _, format_number
from bot.values.markup import Rich, join


def preview(turn: Turn, kind: str, territories: list[str], interests: list[str]) -> Rich | None:
    """Before sending: the WhatsApp subscribers it reaches, free or not, and the estimate."""
    if not turn.settings.whatsapp_access_token:
        return None
    plan = whatsapp_costs.load_plan(turn.settings.whatsapp_file)
    users = targeted(turn.session, territories, interests)
    return describe(whatsapp_costs.forecast(turn.session, users, kind, turn.now, plan), plan.prices)


def report(session: Session, settings: Settings, batch: str, kind: str) -> Rich | None:
    """After sending: the same, as it went."""
    if not settings.whatsapp_access_token:
        return None
    plan = whatsapp_costs.load_plan(settings.whatsapp_file)
    return describe(whatsapp_costs.after_sending(session, batch, kind, plan), plan.prices)


def describe(costs: Costs, prices: Prices) -> Rich | None:
    if not costs.total:
        return None
    counts = _(
        "📱 WhatsApp: {free} nella finestra di 24 ore (gratis), {marketing} con modello "
        "marketing, {utility} con modello utility, {skipped} saltati (nessun modello approvato "
        "nella loro lingua, o limiti di Meta)."
    ).format(
        free=format_number(costs.free),
        marketing=format_number(costs.templates["marketing"]),
        utility=format_number(costs.templates["utility"]),
        skipped=format_number(costs.skipped),
    )
    cost = _("Costo stimato: {cost} {currency} (prezzi del {date}; fonte: {source}).").format(
        cost=format_number(costs.cost.quantize(Decimal("0.01"))),
        currency=prices.currency,
        date=prices.date,
        source=prices.source,
    )
    lines = [counts, cost]
    if costs.unpriced:
        lines.append(
            _("{n} verso paesi senza prezzo nella tabella: non contati.").format(
                n=format_number(costs.unpriced)
            )
        )
    if prices.examples:
        lines.append(_("⚠️ Prezzi d'esempio, non di Meta: aggiornali in flows/whatsapp.yaml."))
    return join(lines)
