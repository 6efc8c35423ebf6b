"""The journal's last committed seq kept outside the database, so a lost ``-wal`` file is noticed.

Why a sidecar file
------------------
In WAL mode a commit is durable once it is in ``graph.db-wal``; SQLite copies
it into ``graph.db`` only at a checkpoint (every ~1000 pages, and when the
last connection closes).  Until then the newest transactions exist *only* in
the ``-wal`` file.  If that file is deleted (a cleanup tool, a copy or sync of
``graph.db`` alone, a user tidying up after a crash) SQLite opens the main
file as a perfectly valid, older database: nothing inside it can tell that
transactions are missing.  So the last seq must be kept somewhere the WAL's
fate does not touch:

* not in the database (a ``meta`` row is written through the same WAL and is
  lost with it);
* not in ``-shm`` (an index SQLite rebuilds at will, deleted with the WAL);
* so: a tiny file ``graph.db.seq`` beside the database, rewritten after
  each committed transaction.

It is written *after* the commit, and never ``fsync``\\ ed: after a power cut
it can only be behind the database, or missing, never ahead of it (the
database commit was synced first).  A sidecar that is behind only weakens the
check, it never raises a false alarm, so the fsync (as costly as the commit's
own) is not worth paying on every transaction.

The file holds one fixed-width record, ``<seq, 20 digits> <crc32, 8 hex>\\n``
(30 bytes), which the store overwrites in place through a descriptor it keeps
open (:class:`SeqFile`).  Replacing the file instead (write a temporary one,
rename it) costs 1.5-4 ms per commit on ext4, which flushes a file's data
before a rename over it or a truncation; an in-place write of the same length
costs about a microsecond.  A reader that catches a write half done, or a file
torn by a crash, sees a record whose checksum fails and ignores it.

On open, a journal whose newest seq is below the sidecar's means committed
transactions are gone (:func:`check`).  A writable open records the loss in
the ``meta`` table (key ``lost_transactions``), so every later open keeps
saying so until ``graph recover`` makes a fresh store; only then is the
sidecar brought back in line, so the next commit does not hide the gap.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import time
import zlib
from pathlib import Path

from orchestrator_gui.problems import Problem

#: Suffix of the sidecar file: ``graph.db`` -> ``graph.db.seq``.
SUFFIX = ".seq"
#: Bytes of the one record a sidecar holds.
RECORD_BYTES = 30
_RECORD = re.compile(rb"(\d{20}) ([0-9a-f]{8})\n")
#: Highest seq accepted (journal seqs are SQLite integers; no store gets near this).
MAX_SEQ = 2**62
#: ``meta`` key under which a detected loss is remembered (JSON list of ``{"after", "count", "time"}``).
LOST_KEY = "lost_transactions"
#: At most this many loss records are kept in ``meta`` (oldest dropped); each is a few dozen bytes.
_MAX_LOST_RECORDS = 100


def seq_path(db: str | os.PathLike[str]) -> Path:
    """The sidecar of database ``db``: ``<db>.seq``."""
    return Path(f"{os.fspath(db)}{SUFFIX}")


def _record(seq: int) -> bytes:
    if not 0 <= seq <= MAX_SEQ:
        raise ValueError(f"seq {seq} out of range")
    digits = b"%020d" % seq
    return digits + b" %08x\n" % zlib.crc32(digits)


def read_seq(db: str | os.PathLike[str]) -> int | None:
    """The seq recorded beside ``db``, or ``None`` when there is no usable sidecar.

    A missing, unreadable, torn or malformed sidecar gives ``None``: it
    cannot say anything, and the next commit rewrites it.
    """
    try:
        with open(seq_path(db), "rb") as fh:
            data = fh.read(RECORD_BYTES)
    except OSError:
        return None
    m = _RECORD.fullmatch(data)
    if m is None or int(m[2], 16) != zlib.crc32(m[1]):
        return None
    value = int(m[1])
    return value if value <= MAX_SEQ else None


class SeqFile:
    """The sidecar of one store, kept open; each :meth:`write` overwrites its one record in place."""

    def __init__(self, db: str | os.PathLike[str]) -> None:
        self.path = seq_path(db)
        self._fd: int | None = None
        self._failed = False

    def write(self, seq: int) -> None:
        """Record ``seq``.

        Raises
        ------
        OSError
            When the file cannot be opened or written; the caller reports it.
        ValueError
            When ``seq`` is out of range.
        """
        record = _record(seq)
        if self._fd is None:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_BINARY", 0), 0o666)
            try:
                if os.fstat(fd).st_size != RECORD_BYTES:
                    os.ftruncate(fd, 0)  # once: another length (damage, an older format) would leave a tail
            except OSError:
                os.close(fd)
                raise
            self._fd = fd
        # lseek + write rather than pwrite, which Windows lacks; a store is used from one thread.
        os.lseek(self._fd, 0, os.SEEK_SET)
        if os.write(self._fd, record) != RECORD_BYTES:
            raise OSError(f"{self.path}: short write")

    def record(self, seq: int) -> Problem | None:
        """:meth:`write`, reporting a failure as a warning the first time only (``None`` otherwise).

        A failure loses nothing (the commit is durable already): only a
        later loss of the ``-wal`` file would then go unnoticed.
        """
        try:
            self.write(seq)
        except OSError as exc:
            if self._failed:
                return None
            self._failed = True
            return Problem(file=str(self.path), severity="warning",
                           message=f"cannot record the last commit ({exc}); a lost -wal file would go unnoticed")
        return None

    def close(self) -> None:
        """Close the descriptor (the record stays)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def write_seq(db: str | os.PathLike[str], seq: int) -> None:
    """Record ``seq`` beside ``db`` once (opening and closing the file); see :class:`SeqFile`."""
    f = SeqFile(db)
    try:
        f.write(seq)
    finally:
        f.close()


