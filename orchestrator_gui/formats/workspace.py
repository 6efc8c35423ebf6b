"""Where the workspace files live, and a whole-workspace validation pass."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from orchestrator_gui.problems import FormatError, Problem

SCHEDULES = Path(".roo") / "schedules.json"
TODO = Path("TODO.md")
MEMORY = Path("persistent-memory.md")
TIMING = Path("task_timing.tsv")
TIMING_CSV = Path("task_timing.csv")
ROOMODES = Path(".roomodes")


@dataclass(frozen=True)
class Workspace:
    """A Loop Orchestrator workspace folder.

    Paths are joined onto ``root`` as given, so a relative root (the
    default ``.``) yields relative file names in messages, as users expect.
    """

    root: Path

    @classmethod
    def at(cls, root: str | os.PathLike[str]) -> Workspace:
        """Return the workspace at ``root``; raises FormatError if it is not a folder."""
        p = Path(root)
        if not p.exists():
            raise FormatError(str(p), "workspace folder does not exist")
        if not p.is_dir():
            raise FormatError(str(p), "workspace is not a folder")
        return cls(p)

    def path(self, rel: Path) -> Path:
        """Absolute-or-relative path of one workspace file."""
        return rel if str(self.root) in ("", ".") else self.root / rel

    @property
    def schedules(self) -> Path:
        return self.path(SCHEDULES)

    @property
    def todo(self) -> Path:
        return self.path(TODO)

    @property
    def memory(self) -> Path:
        return self.path(MEMORY)

    @property
    def timing(self) -> Path:
        return self.path(TIMING)

    @property
    def timing_csv(self) -> Path:
        return self.path(TIMING_CSV)

    @property
    def roomodes(self) -> Path:
        return self.path(ROOMODES)


def _loaders() -> list[tuple[str, Callable[[Path], Any]]]:
    # Imported lazily so that importing this module stays cheap.
    from orchestrator_gui.formats.memory import load_memory
    from orchestrator_gui.formats.roomodes import load_modes
    from orchestrator_gui.formats.schedules import load_schedules
    from orchestrator_gui.formats.timing import load_timing
    from orchestrator_gui.formats.todo import load_todo

    return [
        ("schedules", load_schedules),
        ("todo", load_todo),
        ("memory", load_memory),
        ("timing", load_timing),
        ("timing_csv", load_timing),
        ("roomodes", load_modes),
    ]


def present_files(ws: Workspace) -> list[Path]:
    """The workspace files that exist (or exist as something other than a file)."""
    return [getattr(ws, attr) for attr, _ in _loaders() if os.path.lexists(getattr(ws, attr))]


def check_workspace(ws: Workspace) -> list[Problem]:
    """Validate every workspace file that exists; unreadable files become error problems.

    A missing file is not a problem (a workspace need not use every file),
    but a path that exists and is not a readable file is.
    """
    problems: list[Problem] = []
    for attr, loader in _loaders():
        path: Path = getattr(ws, attr)
        if not os.path.lexists(path):
            continue
        try:
            doc = loader(path)
        except FormatError as exc:
            problems.append(exc.problem)
            continue
        problems.extend(doc.problems())
    return problems
