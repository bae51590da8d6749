"""Start-up waits for what it needs (the database, the Bot API): backoff, one line per try."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    RetryError,
    Retrying,
    retry_if_exception_type,
    stop_after_delay,
    wait_exponential,
)

log = logging.getLogger(__name__)
T = TypeVar("T")
Errors = tuple[type[BaseException], ...]
MAX_WAIT = 30.0  # seconds between two tries, at most


class Unreachable(Exception):
    """Still unreachable when the start-up's patience ran out; the message says what."""


def reason(error: BaseException | None) -> str:
    """The first line of the error's own words (SQLAlchemy wraps the driver's)."""
    original = getattr(error, "orig", None) or error
    first = str(original).strip().splitlines()[0] if str(original).strip() else ""
    return f"{type(original).__name__}: {first}" if first else type(original).__name__


def _policy(what: str, errors: Errors, seconds: float) -> dict[str, object]:
    def before_sleep(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0
        log.warning(
            "start-up: cannot reach %s (%s); try %d failed, next in %.0f s",
            what,
            reason(error),
            state.attempt_number,
            wait,
        )

    return {
        "retry": retry_if_exception_type(errors),
        "wait": wait_exponential(multiplier=1, max=MAX_WAIT),
        "stop": stop_after_delay(seconds),
        "before_sleep": before_sleep,
    }


def _gave_up(what: str, seconds: float, failure: RetryError) -> Unreachable:
    error = failure.last_attempt.exception()
    return Unreachable(f"cannot reach {what}, tried for {seconds:g} s ({reason(error)})")


def patiently(what: str, action: Callable[[], T], errors: Errors, seconds: float) -> T:
    """Runs `action`, trying again with backoff on `errors` for up to `seconds`."""
    try:
        return Retrying(**_policy(what, errors, seconds))(action)  # type: ignore[arg-type]
    except RetryError as failure:
        raise _gave_up(what, seconds, failure) from None


async def patiently_async(
    what: str, action: Callable[[], Awaitable[T]], errors: Errors, seconds: float
) -> T:
    """`patiently`, for a coroutine."""
    try:
        return await AsyncRetrying(**_policy(what, errors, seconds))(action)  # type: ignore[arg-type]
    except RetryError as failure:
        raise _gave_up(what, seconds, failure) from None
