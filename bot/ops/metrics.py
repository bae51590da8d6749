"""What Sportello counts, for /metrics (Prometheus format); any layer may count.

Each function is one line to call where the thing happens; none of them touches personal
data (labels are channels, kinds and outcomes, never users or texts).
"""

from __future__ import annotations

from collections.abc import Mapping

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
)

REGISTRY = CollectorRegistry(auto_describe=True)
ProcessCollector(registry=REGISTRY)  # memory, CPU, open files
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

UPDATES = Counter(
    "sportello_updates",
    "Updates handled, per channel and kind (text, button, command, contact, ...)",
    ["channel", "kind"],
    registry=REGISTRY,
)
REPLY_SECONDS = Histogram(
    "sportello_reply_seconds",
    "Time from an update's arrival to the desk's answer being ready",
    ["channel"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    registry=REGISTRY,
)
FAQ = Counter(
    "sportello_faq_questions",
    "FAQ questions, per outcome (answered, offered, unknown)",
    ["outcome"],
    registry=REGISTRY,
)
OUTBOX_ROWS = Gauge(
    "sportello_outbox_rows",
    "Outbox rows per state, read from the database at each scrape",
    ["state"],
    registry=REGISTRY,
)
SENDS = Counter(
    "sportello_sends",
    "Outbox send attempts, per channel and result (sent, 429, failed, blocked, ...)",
    ["channel", "result"],
    registry=REGISTRY,
)
WHATSAPP_INBOX_LAG = Gauge(
    "sportello_whatsapp_inbox_lag_seconds",
    "Age of the oldest WhatsApp notification stored but not yet handled",
    registry=REGISTRY,
)
BOOKINGS = Counter(
    "sportello_bookings",
    "Callback bookings, per event (booked, moved, cancelled, ...)",
    ["event"],
    registry=REGISTRY,
)
SURVEYS = Counter(
    "sportello_survey_completions", "Survey questionnaires completed", registry=REGISTRY
)
KNOWN_OUTBOX_STATES: set[str] = set()
HANDOFFS = Counter(
    "sportello_handoffs",
    "Conversations handed to staff, per event (asked, taken, closed, ...)",
    ["event"],
    registry=REGISTRY,
)


def update_handled(channel: str, kind: str) -> None:
    UPDATES.labels(channel, kind).inc()


def reply_took(channel: str, seconds: float) -> None:
    REPLY_SECONDS.labels(channel).observe(seconds)


def faq_outcome(outcome: str) -> None:
    """`answered`, `offered` (suggestions shown) or `unknown`."""
    FAQ.labels(outcome).inc()


def outbox_rows(counts: Mapping[str, int]) -> None:
    """Every state's count at once: a state with no rows left reads 0, not its last value."""
    for state in {*counts, *KNOWN_OUTBOX_STATES}:
        OUTBOX_ROWS.labels(state).set(counts.get(state, 0))
    KNOWN_OUTBOX_STATES.update(counts)


def send_result(channel: str, result: str) -> None:
    """`sent`, `429`, `failed`, `blocked`, `uncertain`, `skipped`, `retry`."""
    SENDS.labels(channel, result).inc()


def whatsapp_inbox_lag(seconds: float) -> None:
    WHATSAPP_INBOX_LAG.set(seconds)


def booking(event: str) -> None:
    BOOKINGS.labels(event).inc()


def survey_completed() -> None:
    SURVEYS.inc()


def handoff(event: str) -> None:
    HANDOFFS.labels(event).inc()


def exposition() -> bytes:
    """The text a Prometheus scrape reads."""
    return generate_latest(REGISTRY)
