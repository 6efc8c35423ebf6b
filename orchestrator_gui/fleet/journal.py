"""The loop's offline journal: what a machine did while the fleet database was unreachable.

With ``offline = "local"`` a machine fires due slots on its own while the
database is down; its claims (and their finishes) and its ``runs`` rows are
written here and replayed into the database when it is reachable again, by
this process or, after a restart, by the next one in the workspace
(``.orchestrator/fleet-claims.jsonl``, ``.orchestrator/fleet-runs.jsonl``).

One JSON object per line, appended with one ``write`` under an exclusive
``flock``; a replay rewrites the file atomically with what is left. Limits:
:data:`MAX_ENTRIES` entries, :data:`MAX_LINE` bytes a line; a line that does
not parse is skipped and counted (:attr:`OfflineJournal.bad_lines`).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

#: Most entries kept (a week offline at one run a minute is about 10 000); older ones are dropped.
MAX_ENTRIES = 20_000
#: Longest line read.
MAX_LINE = 64 * 1024


class MemoryJournal:
    """The journal of a process that has no workspace folder to write to (lost when it exits)."""

    def __init__(self) -> None:
        self._entries: list[dict[str, Any]] = []
        self._lock = threading.RLock()
        self.bad_lines = 0

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the journal while reading and rewriting it."""
        with self._lock:
            yield

    def append(self, entry: dict[str, Any]) -> None:
        """Add one entry (the oldest go past :data:`MAX_ENTRIES`)."""
        with self._lock:
            self._entries.append(dict(entry))
            del self._entries[:-MAX_ENTRIES]

    def load(self) -> list[dict[str, Any]]:
        """Every entry, oldest first."""
        with self._lock:
            return [dict(e) for e in self._entries]

    def pending(self) -> bool:
        """Whether anything waits for a replay (cheap: called at every look of the loop)."""
        return bool(self._entries)

    def replace(self, entries: list[dict[str, Any]]) -> None:
        """Keep only ``entries`` (what a replay left)."""
        with self._lock:
            self._entries = [dict(e) for e in entries[-MAX_ENTRIES:]]


class OfflineJournal(MemoryJournal):
    """A journal in a JSON-lines file (see the module docs).

    Parameters
    ----------
    path : path-like
        The file; created (with its folder) on the first append.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        super().__init__()
        self.path = Path(path)
        self._depth = 0

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        # A thread lock for this process, a file lock for the others (the app and a CLI in one workspace).
        # Re-entrant: a replay holds it around load and replace, and a second flock on a new descriptor
        # of the same file would wait for the first forever.
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path.with_name(self.path.name + ".lock"), "a") as fh:
                fcntl.flock(fh, fcntl.LOCK_EX)
                self._depth = 1
                try:
                    yield
                finally:
                    self._depth = 0
                    fcntl.flock(fh, fcntl.LOCK_UN)

    def append(self, entry: dict[str, Any]) -> None:
        line = json.dumps(entry, ensure_ascii=False, separators=(",", ":")) + "\n"
        with self.locked(), open(self.path, "a", encoding="utf-8") as fh:
            fh.write(line)

    def load(self) -> list[dict[str, Any]]:
        with self.locked():
            return self._read()

    def pending(self) -> bool:
        return self.path.exists()

    def _read(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        out: list[dict[str, Any]] = []
        with open(self.path, "rb") as fh:
            for raw in fh:
                if len(raw) > MAX_LINE:
                    self.bad_lines += 1
                    continue
                try:
                    value = json.loads(raw)
                except ValueError:
                    self.bad_lines += 1
                    continue
                if isinstance(value, dict):
                    out.append(value)
        return out[-MAX_ENTRIES:]

    def replace(self, entries: list[dict[str, Any]]) -> None:
        with self.locked():
            if not entries:
                with contextlib.suppress(FileNotFoundError):
                    self.path.unlink()
                return
            tmp = self.path.with_name(self.path.name + ".tmp")
            with open(tmp, "w", encoding="utf-8") as fh:
                fh.writelines(json.dumps(e, ensure_ascii=False, separators=(",", ":")) + "\n"
                              for e in entries[-MAX_ENTRIES:])
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)


__all__ = ["MAX_ENTRIES", "MAX_LINE", "MemoryJournal", "OfflineJournal"]
