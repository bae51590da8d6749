"""What a broadcast or an announcement costs on WhatsApp, before and after sending.

Since July 2025 Meta charges each delivered template message by its category (marketing,
utility) and the recipient's country; a free-form message inside the 24-hour window (the user
wrote in the last 24 hours) is free, and outside it a user with no approved template in their
language is skipped. The price table and the template categories are in `flows/whatsapp.yaml`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config import ConfigError
from bot.storage.models import OutboxMessage, User, WhatsAppContact, WhatsAppSent

WINDOW = timedelta(hours=24)
CHUNK = 500  # user ids per query
OTHER = "other"  # the price table's row for countries it does not list


@dataclass(frozen=True)
class Prices:
    """Meta's price per delivered template, by country and category, as staff copied it."""

    date: str = ""
    source: str = ""
    currency: str = "EUR"
    examples: bool = True  # figures still to be checked against Meta's rate card
    rates: Mapping[str, Mapping[str, Decimal]] = field(default_factory=dict)
    prefixes: Mapping[str, str] = field(default_factory=dict)  # calling code -> country

    def country(self, phone: str | None, bsuid: str | None) -> str:
        """The country of a number (longest calling code first), else of a BSUID ("IT.…")."""
        if phone:
            for prefix in sorted(self.prefixes, key=len, reverse=True):
                if phone.startswith(prefix):
                    return self.prefixes[prefix]
        if bsuid and "." in bsuid:
            return bsuid.split(".")[0].upper()
        return OTHER

    def price(self, category: str, country: str) -> Decimal | None:
        row = self.rates.get(country) or self.rates.get(OTHER) or {}
        return row.get(category)


@dataclass(frozen=True)
class Plan:
    """Which message kinds have an approved template, in which languages, of which category."""

    prices: Prices = field(default_factory=Prices)
    templates: frozenset[tuple[str, str]] = frozenset()  # (kind, locale)
    categories: Mapping[str, str] = field(default_factory=dict)  # kind -> category


@dataclass
class Costs:
    """WhatsApp recipients of one sending: free, by template category, skipped; the cost."""

    free: int = 0  # inside the 24-hour window
    templates: Counter[str] = field(default_factory=Counter)  # category -> messages
    skipped: int = 0  # no approved template in their language
    cost: Decimal = Decimal(0)
    unpriced: int = 0  # templates to a country without a price

    @property
    def total(self) -> int:
        return self.free + sum(self.templates.values()) + self.skipped

    def add_template(self, prices: Prices, category: str, country: str) -> None:
        self.templates[category] += 1
        price = prices.price(category, country)
        if price is None:
            self.unpriced += 1
        else:
            self.cost += price


@cache
def load_plan(path: Path) -> Plan:
    """Reads `templates` (kinds, languages, categories) and `prices` from the file."""
    if not path.exists():
        return Plan()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        templates = data.get("templates") or {}
        return Plan(
            _prices(data.get("prices") or {}),
            frozenset(
                (str(kind), str(locale))
                for kind, per_language in templates.items()
                for locale in per_language
                if locale != "category"
            ),
            {str(k): str(v.get("category", "marketing")) for k, v in templates.items()},
        )
    except (yaml.YAMLError, AttributeError, TypeError, ValueError, ArithmeticError) as error:
        raise ConfigError(f"{path}: {error}") from None


def _prices(data: Mapping[str, Any]) -> Prices:
    rates: dict[str, dict[str, Decimal]] = {}
    prefixes: dict[str, str] = {}
    for country, row in (data.get("countries") or {}).items():
        code = str(country).upper() if country != OTHER else OTHER
        rates[code] = {k: Decimal(str(v)) for k, v in row.items() if k != "prefix"}
        if row.get("prefix"):
            prefixes[str(row["prefix"])] = code
    return Prices(
        str(data.get("date", "")),
        str(data.get("source", "")),
        str(data.get("currency", "EUR")),
        bool(data.get("examples", True)),
        rates,
        prefixes,
    )


def forecast(
    session: Session, user_ids: Iterable[int], kind: str, now: datetime, plan: Plan
) -> Costs:
    """Before sending `kind` to these users: the WhatsApp ones, free, by template, skipped."""
    costs = Costs()
    category = plan.categories.get(kind, "marketing")
    for locale, opened, phone, bsuid in _whatsapp_users(session, list(user_ids)):
        if opened is not None and now - opened < WINDOW:
            costs.free += 1
        elif (kind, locale) in plan.templates:
            costs.add_template(plan.prices, category, plan.prices.country(phone, bsuid))
        else:
            costs.skipped += 1
    return costs


def after_sending(session: Session, batch: str, kind: str, plan: Plan) -> Costs:
    """After sending a batch: WhatsApp messages sent free or as templates, and skipped."""
    costs = Costs()
    category = plan.categories.get(kind, "marketing")
    rows = session.execute(
        select(OutboxMessage.id, OutboxMessage.state, WhatsAppContact.phone, WhatsAppContact.bsuid)
        .outerjoin(WhatsAppContact, WhatsAppContact.user_id == OutboxMessage.user_id)
        .where(OutboxMessage.batch == batch, OutboxMessage.channel == "whatsapp")
    ).all()
    templated = set(
        session.scalars(
            select(WhatsAppSent.outbox_id).where(
                WhatsAppSent.outbox_id.in_([row_id for row_id, *_ in rows]),
                WhatsAppSent.template.is_(True),
            )
        )
    )
    for row_id, state, phone, bsuid in rows:
        if state == "skipped":
            costs.skipped += 1
        elif state == "sent" and row_id in templated:
            costs.add_template(plan.prices, category, plan.prices.country(phone, bsuid))
        elif state == "sent":
            costs.free += 1
    return costs


def _whatsapp_users(
    session: Session, user_ids: list[int]
) -> Iterable[tuple[str, datetime | None, str | None, str | None]]:
    contact = WhatsAppContact
    for start in range(0, len(user_ids), CHUNK):
        query = (
            select(User.locale, contact.last_inbound_at, contact.phone, contact.bsuid)
            .outerjoin(contact, contact.user_id == User.id)
            .where(User.id.in_(user_ids[start : start + CHUNK]), User.channel == "whatsapp")
        )
        yield from ((row[0], row[1], row[2], row[3]) for row in session.execute(query))
