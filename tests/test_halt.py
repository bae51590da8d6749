"""The shared pause: which calls may start, and how errors and answers change it."""

from __future__ import annotations

import pytest

from bot.delivery.halt import Admission, Halt, admit, answered, failed, throttled

NOW = 1000.0
FIRST, MOST = 5.0, 120.0
OUTAGE = Halt(paused_until=NOW - 1, outage_since=900.0, backoff=10.0)


@pytest.mark.parametrize(
    ("halt", "wanted", "expected"),
    [
        (Halt(), 4, Admission(4, False, Halt())),  # nothing holds: all go
        (Halt(paused_until=NOW + 2), 4, Admission(0, False, Halt(paused_until=NOW + 2))),
        # the outage's pause is over: one probe alone, the others wait another pause
        (OUTAGE, 4, Admission(1, True, Halt(NOW + 10.0, 900.0, 10.0))),
        (Halt(NOW + 3, 900.0, 10.0), 4, Admission(0, False, Halt(NOW + 3, 900.0, 10.0))),
    ],
)
def test_admit(halt: Halt, wanted: int, expected: Admission) -> None:
    assert admit(halt, NOW, wanted) == expected


@pytest.mark.parametrize(
    ("halt", "probe", "expected"),
    [
        (Halt(), False, Halt(NOW + FIRST, NOW, FIRST)),  # an outage starts
        (OUTAGE, True, Halt(NOW + 20.0, 900.0, 20.0)),  # the probe failed: twice as long
        (Halt(NOW, 900.0, 100.0), True, Halt(NOW + MOST, 900.0, MOST)),  # up to the most
        (OUTAGE, False, OUTAGE),  # a call started before the outage: nothing more
    ],
)
def test_failed(halt: Halt, probe: bool, expected: Halt) -> None:
    assert failed(halt, NOW, probe, FIRST, MOST) == expected


@pytest.mark.parametrize(
    ("halt", "probe", "expected"),
    [
        (OUTAGE, True, Halt(NOW - 1, None, 0.0)),  # the probe got through: resumed
        (Halt(NOW + 10, 900.0, 10.0), True, Halt(NOW, None, 0.0)),
        (OUTAGE, False, OUTAGE),  # only the probe's answer ends an outage
        (Halt(), True, Halt()),
    ],
)
def test_answered(halt: Halt, probe: bool, expected: Halt) -> None:
    assert answered(halt, NOW, probe) == expected


@pytest.mark.parametrize(
    ("halt", "probe", "expected"),
    [
        (Halt(), False, Halt(NOW + 3)),
        (Halt(NOW + 9), False, Halt(NOW + 9)),  # a longer pause stays
        (OUTAGE, True, Halt(NOW + 3)),  # a 429 is an answer: the outage is over
    ],
)
def test_throttled(halt: Halt, probe: bool, expected: Halt) -> None:
    assert throttled(halt, NOW + 3, probe) == expected
