"""Which workspace files changed since the last look, without Qt: for the headless server and scripts.

The desktop app watches with Qt (``ui/watcher.py``). A headless process calls
:meth:`FileWatch.poll` every fraction of a second on the thread that owns
the session: a ``stat`` per file, and a content hash only when the
``stat`` moved, so a poll costs microseconds while nothing happens. A file
counts as changed only when its bytes did (an agent that rewrites a file
with the same content changes nothing). :meth:`FileWatch.acknowledge`
takes in a write the process made itself, so it is reported once, by
whoever made it, and not again by the watch.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from orchestrator_gui.formats import workspace as wsfiles

#: The files watched, relative to the workspace root (those the app shows).
WATCHED: tuple[str, ...] = tuple(p.as_posix() for p in (
    wsfiles.SCHEDULES, wsfiles.TODO, wsfiles.MEMORY, wsfiles.TIMING, wsfiles.TIMING_CSV, wsfiles.ROOMODES))
#: Largest file hashed; a bigger one is compared by its stat alone.
MAX_HASHED = 64 * 1024 * 1024


def _stat(path: Path) -> tuple[int, int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns


def _digest(path: Path, size: int) -> str | None:
    if size > MAX_HASHED:
        return f"size:{size}"
    try:
        with open(path, "rb") as fh:
            return hashlib.blake2b(fh.read(MAX_HASHED + 1), digest_size=16).hexdigest()
    except OSError:
        return None


class FileWatch:
    """Polls the workspace files of ``root`` for changed bytes.

    Parameters
    ----------
    root : path-like
    names : tuple of str
        Workspace-relative files to watch (default :data:`WATCHED`).
    """

    def __init__(self, root: str | os.PathLike[str], names: tuple[str, ...] = WATCHED) -> None:
        self.root = Path(root)
        self.names = names
        self._stats: dict[str, tuple[int, int, int, int] | None] = {}
        self._digests: dict[str, str | None] = {}
        for name in names:
            self._look(name)

    def _look(self, name: str) -> bool:
        """Take the file's state now; True when its bytes differ from the last state taken."""
        path = self.root / name
        st = _stat(path)
        if name in self._stats and st == self._stats[name]:
            return False
        self._stats[name] = st
        digest = None if st is None else _digest(path, st[1])
        changed = digest != self._digests.get(name, "")
        self._digests[name] = digest
        return changed

    def poll(self) -> list[str]:
        """The names of the watched files whose bytes changed (appeared, vanished) since the last poll."""
        return [name for name in self.names if self._look(name)]

    def acknowledge(self, name: str) -> None:
        """Take in the file's present state without reporting it (this process wrote it)."""
        if name in self.names:
            self._stats.pop(name, None)
            self._look(name)


__all__ = ["FileWatch", "MAX_HASHED", "WATCHED"]
