"""When every sender of a channel must stop: a 429's pause, an outage's backoff and probe.

Pure decisions on the shared state (stored in `send_pace`, see `pace.py`): which calls may
start now, and how an error or an answer changes the state.

An outage (5xx, no connection) pauses every sender for `first` seconds. When the pause ends,
one call goes alone (the probe): if it fails the pause doubles, up to `most`; if Telegram
answers, the outage is over and sending resumes at the usual pace.
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Halt:
    """A channel's shared pause: no call starts before `paused_until` (epoch s)."""

    paused_until: float = 0.0
    outage_since: float | None = None  # when the platform stopped answering
    backoff: float = 0.0  # the outage's current pause, seconds


@dataclass(frozen=True)
class Admission:
    """How many of the calls due now may start, and the state to store."""

    count: int
    probe: bool
    halt: Halt


def admit(halt: Halt, now: float, wanted: int) -> Admission:
    """Calls may start when no pause holds; after an outage's pause, one alone (the probe),
    while the others wait another pause for its answer."""
    if halt.paused_until > now:
        return Admission(0, False, halt)
    if halt.outage_since is not None:
        return Admission(min(wanted, 1), True, replace(halt, paused_until=now + halt.backoff))
    return Admission(wanted, False, halt)


def failed(halt: Halt, now: float, probe: bool, first: float, most: float) -> Halt:
    """A call met a 5xx or no connection: an outage starts, or its probe failed (the pause
    doubles); a call that started before the outage changes nothing more."""
    if halt.outage_since is None:
        return Halt(max(halt.paused_until, now + first), now, first)
    if probe:
        backoff = min(most, max(first, halt.backoff * 2))
        return Halt(now + backoff, halt.outage_since, backoff)
    return halt


def answered(halt: Halt, now: float, probe: bool) -> Halt:
    """The platform answered the probe: the outage is over."""
    if halt.outage_since is None or not probe:
        return halt
    return Halt(min(halt.paused_until, now), None, 0.0)


def throttled(halt: Halt, until: float, probe: bool) -> Halt:
    """A 429: nobody calls before `until` (an answer all the same: a probe ends the outage)."""
    if probe:
        halt = Halt(halt.paused_until, None, 0.0)
    return replace(halt, paused_until=max(halt.paused_until, until))
