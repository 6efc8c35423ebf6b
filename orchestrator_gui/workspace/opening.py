"""Before opening a folder: is it a workspace, and may a graph store be created in it?

Opening a folder must not write to it unasked. A folder that has no
``.orchestrator/`` yet gets one only with the user's consent (the app asks;
the CLI creates it only in ``graph build``); without consent the graph is
built in memory and nothing is written beside the files.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from orchestrator_gui.formats.workspace import Workspace, present_files
from orchestrator_gui.store import store_path


@dataclass(frozen=True)
class OpenPlan:
    """What opening ``root`` would find and need.

    Attributes
    ----------
    root : Path
    files : tuple of Path
        The agent-loop files present (schedules, TODO, memory, timing, modes).
    has_store : bool
        ``.orchestrator/graph.db`` exists.
    has_folder : bool
        ``.orchestrator/`` exists (the folder was set up for this app before).
    """

    root: Path
    files: tuple[Path, ...]
    has_store: bool
    has_folder: bool

    @property
    def is_workspace(self) -> bool:
        """The folder holds agent-loop files or this app's own folder."""
        return bool(self.files) or self.has_folder

    @property
    def needs_consent(self) -> bool:
        """Keeping a graph store here would create ``.orchestrator/``: ask first."""
        return not self.has_folder

    def question(self) -> tuple[str, str]:
        """The question to ask (text, detail) when :attr:`needs_consent`."""
        if self.is_workspace:
            names = ", ".join(str(p) for p in self.files)
            text = f"Keep the thought graph of {self.root.name} in {self.root / '.orchestrator'}?"
            detail = (f"Found: {names}. The graph store holds the thoughts you add, transforms and their "
                      "history. Without it the graph is built from the files in memory and is gone when you "
                      "close the workspace; nothing is written to the folder.")
        else:
            text = f"{self.root} is not an agent-loop workspace."
            detail = ("It has none of .roo/schedules.json, TODO.md, persistent-memory.md, task_timing.tsv or "
                      ".roomodes. Open it anyway? In memory, nothing is written to the folder.")
        return text, detail


def plan_open(root: str | os.PathLike[str]) -> OpenPlan:
    """Look at ``root`` without writing anything (a missing folder raises like opening it would)."""
    ws = Workspace.at(root)
    base = Path(root)
    files = tuple(p.relative_to(ws.root) for p in present_files(ws))
    return OpenPlan(base, files, store_path(base).is_file(), (base / ".orchestrator").is_dir())


__all__ = ["OpenPlan", "plan_open"]
