"""Versioned PostgreSQL schema of fleet mode, migrated by ``orchestrator-gui fleet init``.

The migrations are the package's ``store/pg_schema/NNNN_name.sql`` files,
applied in number order, each in its own transaction and recorded in
``schema_migrations``; one already recorded is never run again, so
:func:`migrate` may run any number of times, from any number of machines at
once (an advisory lock makes concurrent runs take turns).

Numbering: 0001-0009 are the thought graph's (``journal``, ``snapshot``),
0010 and up the fleet engine's (claims, machines, runs).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

from orchestrator_gui.problems import FormatError

#: Advisory lock key held while migrating (any fixed 64-bit number; "orchgui" in ASCII).
MIGRATE_LOCK = 0x6F72636867756901
#: Largest migration file read.
MAX_MIGRATION_BYTES = 1 << 20
#: Most migration files accepted.
MAX_MIGRATIONS = 1000
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]{1,60})\.sql$")
_FOLDER = "pg_schema"


@dataclass(frozen=True)
class Migration:
    """One schema migration file.

    Attributes
    ----------
    version : int
        Its number (1..9999).
    name : str
        The file name.
    sql : str
        The statements.
    """

    version: int
    name: str
    sql: str


def migrations() -> list[Migration]:
    """The package's migrations, in version order.

    Raises
    ------
    FormatError
        Two files share a number, a file is too large, or there are too many.
    """
    folder = resources.files("orchestrator_gui.store").joinpath(_FOLDER)
    found: dict[int, Migration] = {}
    for entry in folder.iterdir():
        match = _NAME.match(entry.name)
        if match is None:
            continue
        data = entry.read_bytes()
        where = f"orchestrator_gui/store/{_FOLDER}/{entry.name}"
        if len(data) > MAX_MIGRATION_BYTES:
            raise FormatError(where, f"migration is larger than {MAX_MIGRATION_BYTES} bytes")
        version = int(match.group(1))
        if version in found:
            raise FormatError(where, f"migration number {version:04d} is used by {found[version].name} too")
        found[version] = Migration(version, entry.name, data.decode("utf-8"))
        if len(found) > MAX_MIGRATIONS:
            raise FormatError(where, f"more than {MAX_MIGRATIONS} migrations")
    return [found[v] for v in sorted(found)]


def migrate(conninfo: str) -> int:
    """Bring the database at ``conninfo`` up to the package's newest schema; return that version.

    Parameters
    ----------
    conninfo : str
        A libpq connection string (URI or ``key=value``); passwords come from
        libpq's usual ``passfile``/``PGPASSWORD`` settings.

    Returns
    -------
    int
        The schema version now in the database (the highest applied migration).

    Raises
    ------
    psycopg.OperationalError
        The database cannot be reached (libpq's message, which never holds the password).
    psycopg.Error
        A migration failed; it was rolled back, the ones before it stay applied.
    """
    import psycopg

    todo = migrations()
    with psycopg.connect(conninfo, autocommit=True, connect_timeout=10) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATE_LOCK,))
        try:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                "applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
            )
            done = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
            for mig in todo:
                if mig.version in done:
                    continue
                with conn.transaction():
                    conn.execute(mig.sql.encode())  # bytes: run as written, no placeholder parsing
                    conn.execute("INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                                 (mig.version, mig.name))
            return schema_version(conn)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATE_LOCK,))


def schema_version(conn: object) -> int:
    """The highest migration recorded in the database of the open psycopg connection ``conn`` (0: none)."""
    try:
        row = conn.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001 - no table yet: nothing migrated
        return 0
    return int(row[0])


__all__ = ["MIGRATE_LOCK", "Migration", "migrate", "migrations", "schema_version"]
