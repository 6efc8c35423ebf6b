"""The SQLite schema of the graph store, its connection settings and its version check.

Durability
----------
The database runs in WAL mode with ``synchronous=FULL``.  In WAL mode SQLite
appends each committed transaction to the ``-wal`` file; with ``FULL`` it
``fsync``\\ s that file before ``COMMIT`` returns, so once a journal row's
``COMMIT`` has returned the row survives a process kill, an OS crash and a
power cut.  ``NORMAL`` would only ``fsync`` at checkpoints: a ``COMMIT`` then
survives a killed process (the bytes are in the OS page cache) but the last
transactions can vanish in a power cut, which breaks the promise that a
committed graph transaction is never lost.  Measured on the reference
machine, ``FULL`` costs about 0.3 ms per commit, far inside the 5 ms budget,
so there is no reason to trade durability for speed.

Atomicity comes from SQLite as well: a journal row is written by one
``INSERT`` inside one SQLite transaction, so after any crash the row is either
completely there (and its checksum matches) or not there at all.  The
checksums guard against what SQLite cannot see: bytes damaged on disk or by
another program.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from orchestrator_gui.problems import FormatError

#: Value of ``meta.format``: tells our database apart from any other SQLite file.
STORE_FORMAT = "orchestrator-gui.graph-store"
#: Schema version written into ``meta.schema_version``; readers accept 1..this.
STORE_SCHEMA_VERSION = 1
#: Where the store lives inside a workspace.
STORE_RELPATH = Path(".orchestrator") / "graph.db"

_TABLES = """
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS journal (
    seq       INTEGER PRIMARY KEY,
    kind      TEXT NOT NULL,
    tx_id     TEXT NOT NULL,
    time      REAL NOT NULL,
    operation TEXT NOT NULL,
    codec     TEXT NOT NULL,
    payload   BLOB NOT NULL,
    checksum  TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS journal_tx_id ON journal (tx_id);
CREATE TABLE IF NOT EXISTS snapshot (
    id       INTEGER PRIMARY KEY,
    last_seq INTEGER NOT NULL,
    kind     TEXT NOT NULL,
    time     REAL NOT NULL,
    nodes    INTEGER NOT NULL,
    edges    INTEGER NOT NULL,
    codec    TEXT NOT NULL,
    raw_size INTEGER NOT NULL,
    data     BLOB NOT NULL,
    checksum TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS snapshot_last_seq ON snapshot (last_seq);
"""


def store_path(workspace: str | os.PathLike[str]) -> Path:
    """The default store file of ``workspace``: ``<workspace>/.orchestrator/graph.db``."""
    return Path(workspace) / STORE_RELPATH


def connect(path: str | os.PathLike[str], *, readonly: bool = False, durable: bool = True) -> sqlite3.Connection:
    """Open (creating if needed, unless ``readonly``) the store database and check its format.

    Parameters
    ----------
    path : path-like
        The ``graph.db`` file.
    readonly : bool
        Open an existing store for reading only (no schema creation, no writes).
    durable : bool
        ``synchronous=FULL`` (the default; see the module docstring).  False
        selects ``NORMAL``: commits still survive a killed process, not a
        power cut.  Only for throw-away stores (tests, benchmarks).

    Returns
    -------
    sqlite3.Connection
        In autocommit mode (``isolation_level=None``): every write in the store
        is wrapped in an explicit ``BEGIN IMMEDIATE`` ... ``COMMIT``.

    Raises
    ------
    FormatError
        When the file is missing (``readonly``), is not an SQLite database,
        belongs to another program or has a newer schema version.
    """
    p = Path(path)
    name = str(path)
    if readonly and not p.is_file():
        raise FormatError(name, "no graph store here (run 'orchestrator-gui graph build' first)")
    if not readonly:
        try:
            p.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise FormatError(name, f"cannot create folder: {exc.strerror or exc}") from None
    try:
        if readonly:
            conn = sqlite3.connect(f"{p.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None)
        else:
            conn = sqlite3.connect(p, isolation_level=None)
    except sqlite3.Error as exc:
        raise FormatError(name, f"cannot open the graph store: {exc}") from None
    try:
        conn.execute("PRAGMA busy_timeout = 5000")
        # Check before writing anything: another program's database must be left exactly as it is.
        fresh = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0
        if readonly or not fresh:
            _check_meta(conn, name)
            _check_pages(conn, name)
        if not readonly:
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise FormatError(name, f"cannot switch the store to WAL mode (got {mode!r})")
            conn.execute(f"PRAGMA synchronous = {'FULL' if durable else 'NORMAL'}")
            # Keep the -wal file from staying as large as the biggest snapshot ever written.
            conn.execute("PRAGMA journal_size_limit = 33554432")
            _create(conn)
            _check_meta(conn, name)
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise store_error(name, "not a readable graph store", exc) from None
    except BaseException:
        conn.close()
        raise
    return conn


#: SQLite's words for a damaged file (as opposed to a busy or read-only one).
_DAMAGE_WORDS = ("malformed", "not a database", "corrupt", "could not decode", "disk i/o error", "file is encrypted")


def is_damage(exc: sqlite3.Error) -> bool:
    """True when ``exc`` says the database file itself is damaged."""
    text = str(exc).lower()
    return any(word in text for word in _DAMAGE_WORDS)


def damage_advice(name: str) -> str:
    """What the user can do about a damaged store file ``name`` (appended to the error)."""
    return (f"the graph store is damaged; the workspace files are not affected. Run 'orchestrator-gui graph "
            f"recover': it keeps what SQLite can still read of {name} (thoughts made in the graph and their "
            f"history), rebuilds the rest from the workspace files and sets the damaged file aside as "
            f"{name}.damaged-<time>. Without it, moving {name} (with its -wal and -shm files) aside and running "
            "'orchestrator-gui graph build' loses every thought made in the graph")


def store_error(name: str, what: str, exc: sqlite3.Error) -> FormatError:
    """A :class:`FormatError` for an SQLite failure, with :func:`damage_advice` when the file is damaged."""
    detail = str(exc)
    # SQLite quotes the undecodable bytes of a damaged row ("... with text '<garbage>'"): leave them out.
    detail = detail.split(" with text ", 1)[0]
    message = f"{what}: {detail}"
    return FormatError(name, f"{message}; {damage_advice(name)}" if is_damage(exc) else message)


@contextlib.contextmanager
def reading(name: str, what: str = "cannot read the graph store") -> Iterator[None]:
    """Turn an SQLite error inside the block into a :class:`FormatError` that says what to do.

    Why: one overwritten page makes SQLite raise ``DatabaseError`` from any
    query that touches it, far from where the store was opened; every command
    must still end with a clean ``FILE: error: …`` line, never a traceback.
    """
    try:
        yield
    except sqlite3.DatabaseError as exc:
        raise store_error(name, what, exc) from None


def _create(conn: sqlite3.Connection) -> None:
    """Create the tables and the meta rows in one transaction (a crash leaves all or nothing)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        for statement in _TABLES.split(";"):
            if statement.strip():
                conn.execute(statement)
        conn.execute("INSERT OR IGNORE INTO meta VALUES ('format', ?)", (STORE_FORMAT,))
        conn.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(STORE_SCHEMA_VERSION),))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _check_pages(conn: sqlite3.Connection, name: str) -> None:
    """Refuse a file whose pages SQLite finds damaged (``PRAGMA quick_check``), naming the way out.

    Why on every open: a damaged page otherwise surfaces only when some later
    query happens to touch it (a history listing, a snapshot prune), far from
    here and after the store may have been written to.  ``quick_check``
    follows every b-tree and overflow chain without reading the cell
    contents (the journal and snapshot checksums cover those): about 10 ms
    for a 33 MB store of 100k nodes and 500k edges.  It raises
    ``DatabaseError`` itself for some damage; :func:`connect` turns that into
    the same message.
    """
    rows = conn.execute("PRAGMA quick_check(3)").fetchall()
    if rows == [("ok",)]:
        return
    detail = " / ".join(" ".join(str(r[0]).split()) for r in rows)[:300]
    raise FormatError(name, f"the graph store file is damaged (SQLite's check says: {detail}); "
                            f"{damage_advice(name)}")


def _check_meta(conn: sqlite3.Connection, name: str) -> None:
    try:
        meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    except sqlite3.OperationalError:
        raise FormatError(name, "SQLite database without a 'meta' table: not a graph store") from None
    if meta.get("format") != STORE_FORMAT:
        raise FormatError(name, f"SQLite database of another program (format {meta.get('format')!r})")
    version = meta.get("schema_version", "")
    if not version.isdigit() or not 1 <= int(version) <= STORE_SCHEMA_VERSION:
        raise FormatError(
            name, f"store schema_version {version!r} is not supported (this version reads 1..{STORE_SCHEMA_VERSION})"
        )
