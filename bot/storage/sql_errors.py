"""Database errors told without the values they quote (a user's message, their phone).

SQLAlchemy's engines hide the statement's parameters (`hide_parameters=True`), but the
driver's own message can quote them too: PostgreSQL's "Failing row contains (...)". Logs and
staff alerts get the error's kind, its SQLSTATE and the statement, never the values.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterator

from sqlalchemy.exc import DBAPIError, StatementError


def quiet_message(error: BaseException) -> str:
    """The error's text, or for a database error its kind and statement only."""
    if isinstance(error, DBAPIError):
        orig = error.orig
        state = getattr(getattr(orig, "diag", None), "sqlstate", None) or getattr(
            orig, "sqlite_errorname", ""
        )
        statement = " ".join(str(error.statement or "").split())[:300]
        return f"({type(orig).__name__} {state}) [SQL: {statement}]".replace(" )", ")")
    if isinstance(error, StatementError) or _from_driver(error):
        return "(values hidden)"
    return str(error)


def _from_driver(error: BaseException) -> bool:
    module = type(error).__module__
    return module.startswith(("psycopg", "sqlite3"))


def _chain(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or (
            None if current.__suppress_context__ else current.__context__
        )


def quiet_traceback(error: BaseException) -> str:
    """A traceback of the whole chain, each database error told by `quiet_message`."""
    parts = []
    for link in reversed(list(_chain(error))):
        frames = "".join(traceback.format_tb(link.__traceback__))
        name = f"{type(link).__module__}.{type(link).__qualname__}"
        parts.append(f"Traceback (most recent call last):\n{frames}{name}: {quiet_message(link)}")
    return "\n\nThe above exception led to the following one:\n\n".join(parts)


class HideStatementValues(logging.Filter):
    """For a log handler: a record whose exception involves the database is formatted with
    `quiet_traceback`."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if error is not None and any(
            isinstance(link, StatementError) or _from_driver(link) for link in _chain(error)
        ):
            record.exc_text = quiet_traceback(error)
        return True


def hide_statement_values(logger: logging.Logger | None = None) -> None:
    """Installs the filter on every handler of `logger` (the root logger by default)."""
    for handler in (logger or logging.getLogger()).handlers:
        handler.addFilter(HideStatementValues())
