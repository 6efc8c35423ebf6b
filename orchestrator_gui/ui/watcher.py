"""Watch the workspace files and report which ones really changed, debounced.

Agents and the Roo extension rewrite the workspace files, often several
times in a burst (the scheduler rewrites ``schedules.json`` every minute while
it waits; an agent appends a start and an end row to the timing file).
:class:`WorkspaceWatcher` collects the notifications of a burst and, after a
short quiet period, compares each file's content hash with the last one
seen, so ``changed`` fires once per burst and only for files whose bytes
differ. Editors write by rename, which drops an inotify watch on the old
inode, so watches are re-armed after every burst.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from PySide6.QtCore import QFileSystemWatcher, QObject, QTimer, Signal

from orchestrator_gui.formats import workspace as wsfiles

#: The files the app shows, relative to the workspace root.
WATCHED_FILES: tuple[str, ...] = tuple(p.as_posix() for p in (
    wsfiles.SCHEDULES, wsfiles.TODO, wsfiles.MEMORY, wsfiles.TIMING, wsfiles.TIMING_CSV, wsfiles.ROOMODES))


def file_digest(path: Path) -> str | None:
    """Content hash of ``path``, ``None`` when it does not exist or cannot be read."""
    try:
        with open(path, "rb") as fh:
            return hashlib.blake2b(fh.read(), digest_size=16).hexdigest()
    except OSError:
        return None


class WorkspaceWatcher(QObject):
    """Debounced change notification for the files of one workspace.

    Signals
    -------
    changed(list)
        Workspace-relative names (``"TODO.md"``, ``".roo/schedules.json"``)
        whose content changed, appeared or disappeared since the last report.

    Parameters
    ----------
    root : path-like
        The workspace folder.
    debounce_ms : int
        Quiet period after the last notification before files are compared.
        The default keeps the whole file→panel→graph path under a second.
    """

    changed = Signal(list)

    def __init__(self, root: str | os.PathLike[str], *, debounce_ms: int = 150, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.root = Path(root)
        self._fs = QFileSystemWatcher(self)
        self._fs.fileChanged.connect(self._poke)
        self._fs.directoryChanged.connect(self._poke)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(debounce_ms)
        self._timer.timeout.connect(self.check_now)
        self._digests: dict[str, str | None] = {name: file_digest(self.root / name) for name in WATCHED_FILES}
        self._arm()

    def _arm(self) -> None:
        """(Re-)add watches on the folders and on every watched file that exists now."""
        want = [str(self.root), str(self.root / ".roo")]
        want += [str(self.root / n) for n in WATCHED_FILES]
        present = set(self._fs.files()) | set(self._fs.directories())
        missing = [p for p in want if p not in present and os.path.exists(p)]
        if missing:
            self._fs.addPaths(missing)

    def _poke(self, _path: str = "") -> None:
        self._timer.start()

    def check_now(self) -> list[str]:
        """Compare every watched file with its last known hash now; emit and return the changed names."""
        self._timer.stop()
        out = []
        for name in WATCHED_FILES:
            d = file_digest(self.root / name)
            if d != self._digests.get(name):
                self._digests[name] = d
                out.append(name)
        self._arm()
        if out:
            self.changed.emit(out)
        return out

    def acknowledge(self, name: str) -> None:
        """Record the current bytes of ``name`` as seen (the app wrote them itself and handled it)."""
        rel = self.relative(name)
        if rel in self._digests:
            self._digests[rel] = file_digest(self.root / rel)

    def relative(self, path: str | os.PathLike[str]) -> str:
        """Workspace-relative POSIX name of ``path`` (unchanged when it is outside the workspace)."""
        p = Path(path)
        try:
            return p.resolve().relative_to(self.root.resolve()).as_posix() if p.is_absolute() else p.as_posix()
        except ValueError:
            return p.as_posix()

    @property
    def pending(self) -> bool:
        """True while a burst is being collected."""
        return self._timer.isActive()

    def stop(self) -> None:
        """Stop watching (the session is closing)."""
        self._timer.stop()
        paths = self._fs.files() + self._fs.directories()
        if paths:
            self._fs.removePaths(paths)
