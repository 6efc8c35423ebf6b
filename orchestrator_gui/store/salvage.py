"""Read what SQLite can still read of a damaged graph store (for ``graph recover``).

How, and why this way
---------------------
The sqlite3 shell's ``.recover`` (which scans every page for anything that
looks like a row) is not reachable from Python's :mod:`sqlite3` module.
:meth:`sqlite3.Connection.iterdump` runs one ``SELECT *`` per table and
stops at the first ``DatabaseError``: one bad page early in the journal loses
every later row of it, and the rows come back as SQL text to be parsed again.
So each table is walked through its rowid b-tree only (never through an
index, which may be damaged too and is not needed):

1. ``SELECT rowid, ... WHERE rowid > ? ORDER BY rowid LIMIT 256``: the
   normal case, fast;
2. when such a chunk raises ``DatabaseError``, the next rowid is looked up
   on its own (the key alone, no row content) and that row is read by itself:
   a row whose content (an overflow page of a large payload) is damaged is
   lost alone;
3. when even the next key cannot be found, a page of the b-tree is
   unreadable: probes ``WHERE rowid > x`` with ``x`` growing in doubling
   steps find a key past the damage, and a bisection finds the first one,
   so the walk resumes right after the unreadable range (each probe is a
   single b-tree descent; a bad page costs a few dozen queries).

The rowid ranges that could not be read are kept: journal seqs are dense,
so they count the transactions lost.  The values read are type-checked
(a damaged page could yield odd values); their checksums are checked later,
when they are decoded.

The damaged file (and its ``-wal``, which may hold the newest commits) is
copied to a temporary folder and only the copy is opened: SQLite writes to a
database it opens (WAL recovery, a checkpoint on close), and the file set
aside must stay exactly as it was found.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from orchestrator_gui.problems import FormatError
from orchestrator_gui.store.records import Row
from orchestrator_gui.store.schema import STORE_FORMAT, STORE_SCHEMA_VERSION

#: Rows per normal read.
CHUNK = 256
#: A walk stops after this many rows or failed steps (a bound on the work a hostile file can cause);
#: what lies beyond is reported as unreadable.
MAX_STEPS = 10_000_000
_MIN_ROWID = -(2**63)
_MAX_ROWID = 2**63 - 1
_JOURNAL_COLUMNS = "seq, kind, tx_id, time, operation, codec, payload, checksum"
_SNAPSHOT_COLUMNS = "id, last_seq, kind, time, nodes, edges, codec, raw_size, data, checksum"


@dataclass(frozen=True)
class SnapshotRow:
    """One row of the ``snapshot`` table as read (its checksum not yet verified)."""

    id: int
    last_seq: int
    kind: str
    time: float
    nodes: int
    edges: int
    codec: str
    raw_size: int
    data: bytes
    checksum: str


@dataclass
class TableRead:
    """What a walk of one table found.

    Attributes
    ----------
    rows : list of tuple
        Rows read, rowid order (values as SQLite returned them, rowid first).
    gaps : list of (int, int)
        Inclusive rowid ranges that could not be read (a damaged b-tree page);
        the second value is the largest possible rowid when the damage runs to the end.
    bad_rows : list of int
        Rowids whose key was found but whose content could not be read or had wrong types.
    missing : bool
        The table is not in the schema (or the schema could not be read).
    """

    rows: list[tuple] = field(default_factory=list)
    gaps: list[tuple[int, int]] = field(default_factory=list)
    bad_rows: list[int] = field(default_factory=list)
    missing: bool = False


@dataclass
class Salvaged:
    """Everything readable in a damaged store.

    Attributes
    ----------
    path : Path
        The database file salvaged.
    error : str or None
        Why nothing at all could be read (the schema page is unreadable,
        the file is not an SQLite database); ``None`` otherwise.
    damage : list of str
        What SQLite's ``quick_check`` said about the copy (empty: it found nothing).
    meta : dict
        The ``meta`` table as read.
    journal : list of Row
        Journal rows read, seq order (checksums not verified yet).
    journal_read : TableRead
    snapshots : list of SnapshotRow
        Snapshot rows read, id order (checksums not verified yet).
    snapshot_read : TableRead
    """

    path: Path
    error: str | None = None
    damage: list[str] = field(default_factory=list)
    meta: dict[str, str] = field(default_factory=dict)
    journal: list[Row] = field(default_factory=list)
    journal_read: TableRead = field(default_factory=TableRead)
    snapshots: list[SnapshotRow] = field(default_factory=list)
    snapshot_read: TableRead = field(default_factory=TableRead)

    @property
    def journal_unreadable(self) -> int:
        """Journal records known to exist (or, inside an unreadable range, bound to) that could not be read.

        A range running to the end of the table is counted only up to the
        highest seq read: how far it really went is unknown (the caller
        compares with the ``graph.db.seq`` sidecar).
        """
        top = max((r.seq for r in self.journal), default=0)
        lost = len(self.journal_read.bad_rows)
        for first, last in self.journal_read.gaps:
            lo, hi = max(first, 1), min(last, top)
            lost += max(0, hi - lo + 1)
        return lost


def _first_after(conn: sqlite3.Connection, table: str, x: int) -> int | None:
    """The first rowid above ``x`` (``None``: none); raises ``DatabaseError`` when the b-tree is unreadable there."""
    row = conn.execute(f"SELECT rowid FROM {table} WHERE rowid > ? ORDER BY rowid LIMIT 1", (x,)).fetchone()
    return None if row is None else int(row[0])


def _probe(conn: sqlite3.Connection, table: str, x: int) -> tuple[bool, int | None]:
    try:
        return True, _first_after(conn, table, x)
    except sqlite3.DatabaseError:
        return False, None


def _skip_damage(conn: sqlite3.Connection, table: str, pos: int) -> tuple[int, int | None]:
    """Past an unreadable range that starts after rowid ``pos``: ``(x, next)``.

    ``x`` is the smallest rowid above ``pos`` from which the b-tree can be
    searched again and ``next`` the first rowid above ``x`` (``None``: none).
    ``x`` is ``_MAX_ROWID`` when the damage runs to the end.
    """
    step, bad = 1, pos
    while True:
        x = min(pos + step, _MAX_ROWID)
        ok, nxt = _probe(conn, table, x)
        if ok:
            break
        bad = x
        if x == _MAX_ROWID:
            return _MAX_ROWID, None
        step *= 2
    good, good_next = x, nxt
    while good - bad > 1:  # the smallest readable x in (bad, good]
        mid = bad + (good - bad) // 2
        ok, nxt = _probe(conn, table, mid)
        if ok:
            good, good_next = mid, nxt
        else:
            bad = mid
    return good, good_next


def walk(conn: sqlite3.Connection, table: str, columns: str, check: Callable[[tuple], bool]) -> TableRead:
    """Read every row of ``table`` that SQLite can still read (see the module docstring).

    Parameters
    ----------
    conn : sqlite3.Connection
    table : str
        A table name of our schema (never user data: it is put into SQL).
    columns : str
        The columns to read, after the rowid.
    check : callable
        ``check(row) -> bool``: whether a row's values have the right types.

    Returns
    -------
    TableRead
    """
    out = TableRead()
    chunk_sql = f"SELECT rowid, {columns} FROM {table} WHERE rowid > ? ORDER BY rowid LIMIT {CHUNK}"
    one_sql = f"SELECT rowid, {columns} FROM {table} WHERE rowid = ?"
    pos, steps = _MIN_ROWID, 0
    while True:
        if steps >= MAX_STEPS:  # never in a real store: the rest is reported unread, not dropped silently
            out.gaps.append((pos + 1, _MAX_ROWID))
            break
        try:
            chunk = conn.execute(chunk_sql, (pos,)).fetchall()
        except sqlite3.DatabaseError:
            chunk = None
        if chunk is not None:
            if not chunk:
                break
            for values in chunk:
                if check(values):
                    out.rows.append(values)
                else:
                    out.bad_rows.append(int(values[0]))
            pos = int(chunk[-1][0])
            steps += len(chunk)
            continue
        steps += 1
        ok, key = _probe(conn, table, pos)
        if ok and key is None:
            break
        if ok:
            try:
                values = conn.execute(one_sql, (key,)).fetchone()
            except sqlite3.DatabaseError:
                values = None
            if values is not None and check(values):
                out.rows.append(values)
            else:
                out.bad_rows.append(key)
            pos = key
            continue
        x, nxt = _skip_damage(conn, table, pos)
        # The probe from x says nothing of row x itself (a divider key sits at the end of the damaged page's
        # range or at the start of the next one): look it up on its own.
        try:
            at_x = conn.execute(one_sql, (x,)).fetchone()
        except sqlite3.DatabaseError:
            at_x = None
        if at_x is not None and check(at_x):
            out.gaps.append((pos + 1, x - 1))
            out.rows.append(at_x)
        else:
            out.gaps.append((pos + 1, x if nxt is None else min(x, nxt - 1)))
        if nxt is None:
            break
        pos = x
    return out


def _journal_ok(v: tuple) -> bool:
    return (len(v) == 9 and isinstance(v[0], int) and v[0] == v[1] and isinstance(v[2], str)
            and isinstance(v[3], str) and isinstance(v[4], int | float) and isinstance(v[5], str)
            and isinstance(v[6], str) and isinstance(v[7], bytes) and isinstance(v[8], str))


def _snapshot_ok(v: tuple) -> bool:
    return (len(v) == 11 and isinstance(v[0], int) and v[0] == v[1] and isinstance(v[2], int)
            and isinstance(v[3], str) and isinstance(v[4], int | float) and isinstance(v[5], int)
            and isinstance(v[6], int) and isinstance(v[7], str) and isinstance(v[8], int)
            and isinstance(v[9], bytes) and isinstance(v[10], str))


def _copy(db: Path, folder: Path) -> Path:
    """Copy ``db`` and its ``-wal`` (not ``-shm``: SQLite rebuilds that index) into ``folder``."""
    target = folder / "graph.db"
    shutil.copyfile(db, target)
    wal = Path(f"{db}-wal")
    if wal.is_file():
        shutil.copyfile(wal, Path(f"{target}-wal"))
    return target


def _quick_check(conn: sqlite3.Connection) -> list[str]:
    try:
        rows = conn.execute("PRAGMA quick_check(20)").fetchall()
    except sqlite3.DatabaseError as exc:
        return [str(exc)]
    lines = [" ".join(str(r[0]).split()) for r in rows]
    return [] if lines == ["ok"] else lines


def _read_meta(conn: sqlite3.Connection) -> dict[str, str]:
    read = walk(conn, "meta", "key, value", lambda v: len(v) == 3 and isinstance(v[1], str) and isinstance(v[2], str))
    return {k: v for _, k, v in read.rows}


def _refuse_foreign(name: str, tables: set[str], meta: dict[str, str]) -> None:
    """Raise when the file is readable enough to show it is not our store (then nothing is touched)."""
    if meta.get("format") not in (None, STORE_FORMAT):
        raise FormatError(name, f"SQLite database of another program (format {meta['format']!r}); not recovering it")
    version = meta.get("schema_version", "")
    if version.isdigit() and int(version) > STORE_SCHEMA_VERSION:
        raise FormatError(name, f"store schema_version {version} was written by a newer version of this program; "
                                "not recovering it")
    if tables and not tables & {"meta", "journal", "snapshot"}:
        raise FormatError(name, "SQLite database without the graph store's tables; not recovering it")


def salvage(db: str | os.PathLike[str]) -> Salvaged:
    """Read what can be read of the store ``db`` (a copy of it; the file itself is not changed).

    Parameters
    ----------
    db : path-like
        The ``graph.db`` file, damaged or not.

    Returns
    -------
    Salvaged
        Never raises for damage: an unreadable file gives ``error`` and
        nothing salvaged.

    Raises
    ------
    FormatError
        When ``db`` does not exist or cannot be copied, or is readable
        enough to show it belongs to another program or a newer version.
    """
    path = Path(db)
    name = str(db)
    if not path.is_file():
        raise FormatError(name, "no graph store here: nothing to recover")
    result = Salvaged(path)
    with tempfile.TemporaryDirectory(prefix="graph-recover-") as folder:
        try:
            copy = _copy(path, Path(folder))
        except OSError as exc:
            raise FormatError(name, f"cannot copy the store to read it: {exc.strerror or exc}") from None
        conn = sqlite3.connect(copy, isolation_level=None)
        try:
            try:
                # Check each cell's size against its page: a damaged page raises instead of yielding garbage.
                conn.execute("PRAGMA cell_size_check = ON")
                tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            except sqlite3.DatabaseError as exc:
                result.error = str(exc)
                return result
            result.damage = _quick_check(conn)
            result.meta = _read_meta(conn) if "meta" in tables else {}
            _refuse_foreign(name, tables, result.meta)
            if "journal" in tables:
                result.journal_read = walk(conn, "journal", _JOURNAL_COLUMNS, _journal_ok)
                result.journal = [Row(*v[1:]) for v in result.journal_read.rows]
            else:
                result.journal_read = TableRead(missing=True)
            if "snapshot" in tables:
                result.snapshot_read = walk(conn, "snapshot", _SNAPSHOT_COLUMNS, _snapshot_ok)
                result.snapshots = [SnapshotRow(*v[1:]) for v in result.snapshot_read.rows]
            else:
                result.snapshot_read = TableRead(missing=True)
        finally:
            conn.close()
    return result
