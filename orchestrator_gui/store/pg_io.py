"""PostgreSQL plumbing of the shared store: names without secrets, errors, and an SQLite-style adapter.

The adapter lets the store's read side (:mod:`.recovery`: load, replay,
history, id lookup) run unchanged on PostgreSQL: the shared database has the
same ``journal`` and ``snapshot`` tables (``pg_schema/0001_graph.sql``), and
only the placeholder style differs (``?`` versus ``%s``).
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg_pool import PoolTimeout

#: LISTEN/NOTIFY channel of committed journal records; payload ``"<seq> <machine> <process>"``.
CHANNEL = "orchestrator_graph"
#: Advisory transaction lock key serialising journal seq assignment ("orchgraf" in ASCII).
GRAPH_LOCK = 0x6F72636867726166
#: Errors that mean "the database cannot be reached now" (as opposed to a refused statement).
UNREACHABLE = (psycopg.OperationalError, psycopg.InterfaceError, PoolTimeout)


def describe(conninfo: str) -> str:
    """A name for the database at ``conninfo`` that never holds a password: ``postgresql://host:port/db``.

    Parameters
    ----------
    conninfo : str
        A libpq URI or ``key=value`` string.
    """
    try:
        params = psycopg.conninfo.conninfo_to_dict(conninfo)
    except psycopg.ProgrammingError:
        return "postgresql://(unparsable connection string)"
    host = str(params.get("host") or params.get("hostaddr") or "localhost")
    port = str(params.get("port") or "5432")
    return f"postgresql://{host}:{port}/{params.get('dbname') or params.get('user') or ''}"


def first_line(exc: BaseException) -> str:
    """The first line of ``exc``'s message (libpq's messages never hold the password)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class SqliteLike:
    """A psycopg connection seen through the sqlite3 calls :mod:`.recovery` makes.

    Parameters
    ----------
    conn : psycopg.Connection
        In autocommit mode (``BEGIN``/``COMMIT`` are sent as statements, as with sqlite3).
    """

    def __init__(self, conn: psycopg.Connection) -> None:
        self.conn = conn

    def execute(self, sql: str, params: tuple | list = ()) -> Any:
        """Run ``sql`` (``?`` placeholders) and return the cursor."""
        if sql.strip().upper() == "BEGIN":
            # One consistent view of snapshot and journal, as a read transaction in SQLite gives.
            sql = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
        return self.conn.execute(sql.replace("?", "%s"), params)  # type: ignore[arg-type]


__all__ = ["CHANNEL", "GRAPH_LOCK", "UNREACHABLE", "SqliteLike", "describe", "first_line"]
