"""Swap a damaged store for a freshly written one, keeping the damaged files beside it.

Order of the steps, and why
---------------------------
The new store is written completely (closed, its WAL checkpointed away,
fsynced) under a temporary name in the same folder before anything here
runs.  Then:

1. ``graph.db`` gets a second name, ``graph.db.damaged-<time>`` (a hard link;
   a copy where links are not supported), so the old bytes never leave a
   name that points at them;
2. ``-wal`` and ``-shm`` move to ``graph.db.damaged-<time>-wal``/``-shm``:
   they must be gone before a new ``graph.db`` appears, or SQLite would apply
   the old log's pages to the new file;
3. the old ``graph.db.seq`` sidecar moves aside too (else it would report the
   old journal's length as missing from the new one);
4. ``os.replace`` puts the new store at ``graph.db`` in one atomic step, and
   its own sidecar follows;
5. the folder is fsynced so the renames survive a power cut.

A crash at any point leaves either the old store or the new one at
``graph.db``, and the old one complete under the new name from step 2 on.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import time
from pathlib import Path

from orchestrator_gui.store.sidecar import seq_path

#: Files that belong to a store beside the database itself.
COMPANIONS = ("-wal", "-shm")
_MAX_TRIES = 1000


def stamp(now: float | None = None) -> str:
    """``YYYYmmddTHHMMSS`` of ``now`` (default: the current time) in local time, as the folder listing shows it."""
    return time.strftime("%Y%m%dT%H%M%S", time.localtime(time.time() if now is None else now))


def aside_path(db: str | os.PathLike[str], now: float | None = None) -> Path:
    """A free name ``<db>.damaged-<stamp>`` (``-2``, ``-3``... appended when taken)."""
    base = f"{os.fspath(db)}.damaged-{stamp(now)}"
    for i in range(1, _MAX_TRIES + 1):
        candidate = Path(base if i == 1 else f"{base}-{i}")
        if not any(Path(f"{candidate}{s}").exists() for s in ("", *COMPANIONS, ".seq")):
            return candidate
    raise FileExistsError(f"{base}: {_MAX_TRIES} earlier recoveries use this name")


def fingerprint(db: str | os.PathLike[str]) -> tuple:
    """Size and modification time of the database and its ``-wal``: changes when anyone writes the store."""
    out = []
    for p in (Path(db), Path(f"{os.fspath(db)}-wal")):
        try:
            st = p.stat()
            out.append((st.st_size, st.st_mtime_ns, st.st_ino))
        except FileNotFoundError:
            out.append(None)
    return tuple(out)


def finish(fresh: str | os.PathLike[str]) -> None:
    """Make the closed store ``fresh`` one self-contained file, flushed to the disk.

    Closing its last connection normally has SQLite copy the WAL into the
    file and delete ``-wal`` and ``-shm``; if a ``-wal`` is still there (a
    checkpoint that could not finish), it is checkpointed here, because
    :func:`install` moves the database file alone.
    """
    fresh = Path(fresh)
    if Path(f"{fresh}-wal").exists():
        conn = sqlite3.connect(fresh)
        try:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            conn.close()
    for suffix in COMPANIONS:
        leftover = Path(f"{fresh}{suffix}")
        if leftover.exists() and (suffix == "-shm" or leftover.stat().st_size == 0):
            leftover.unlink()
    if Path(f"{fresh}-wal").exists():
        raise OSError(f"{fresh}-wal: SQLite could not copy the new store's log into it")
    fd = os.open(fresh, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return  # not every platform can open a folder; the renames are still atomic
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _move(src: Path, dst: Path, moved: list[Path]) -> None:
    if src.exists():
        os.replace(src, dst)
        moved.append(dst)


def install(db: str | os.PathLike[str], fresh: str | os.PathLike[str], aside: str | os.PathLike[str]) -> list[Path]:
    """Set the store ``db`` aside as ``aside`` and put the closed store ``fresh`` in its place.

    Parameters
    ----------
    db : path-like
        The store to replace (``graph.db``).
    fresh : path-like
        The new store, complete and closed, in the same folder.
    aside : path-like
        Where the old one goes (see :func:`aside_path`).

    Returns
    -------
    list of Path
        The files now under the ``aside`` name (database first).

    Raises
    ------
    OSError
        When a rename fails; what was done so far is listed in the module
        docstring's order, so the old store is complete under one of its names.
    """
    db, fresh, aside = Path(db), Path(fresh), Path(aside)
    moved: list[Path] = []
    try:
        os.link(db, aside)
    except OSError:
        shutil.copy2(db, aside)  # a filesystem without hard links (some network and FAT drives)
    moved.append(aside)
    for suffix in COMPANIONS:
        _move(Path(f"{db}{suffix}"), Path(f"{aside}{suffix}"), moved)
    _move(seq_path(db), seq_path(aside), moved)
    os.replace(fresh, db)
    if seq_path(fresh).exists():
        os.replace(seq_path(fresh), seq_path(db))
    _fsync_dir(db.parent)
    return moved