def remove_seq(db: str | os.PathLike[str]) -> None:
    """Delete the sidecar of ``db`` if there is one (a new database must not inherit an old number)."""
    try:
        seq_path(db).unlink()
    except FileNotFoundError:
        pass


def parse_lost(value: object) -> list[dict]:
    """The loss records in a ``meta`` ``lost_transactions`` value (malformed or oversized: none)."""
    if not isinstance(value, str) or len(value) > 64 * 1024:
        return []
    try:
        data = json.loads(value)
    except ValueError:
        return []
    if not isinstance(data, list):
        return []
    return [r for r in data if isinstance(r, dict) and all(
        isinstance(r.get(k), int) and not isinstance(r.get(k), bool) and 0 <= r[k] <= MAX_SEQ
        for k in ("after", "count"))]


def _lost_records(conn: sqlite3.Connection) -> list[dict]:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (LOST_KEY,)).fetchone()
    return [] if row is None else parse_lost(row[0])


def _message(name: str, count: int, after: int, *, earlier: bool) -> str:
    what = f"{count} committed transaction{'s' if count != 1 else ''}"
    where = f"journal records {after + 1}..{after + count}"
    when = f"were lost earlier (as {where}; later ones reuse those numbers)" if earlier else f"({where}) are missing"
    return (f"{what} {when}: the write-ahead log {name}-wal was deleted or lost before SQLite copied it into "
            f"{name}, and they cannot be read back. Run 'orchestrator-gui graph recover' to rebuild the graph "
            "from the workspace files and keep what the store still holds")


def check(conn: sqlite3.Connection, db: str | os.PathLike[str], *, readonly: bool) -> list[Problem]:
    """Compare the journal with the sidecar; warn (and, writable, remember) when transactions are missing.

    Parameters
    ----------
    conn : sqlite3.Connection
        The store's connection (autocommit mode), already loaded.
    db : path-like
        The database file.
    readonly : bool
        A read-only open reports but records nothing.

    Returns
    -------
    list of Problem
        ``warning`` problems naming how many transactions are missing, now
        or in an earlier open; empty when nothing is missing.
    """
    name = os.fspath(db)
    newest = conn.execute("SELECT coalesce(max(seq), 0) FROM journal").fetchone()[0]
    side = read_seq(db)
    problems = [Problem(file=name, severity="warning", message=_message(name, r["count"], r["after"], earlier=True))
                for r in _lost_records(conn)]
    if side is None or side <= newest:
        return problems
    count = side - newest
    problems.append(Problem(file=name, severity="warning", message=_message(name, count, newest, earlier=False)))
    if not readonly:
        records = [*_lost_records(conn), {"after": newest, "count": count, "time": time.time()}]
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                         (LOST_KEY, json.dumps(records[-_MAX_LOST_RECORDS:])))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        # Only now, with the loss remembered inside the database, may the sidecar follow the journal.
        try:
            write_seq(db, newest)
        except OSError:
            pass  # the next commit rewrites it; the loss is already recorded
    return problems
